"""Result → step outputs (names and meanings from the contract)."""

from __future__ import annotations

import json

from hcp_action.result import Result

OUTPUT_NAMES = (
    "version-fingerprint",
    "version-id",
    "version-name",
    "bucket",
    "channel",
    "ami-id",
    "ami-ids",
    "artifacts",
    "previous-version-fingerprint",
    "build-skipped",
)


def render(result: Result) -> dict[str, str]:
    out = {
        "version-fingerprint": result.fingerprint,
        "bucket": result.bucket,
        "channel": result.channel,
        "build-skipped": "true" if result.build_skipped else "false",
    }
    if result.version is not None:
        out["version-id"] = result.version.id
        out["version-name"] = result.version.name
    if result.selection is not None:
        sel = result.selection
        out["ami-id"] = sel.ami_id
        out["ami-ids"] = json.dumps(sel.ami_ids, sort_keys=True)
        out["artifacts"] = json.dumps(
            [
                {"platform": r.platform, "region": r.region, "id": r.id, "component": r.component}
                for r in sel.artifacts
            ]
        )
    if result.version is not None:
        changed = result.assignment is not None and result.assignment.changed
        out["previous-version-fingerprint"] = (
            result.assignment.before if changed and result.assignment else ""
        )
    return out
