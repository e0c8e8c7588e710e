"""Pieces the channel commands share: the base result, a version read, the plan line."""

from __future__ import annotations

from hcp_action.errors import Aborted, GuardRefused, NotFound
from hcp_action.hcp.client import HcpPackerClient
from hcp_action.hcp.models import Channel, Version
from hcp_action.inputs import Inputs
from hcp_action.result import Result


def base_result(inputs: Inputs, fingerprint: str = "") -> Result:
    assert inputs.bucket is not None  # noqa: S101 - parse() requires it for these commands
    return Result(
        command=inputs.command.value,
        bucket=inputs.bucket,
        channel=inputs.channel or "",
        fingerprint=fingerprint,
        organization_id=inputs.organization_id,
        project_id=inputs.project_id,
        dry_run=inputs.dry_run,
    )


def version_by_fingerprint(client: HcpPackerClient, bucket: str, fingerprint: str) -> Version:
    try:
        return client.get_version(bucket, fingerprint)
    except (Aborted, NotFound) as exc:
        raise GuardRefused(
            f"no version {fingerprint} in bucket '{bucket}': {exc.server_message}",
            fix="check bucket and version-fingerprint.",
        ) from None


def channel_or_refuse(client: HcpPackerClient, bucket: str, channel: str) -> Channel:
    try:
        return client.get_channel(bucket, channel)
    except NotFound as exc:
        raise GuardRefused(
            f"channel '{channel}' not found in bucket '{bucket}': {exc.server_message}",
            fix="check bucket and channel names.",
        ) from None


def label(version: Version | None, fingerprint: str = "") -> str:
    if version is None:
        return fingerprint or "(none)"
    return f"{version.name} ({version.fingerprint})"


def plan_line(channel: str, before: Channel | None, version: Version) -> str:
    held = label(before.version) if before is not None and before.version else "(nothing)"
    if before is None:
        held = "(new channel)"
    return f"{channel}: {held} → {label(version)}"
