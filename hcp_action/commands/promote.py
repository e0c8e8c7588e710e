"""`promote`: put on `channel` the version on `from-channel` (or `version-fingerprint`), guarded.

Uses the published UpdateChannel (read source → update target with its fingerprint), not the
SDK-only channels/assign call, which is unconfirmed on the live service.
"""

from __future__ import annotations

from hcp_action import channels
from hcp_action.commands.common import change_channel, selected_version
from hcp_action.errors import ChannelError, GuardRefused
from hcp_action.hcp.client import HcpPackerClient
from hcp_action.inputs import Inputs
from hcp_action.result import Result


def run(inputs: Inputs, *, client: HcpPackerClient) -> Result:
    assert inputs.bucket is not None  # noqa: S101 - parse() requires bucket and channel
    assert inputs.channel is not None  # noqa: S101
    bucket, target = inputs.bucket, inputs.channel
    version = selected_version(client, inputs, channel=inputs.from_channel, purpose="to promote")
    guards: list[str] = []
    if inputs.from_channel is not None:
        if inputs.version_fingerprint and version.fingerprint != inputs.version_fingerprint:
            # "Promote what I reviewed": the source moved on since the review.
            raise GuardRefused(
                f"channel '{inputs.from_channel}' now holds {version.name} "
                f"({version.fingerprint}), not {inputs.version_fingerprint}",
                fix="review the version now on the source channel, or promote by "
                "version-fingerprint alone.",
            )
        guards.append(f"{inputs.from_channel} holds {version.name} ({version.fingerprint})")
    before = channels.read_channel(client, bucket, target)
    if before is None and not inputs.create_channel:
        raise ChannelError(
            f"channel '{target}' does not exist in bucket '{bucket}' and create-channel is false",
            fix="create the channel first, or set create-channel: true.",
        )
    return change_channel(
        inputs,
        client,
        target=target,
        before=before,
        version=version,
        guards=guards,
        action="promote",
    )
