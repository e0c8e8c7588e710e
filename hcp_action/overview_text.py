"""`status`, `find` and revoke's descendants as plain-text lines for a terminal (the Console
cleans and styles them)."""

from __future__ import annotations

from hcp_action.hcp.models import AncestryStatus, VersionRef
from hcp_action.overview import (
    BucketStatus,
    Finding,
    age_seconds,
    human_age,
    minute,
    revocation,
    revocation_detail,
)
from hcp_action.result import Result

_STATE = {
    AncestryStatus.OUT_OF_DATE: "OUT OF DATE",
    AncestryStatus.UP_TO_DATE: "up to date",
    AncestryStatus.UNDETERMINED: "undetermined",
}


def _when(value: str) -> str:
    return minute(value) or "-"


def _ref(ref: VersionRef | None) -> str:
    return f"{ref.name} ({ref.fingerprint})" if ref is not None and ref.fingerprint else "-"


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def status_lines(view: BucketStatus) -> list[str]:
    now = view.checked_at
    count = view.version_count
    lines = [f"status: bucket {view.bucket} ({count} version{'' if count == 1 else 's'})"]
    rows = [["CHANNEL", "VERSION", "FINGERPRINT", "AGE", "ASSIGNED (UTC)", "REVOCATION", "REGIONS"]]
    for c in view.channels:
        v = c.version
        name = c.name + (" (managed)" if c.managed else "")
        if v is None:
            rows.append([name, "(none)", "-", "-", _when(c.assigned_at), "-", "-"])
            continue
        rows.append(
            [
                name,
                v.name,
                v.fingerprint,
                human_age(age_seconds(v.created_at, now)),
                _when(c.assigned_at),
                revocation(v) or "valid",
                ",".join(v.regions) or "-",
            ]
        )
    lines += _table(rows)
    lines.append("")
    if view.incomplete:
        lines.append(f"incomplete versions (among the newest {view.versions_read}):")
        lines += _table(
            [
                [v.name, v.fingerprint, v.status.value, human_age(age_seconds(v.created_at, now))]
                for v in view.incomplete
            ]
        )
    else:
        lines.append(f"incomplete versions: none among the newest {view.versions_read}")
    lines.append("")
    if view.children:
        lines.append("built from this bucket (children, out of date first):")
        lines += _table(
            [
                [
                    c.bucket,
                    _ref(c.version),
                    f"from {_ref(c.built_from)}",
                    f"through {c.via_channel or '-'}",
                    f"now {_ref(c.channel_now)}",
                    _STATE[c.status],
                ]
                for c in view.children
            ]
        )
    else:
        lines.append("children: no bucket was built from this one")
    if view.parents:
        lines.append("this bucket's channels were built from (parents):")
        lines += _table(
            [
                [
                    ", ".join(p.channels),
                    _ref(p.version),
                    f"from {p.parent.bucket_name} {_ref(p.parent)}",
                    f"through {p.parent_channel or '-'}",
                    f"now {_ref(p.parent_channel_now)}",
                    _STATE[p.status],
                ]
                for p in view.parents
            ]
        )
    else:
        lines.append("parents: no version on a channel was built from another bucket")
    stale = view.out_of_date_children
    lines.append("")
    lines.append(f"out-of-date children: {', '.join(stale) if stale else 'none'}")
    if view.cut_short:
        lines.append(f"note: cut short by the registry's paging: {', '.join(view.cut_short)}")
    return lines


def find_lines(found: Finding) -> list[str]:
    v = found.version
    state = revocation_detail(v)
    return [
        f"find: {found.artifact_id} ({found.platform}) is in bucket {found.bucket}",
        f"  version      {v.name}  {v.fingerprint}  ({v.id})",
        f"  build        {found.component}  ({found.build_id})",
        f"  region       {found.region or '-'}",
        f"  channels     {', '.join(found.channels) if found.channels else 'none'}",
        f"  revoked      {state}",
    ]


def descendant_lines(result: Result) -> list[str]:
    effect = result.descendant_effect
    return [
        f"  descendant   {d.bucket} {d.name} ({d.fingerprint})"
        + (f" on {', '.join(d.channels)}" if d.channels else "")
        + f": {effect}"
        for d in result.descendants
    ]
