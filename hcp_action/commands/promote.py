"""`promote`: put on `channel` the version on `from-channel` (or `version-fingerprint`), guarded.

Uses the published UpdateChannel (read source → update target with its fingerprint), not the
SDK-only channels/assign call, which is unconfirmed on the live service.
"""

from __future__ import annotations

from dataclasses import replace

from hcp_action import channels
from hcp_action.artifacts import select
from hcp_action.commands.common import (
    base_result,
    channel_or_refuse,
    plan_line,
    version_by_fingerprint,
)
from hcp_action.errors import ChannelError, GuardRefused
from hcp_action.hcp.client import HcpPackerClient
from hcp_action.inputs import Inputs
from hcp_action.result import Result


def run(inputs: Inputs, *, client: HcpPackerClient) -> Result:
    assert inputs.bucket is not None  # noqa: S101 - parse() requires bucket and channel
    assert inputs.channel is not None  # noqa: S101
    bucket, target = inputs.bucket, inputs.channel
    guards: list[str] = []
    if inputs.from_channel is not None:
        source = channel_or_refuse(client, bucket, inputs.from_channel)
        if source.version is None:
            raise GuardRefused(
                f"channel '{inputs.from_channel}' has no version to promote",
                fix="assign a version to it first (a build or a promote).",
            )
        version = source.version
        if inputs.version_fingerprint and version.fingerprint != inputs.version_fingerprint:
            # "Promote what I reviewed": the source moved on since the review.
            raise GuardRefused(
                f"channel '{inputs.from_channel}' now holds {version.name} "
                f"({version.fingerprint}), not {inputs.version_fingerprint}",
                fix="review the version now on the source channel, or promote by "
                "version-fingerprint alone.",
            )
        guards.append(f"{inputs.from_channel} holds {version.name} ({version.fingerprint})")
    else:
        assert inputs.version_fingerprint is not None  # noqa: S101 - parse() checked
        version = version_by_fingerprint(client, bucket, inputs.version_fingerprint)
    guards += channels.guard(version, action="promote")

    before = channels.read_channel(client, bucket, target)
    if before is None and not inputs.create_channel:
        raise ChannelError(
            f"channel '{target}' does not exist in bucket '{bucket}' and create-channel is false",
            fix="create the channel first, or set create-channel: true.",
        )
    selection = select(version, region=inputs.region, component=inputs.component)
    result = replace(
        base_result(inputs, version.fingerprint),
        version=version,
        selection=selection,
        guards=tuple(guards),
    )
    if inputs.dry_run:
        return replace(result, plan=(plan_line(target, before, version),))
    assignment = channels.assign(client, bucket, target, before, version)
    return replace(result, assignment=assignment)
