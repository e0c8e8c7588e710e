"""Channel reads and writes with their guards; every write is verified by the channel returned."""

from __future__ import annotations

from dataclasses import dataclass

from hcp_action.errors import (
    AlreadyExists,
    ChannelError,
    GuardRefused,
    HcpApiError,
    NotFound,
    VersionFailed,
)
from hcp_action.hcp.client import HcpPackerClient
from hcp_action.hcp.models import Channel, Version
from hcp_action.waiter import check_usable


@dataclass(frozen=True, slots=True)
class Assignment:
    channel: str
    before: str  # fingerprint held before this run ("" if none or the channel was new)
    after: str
    created: bool
    changed: bool
    before_name: str = ""
    after_name: str = ""


def guard(version: Version, *, action: str) -> list[str]:
    """The guards every channel change passes; returns their results for the summary."""
    label = f"{version.name or '?'} ({version.fingerprint})"
    if not version.is_complete:
        raise GuardRefused(
            f"{action} refused: version {label} is not complete",
            fix="wait until its build finishes, or choose another version.",
        )
    if version.is_revoked:
        raise GuardRefused(
            f"{action} refused: version {label} is revoked or scheduled for revocation",
            fix="choose a valid version (Terraform's data sources refuse revoked ones).",
        )
    try:
        check_usable(version)
    except VersionFailed as exc:
        raise GuardRefused(f"{action} refused: {exc.message}", fix=exc.fix) from None
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
        if before is None:
            try:
                after = client.create_channel(bucket, channel, version.fingerprint)
            except AlreadyExists:
                # Created by someone else since we looked: update it instead.
                created = False
                after = client.update_channel(bucket, channel, version.fingerprint)
        else:
            after = client.update_channel(bucket, channel, version.fingerprint)
    except HcpApiError as exc:
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
