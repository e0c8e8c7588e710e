"""`lookup`: the version on a channel, or by fingerprint, with the same outputs; read-only."""

from __future__ import annotations

from hcp_action import channels
from hcp_action.artifacts import select
from hcp_action.commands.common import selected_version
from hcp_action.errors import VersionFailed
from hcp_action.hcp.client import HcpPackerClient
from hcp_action.inputs import Inputs
from hcp_action.result import Result


def run(inputs: Inputs, *, client: HcpPackerClient) -> Result:
    assert inputs.bucket is not None  # noqa: S101 - inputs.parse requires it for lookup
    bucket = inputs.bucket
    version = selected_version(
        client, inputs, channel=inputs.channel, purpose="assigned", error=VersionFailed
    )
    channels.guard(version, action="lookup", error=VersionFailed)
    selection = select(version, region=inputs.region, component=inputs.component)
    return Result(
        command="lookup",
        bucket=bucket,
        channel=inputs.channel or "",
        fingerprint=version.fingerprint,
        organization_id=inputs.organization_id,
        project_id=inputs.project_id,
        version=version,
        selection=selection,
        dry_run=inputs.dry_run,
    )
