"""Result or failure → the Markdown job summary (pure functions)."""

from __future__ import annotations

import re
from urllib.parse import quote

from hcp_action.errors import ActionError, Cancelled, ChannelError
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

PORTAL = "https://portal.cloud.hashicorp.com"


# Text from the registry, the template or a server is data, never Markdown or HTML: characters
# that open emphasis, code, links, images, HTML, headings or table cells are backslash-escaped
# (CommonMark allows it for any ASCII punctuation), GitHub's bare-URL autolinks are broken up,
# control characters and line breaks become spaces.
_MARKUP = re.compile(r"([\\`*_{}\[\]<>#|!~&])")
_AUTOLINK = re.compile(r"(?i)(://|www\.)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_PLAIN = re.compile(r"^[A-Za-z0-9._/-]+$")


def _cell(text: str) -> str:
    escaped = _MARKUP.sub(r"\\\1", _CONTROL.sub(" ", text))
    return (
        _AUTOLINK.sub(lambda m: m.group(1).replace("/", "\\/").replace(".", "\\."), escaped) or "—"
    )


def _code(text: str) -> str:
    """A value in a code span when it is plainly safe there, else escaped text."""
    return f"`{text}`" if _PLAIN.fullmatch(text) else _cell(text)


def bucket_link(org: str, project: str, bucket: str) -> str:
    # The portal's exact URL scheme is not published; this links the bucket (see README).
    return (
        f"{PORTAL}/orgs/{quote(org, safe='')}/projects/{quote(project, safe='')}"
        f"/packer/buckets/{quote(bucket, safe='')}"
    )


def _named(name: str, fingerprint: str) -> str:
    if not fingerprint:
        return "(none)"
    return f"{_cell(name)} ({_code(fingerprint)})" if name else _code(fingerprint)


def _when(value: str) -> str:
    shown = minute(value)
    return _cell(shown + "Z") if shown else "—"


def _ref(ref: VersionRef | None, *, bucket: bool = False) -> str:
    if ref is None or not ref.fingerprint:
        return "—"
    where = f"{_code(ref.bucket_name)} " if bucket else ""
    return f"{where}{_cell(ref.name)} ({_code(ref.fingerprint)})"


CHILD_HEADER = (
    "| Child bucket | Newest version built from us | Built from | Through | Channel holds now "
    "| Status |"
)
_MARK = {
    AncestryStatus.OUT_OF_DATE: "⚠️ out of date",
    AncestryStatus.UP_TO_DATE: "✅ up to date",
    AncestryStatus.UNDETERMINED: "undetermined",
}


def _status(result: Result, view: BucketStatus) -> list[str]:
    now = view.checked_at
    link = bucket_link(result.organization_id, result.project_id, view.bucket)
    incomplete = len(view.incomplete)
    stale = ", ".join(_code(b) for b in view.out_of_date_children) or "none"
    lines = [
        "| | |",
        "|---|---|",
        f"| Bucket | [{_code(view.bucket)}]({link}) |",
        (
            f"| Versions | {view.version_count} ({incomplete} incomplete among the newest "
            f"{view.versions_read}) |"
        ),
        f"| Out-of-date children | {stale} |",
        "",
        "### Channels",
        "",
        "| Channel | Version | Fingerprint | Age | Assigned | Revocation | Regions |",
        "|---|---|---|---|---|---|---|",
    ]
    for c in view.channels:
        v = c.version
        if v is None:
            lines.append(f"| {_code(c.name)} | (none) | — | — | {_when(c.assigned_at)} | — | — |")
            continue
        lines.append(
            f"| {_code(c.name)}{' (managed)' if c.managed else ''} | **{_cell(v.name)}** | "
            f"{_code(v.fingerprint)} | {human_age(age_seconds(v.created_at, now))} | "
            f"{_when(c.assigned_at)} | {_cell(revocation(v)) if revocation(v) else 'valid'} | "
            f"{_cell(', '.join(v.regions))} |"
        )
    if view.incomplete:
        lines += [
            "",
            f"### Incomplete versions (among the newest {view.versions_read})",
            "",
            "| Version | Fingerprint | Status | Age |",
            "|---|---|---|---|",
        ]
        lines += [
            f"| {_cell(v.name)} | {_code(v.fingerprint)} | {v.status.value} | "
            f"{human_age(age_seconds(v.created_at, now))} |"
            for v in view.incomplete
        ]
    lines += ["", "### Ancestry: buckets built from this one", ""]
    if view.children:
        lines += [
            CHILD_HEADER,
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {_code(c.bucket)} | {_ref(c.version)} | {_ref(c.built_from)} | "
            f"{_code(c.via_channel) if c.via_channel else '—'} | {_ref(c.channel_now)} | "
            f"{_MARK[c.status]} |"
            for c in view.children
        ]
    else:
        lines.append(
            "No bucket was built from this one (through Packer's `hcp-packer-version`/"
            "`hcp-packer-artifact` data sources)."
        )
    lines += ["", "### Ancestry: what this bucket's channels were built from", ""]
    if view.parents:
        lines += [
            "| Channels | Version | Parent | Through | Channel holds now | Status |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {', '.join(_code(n) for n in p.channels)} | {_ref(p.version)} | "
            f"{_ref(p.parent, bucket=True)} | "
            f"{_code(p.parent_channel) if p.parent_channel else '—'} | "
            f"{_ref(p.parent_channel_now)} | {_MARK[p.status]} |"
            for p in view.parents
        ]
    else:
        lines.append(
            "No version on a channel of this bucket was built from another bucket's channel."
        )
    if view.cut_short:
        lines += [
            "",
            f"> Lists cut short by the registry's paging: {_cell(', '.join(view.cut_short))}",
        ]
    return lines


def _find(result: Result, found: Finding) -> list[str]:
    v = found.version
    link = bucket_link(result.organization_id, result.project_id, found.bucket)
    region = _cell(found.region) if found.region else "no region"
    state = _cell(revocation_detail(v))
    return [
        "| | |",
        "|---|---|",
        f"| Artifact | {_code(found.artifact_id)} ({_cell(found.platform)}, {region}) |",
        f"| Bucket | [{_code(found.bucket)}]({link}) |",
        f"| Version | **{_cell(v.name)}** ({_code(v.id)}) |",
        f"| Fingerprint | {_code(v.fingerprint)} |",
        f"| Build | {_code(found.component)} ({_code(found.build_id)}) |",
        f"| Channels now | {', '.join(_code(c) for c in found.channels) or 'none'} |",
        f"| Revoked | {state} |",
    ]


def _descendants(result: Result) -> list[str]:
    effect = result.descendant_effect
    lines = ["", "### Descendants", ""]
    if not result.descendants:
        return [*lines, "No version was built from this one: it reaches no other bucket."]
    lines += [
        "| Bucket | Version | Fingerprint | Channels holding it | Effect |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {_code(d.bucket)} | {_cell(d.name)} | {_code(d.fingerprint)} | "
        f"{', '.join(_code(c) for c in d.channels) or '—'} | {effect} |"
        for d in result.descendants
    ]
    return lines


def render(result: Result) -> str:
    if result.overview is not None or result.finding is not None:
        lines = [f"## HCP Packer — {result.command}", ""]
        if result.overview is not None:
            lines += _status(result, result.overview)
        if result.finding is not None:
            lines += _find(result, result.finding)
        if result.notes:
            lines += [""] + [f"> {_cell(n)}" for n in result.notes]
        return "\n".join(lines) + "\n"
    lines = [f"## HCP Packer — {result.command}{' (dry run)' if result.dry_run else ''}", ""]
    version = result.version
    lines += [
        "| | |",
        "|---|---|",
        (
            f"| Bucket | [{_code(result.bucket)}]"
            f"({bucket_link(result.organization_id, result.project_id, result.bucket)}) |"
        ),
    ]
    if version is not None:
        lines.append(f"| Version | **{_cell(version.name)}** ({_code(version.id)}) |")
    lines.append(f"| Fingerprint | {_code(result.fingerprint)} |")
    if result.command == "build":
        how = (
            "reused a complete version; Packer not run"
            if result.build_skipped
            else "resumed an incomplete version"
            if result.resumed and result.packer_ran
            else "built"
            if result.packer_ran
            else "not built"
        )
        lines.append(f"| Packer | {how} |")
    if result.channel and result.assignment is None:
        lines.append(f"| Channel | {_code(result.channel)} |")
    changes = ([result.assignment] if result.assignment else []) + list(result.moves)
    if changes:
        lines += ["", "### Channels", "", "| Channel | Before | After | |", "|---|---|---|---|"]
        for a in changes:
            how = (
                "created"
                if a.created
                else "changed by this run"
                if a.changed
                else "unchanged (already there)"
            )
            if a in result.moves:
                how = "moved back by HCP on revocation"
            lines.append(
                f"| {_code(a.channel)} | {_named(a.before_name, a.before)} | "
                f"{_named(a.after_name, a.after)} | {how} |"
            )
    if version is not None and version.builds:
        lines += ["", "### Builds", "", "| Component | Platform | Status |", "|---|---|---|"]
        lines += [
            f"| {_code(b.component_type)} | {_cell(b.platform)} | {b.status.value} |"
            for b in version.builds
        ]
    if result.selection is not None:
        sel = result.selection
        lines += ["", "### Artifacts", "", "| Region | Artifact | Component |", "|---|---|---|"]
        for row in sel.artifacts:
            mark = " ✅" if row.region == sel.region and row.id == sel.ami_id else ""
            lines.append(
                f"| {_cell(row.region)} | {_code(row.id)}{mark} | {_code(row.component)} |"
            )
        lines += ["", f"`ami-id` = {_code(sel.ami_id)} ({_cell(sel.region)})"]
    if result.guards:
        lines += ["", "### Guards", ""] + [f"- ✅ {_cell(g)}" for g in result.guards]
    if result.plan:
        lines += ["", "### Plan (nothing was changed)", ""] + [f"- {_cell(p)}" for p in result.plan]
    if result.notes:
        lines += [""] + [f"> {_cell(n)}" for n in result.notes]
    if result.command == "revoke" and (result.revoked or result.plan):
        lines += _descendants(result)
    if result.revoked:
        lines += [
            "",
            "### What revocation means downstream",
            "",
            (
                "Channels no longer point at it, and Packer's `hcp-packer-version`/"
                "`hcp-packer-artifact` data sources refuse it. Terraform's "
                "`hcp_packer_artifact`/`hcp_packer_version` data sources do **not** refuse a "
                "revoked version (the provider stopped in 0.23.1; it returns `revoke_at`): a plan "
                "pinned to this fingerprint still gets the AMI unless it guards `revoke_at` with "
                "a `postcondition` (see the README)."
            ),
        ]
    return "\n".join(lines) + "\n"


def render_failure(error: ActionError, command: str) -> str:
    lines = [
        f"## HCP Packer — {_cell(command)} failed",
        "",
        f"**{error.title}**: {_cell(error.message)}",
    ]
    if error.fix:
        lines += ["", f"**Fix:** {_cell(error.fix)}"]
    changes = error.changes if isinstance(error, Cancelled) else ()
    if changes:
        lines += ["", "Registry writes that completed before the cancellation took effect:", ""]
        lines += [f"- {_cell(c)}" for c in changes]
    elif not isinstance(error, ChannelError):
        lines += ["", "No channel was changed by this step."]
    return "\n".join(lines) + "\n"
