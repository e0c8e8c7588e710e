"""Result → step outputs (names and meanings from the contract)."""

from __future__ import annotations

import json

from hcp_action.result import Result

# What build, promote, rollback, revoke and lookup write (the contract's v1 outputs).
VERSION_OUTPUTS = (
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
OUTPUT_NAMES = (
    *VERSION_OUTPUTS,
    "status",
    "out-of-date-children",
    "channels",
    "revoked",
    "build-id",
    "artifact-region",
    "descendants",
)

# Outputs that carry JSON text (the CLI's --json prints them as JSON values).
JSON_OUTPUTS = (
    "ami-ids",
    "artifacts",
    "status",
    "out-of-date-children",
    "channels",
    "descendants",
)


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def render(result: Result) -> dict[str, str]:
    if result.overview is not None:
        view = result.overview
        return {
            "bucket": result.bucket,
            "status": _compact(view.to_json()),
            "out-of-date-children": _compact(view.out_of_date_children),
            "channels": _compact(view.channel_map()),
            "build-skipped": "false",
        }
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
    if result.finding is not None:
        found = result.finding
        out.pop("channel")
        out["channels"] = _compact(list(found.channels))
        out["revoked"] = "true" if found.revoked else "false"
        out["build-id"] = found.build_id
        out["artifact-region"] = found.region
        return out
    if result.command == "revoke":
        # What HCP was asked to do, not a read-back: it revokes descendants asynchronously.
        out["descendants"] = _compact(
            [
                {
                    "bucket": d.bucket,
                    "version_name": d.name,
                    "fingerprint": d.fingerprint,
                    "channels": list(d.channels),
                    "inherits_revocation": not result.descendants_skipped,
                }
                for d in result.descendants
            ]
        )
    if result.version is not None:
        changed = result.assignment is not None and result.assignment.changed
        out["previous-version-fingerprint"] = (
            result.assignment.before if changed and result.assignment else ""
        )
    return out
