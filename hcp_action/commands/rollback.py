"""`rollback`: point `channel` back at `version-fingerprint`, or at the newest earlier valid
assignment in its history (read newest first, one page at a time, only until found)."""

from __future__ import annotations

from hcp_action.commands.common import change_channel, channel_or_refuse, version_by_fingerprint
from hcp_action.errors import GuardRefused
from hcp_action.hcp.client import HcpPackerClient
from hcp_action.hcp.models import Version
from hcp_action.inputs import Inputs
from hcp_action.result import Result

MAX_PAGES = 50  # a safety stop: 1000 assignments back is far beyond any real rollback


def _from_history(client: HcpPackerClient, bucket: str, channel: str, current: str) -> Version:
    token = ""
    for _ in range(MAX_PAGES):
        page = client.channel_history(bucket, channel, page_token=token)
        for entry in page.entries:
            v = entry.version
            if v.fingerprint and v.fingerprint != current and v.is_complete and not v.is_revoked:
                return v
        if not page.next_page_token:
            break
        token = page.next_page_token
    raise GuardRefused(
        f"channel '{channel}' has no earlier version in its history that is complete and "
        "not revoked; nothing was changed",
        fix="roll back to a specific version with version-fingerprint.",
    )


def run(inputs: Inputs, *, client: HcpPackerClient) -> Result:
    assert inputs.bucket is not None  # noqa: S101 - parse() requires bucket and channel
    assert inputs.channel is not None  # noqa: S101
    bucket, target = inputs.bucket, inputs.channel
    before = channel_or_refuse(client, bucket, target)
    if inputs.version_fingerprint:
        version = version_by_fingerprint(client, bucket, inputs.version_fingerprint)
        guards = [f"{version.name} ({version.fingerprint}) chosen by version-fingerprint"]
    else:
        version = _from_history(client, bucket, target, before.fingerprint)
        guards = [
            (
                f"{version.name} ({version.fingerprint}) is the newest earlier valid "
                f"assignment of {target}"
            )
        ]
    return change_channel(
        inputs,
        client,
        target=target,
        before=before,
        version=version,
        guards=guards,
        action="rollback",
    )
