"""Pieces the channel commands share: the base result, version reads, the channel change."""

from __future__ import annotations

from dataclasses import replace

from hcp_action import channels
from hcp_action.artifacts import select
from hcp_action.errors import Aborted, ActionError, GuardRefused, NotFound
from hcp_action.hcp.client import HcpPackerClient
from hcp_action.hcp.models import Channel, Version
from hcp_action.inputs import Inputs
from hcp_action.result import Result


def base_result(inputs: Inputs, fingerprint: str = "", *, bucket: str | None = None) -> Result:
    bucket = bucket or inputs.bucket
    assert bucket is not None  # noqa: S101 - parse() requires it for these commands
    return Result(
        command=inputs.command.value,
        bucket=bucket,
        channel=inputs.channel or "",
        fingerprint=fingerprint,
        organization_id=inputs.organization_id,
        project_id=inputs.project_id,
        dry_run=inputs.dry_run,
    )


def version_by_fingerprint(
    client: HcpPackerClient,
    bucket: str,
    fingerprint: str,
    error: type[ActionError] = GuardRefused,
) -> Version:
    try:
        return client.get_version(bucket, fingerprint)
    except (Aborted, NotFound) as exc:
        raise error(
            f"no version {fingerprint} in bucket '{bucket}': {exc.server_message}",
            fix="check bucket and version-fingerprint.",
        ) from None


def channel_or_refuse(
    client: HcpPackerClient,
    bucket: str,
    channel: str,
    error: type[ActionError] = GuardRefused,
) -> Channel:
    try:
        return client.get_channel(bucket, channel)
    except NotFound as exc:
        raise error(
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


def selected_version(
    client: HcpPackerClient,
    inputs: Inputs,
    *,
    channel: str | None,
    purpose: str,
    error: type[ActionError] = GuardRefused,
) -> Version:
    """The version on `channel` when one is named, else the version `version-fingerprint`."""
    assert inputs.bucket is not None  # noqa: S101 - parse() requires it for these commands
    if channel is not None:
        found = channel_or_refuse(client, inputs.bucket, channel, error)
        if found.version is None:
            raise error(
                f"channel '{channel}' has no version {purpose}",
                fix="assign a version to it first (a build or a promote).",
            )
        return found.version
    assert inputs.version_fingerprint is not None  # noqa: S101 - parse() requires one of them
    return version_by_fingerprint(client, inputs.bucket, inputs.version_fingerprint, error)


def change_channel(
    inputs: Inputs,
    client: HcpPackerClient,
    *,
    target: str,
    before: Channel | None,
    version: Version,
    guards: list[str],
    action: str,
) -> Result:
    """Guards, artifact choice, then (unless a dry run) the verified write: promote, rollback."""
    assert inputs.bucket is not None  # noqa: S101 - parse() requires it for these commands
    guards = guards + channels.guard(version, action=action)
    selection = select(version, region=inputs.region, component=inputs.component)
    result = replace(
        base_result(inputs, version.fingerprint),
        version=version,
        selection=selection,
        guards=tuple(guards),
    )
    if inputs.dry_run:
        return replace(result, plan=(plan_line(target, before, version),))
    assignment = channels.assign(client, inputs.bucket, target, before, version)
    return replace(result, assignment=assignment)
