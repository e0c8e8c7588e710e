"""Result or failure → the Markdown job summary (pure functions)."""

from __future__ import annotations

import re
from urllib.parse import quote

from hcp_action.errors import ActionError, Cancelled, ChannelError
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


def render(result: Result) -> str:
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
