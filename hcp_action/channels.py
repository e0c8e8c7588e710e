"""Channel reads and writes with their guards; every write is verified by the channel returned."""

from __future__ import annotations

from dataclasses import dataclass

import structlog

from hcp_action import interrupts
from hcp_action.errors import (
    ActionError,
    AlreadyExists,
    ChannelError,
    GuardRefused,
    HcpApiError,
    NotFound,
    TransportError,
    VersionFailed,
)
from hcp_action.hcp.client import HcpPackerClient
from hcp_action.hcp.models import Channel, Version
from hcp_action.waiter import check_usable

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class Assignment:
    channel: str
    before: str  # fingerprint held before this run ("" if none or the channel was new)
    after: str
    created: bool
    changed: bool
    before_name: str = ""
    after_name: str = ""


def guard(version: Version, *, action: str, error: type[ActionError] = GuardRefused) -> list[str]:
    """What every version handed out passes (channel changes, lookup): complete, not revoked,
    artifacts in every build. Returns the results for the summary."""
    label = f"{version.name or '?'} ({version.fingerprint})"
    if not version.is_complete:
        raise error(
            f"{action} refused: version {label} is not complete",
            fix="wait until its build finishes, or choose another version.",
        )
    if version.is_revoked:
        raise error(
            f"{action} refused: version {label} is revoked or scheduled for revocation",
            fix="choose a valid version (a revoked one must not be handed out: Terraform's data "
            "sources would still return it).",
        )
    try:
        check_usable(version)
    except VersionFailed as exc:
        raise error(f"{action} refused: {exc.message}", fix=exc.fix) from None
    return [
        f"{label} is complete",
        f"{label} is not revoked",
        f"{label} has artifacts in every build",
    ]


def read_channel(client: HcpPackerClient, bucket: str, channel: str) -> Channel | None:
    """The channel, or None if it (or its bucket) does not exist."""
    try:
        return client.get_channel(bucket, channel)
    except NotFound:
        return None


def maybe_applied(exc: Exception) -> bool:
    """A write that failed this way may still have happened on the server."""
    if isinstance(exc, TransportError):
        return True
    return isinstance(exc, HcpApiError) and (exc.http_status >= 500 or exc.http_status == 429)


def _write_once(
    client: HcpPackerClient, bucket: str, channel: str, fingerprint: str, *, create: bool
) -> tuple[Channel, bool]:
    if not create:
        return client.update_channel(bucket, channel, fingerprint), False
    try:
        return client.create_channel(bucket, channel, fingerprint), True
    except AlreadyExists:
        # Created since we looked (by someone else, or by our own earlier attempt): update it.
        return client.update_channel(bucket, channel, fingerprint), False


def _write_verified(
    client: HcpPackerClient, bucket: str, channel: str, fingerprint: str, *, create: bool
) -> tuple[Channel, bool]:
    """Write; if the answer was lost, read back, and repeat only if the write did not happen."""
    try:
        return _write_once(client, bucket, channel, fingerprint, create=create)
    except (HcpApiError, TransportError) as exc:
        if not maybe_applied(exc):
            raise
        log.warning("channel write answer lost; reading back", channel=channel, error=str(exc))
        current = read_channel(client, bucket, channel)
        if current is not None and current.fingerprint == fingerprint:
            return current, create
        return _write_once(client, bucket, channel, fingerprint, create=current is None)


def assign(
    client: HcpPackerClient, bucket: str, channel: str, before: Channel | None, version: Version
) -> Assignment:
    """Point `channel` at `version` (creating it when `before` is None) and verify the answer."""
    if before is not None and before.fingerprint == version.fingerprint:
        return Assignment(
            channel,
            before.fingerprint,
            version.fingerprint,
            created=False,
            changed=False,
            before_name=version.name,
            after_name=version.name,
        )
    created = before is None
    try:
        with interrupts.shielded(f"channel {channel}") as outcome:
            after, created = _write_verified(
                client, bucket, channel, version.fingerprint, create=before is None
            )
            outcome.done = (
                f"channel '{channel}' now holds '{after.fingerprint or 'nothing'}' "
                f"(was '{before.fingerprint if before else 'new'}')"
            )
    except (HcpApiError, TransportError) as exc:
        raise ChannelError(
            f"channel '{channel}' was not set to {version.name} ({version.fingerprint}): "
            f"{exc.message}",
            fix="check the service principal may write channels (Contributor role).",
            channel=channel,
            fingerprint=version.fingerprint,
        ) from None
    if after.fingerprint != version.fingerprint:
        # HCP has no compare-and-set: the answer is the read-back, and it disagrees.
        raise ChannelError(
            f"channel '{channel}' was written but now holds "
            f"'{after.fingerprint or 'nothing'}', not {version.fingerprint}",
            fix="another run changed the channel at the same time; re-run to settle it.",
            channel=channel,
            fingerprint=version.fingerprint,
        )
    return Assignment(
        channel,
        before.fingerprint if before else "",
        after.fingerprint,
        created=created,
        changed=True,
        before_name=before.version.name if before and before.version else "",
        after_name=version.name,
    )
