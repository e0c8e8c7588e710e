"""`revoke`: revoke a version now, refusing while user channels still point at it unless forced.

HCP moves those channels back to their last valid version by itself; we report each move.
"""

from __future__ import annotations

from dataclasses import replace

import structlog

from hcp_action import interrupts
from hcp_action.artifacts import select
from hcp_action.channels import Assignment, maybe_applied
from hcp_action.commands.common import base_result, label, selected_version
from hcp_action.errors import (
    ChannelError,
    GuardRefused,
    HcpApiError,
    SelectionError,
    TransportError,
)
from hcp_action.hcp.client import HcpPackerClient
from hcp_action.hcp.models import Version
from hcp_action.inputs import MANAGED_CHANNEL, Inputs
from hcp_action.result import Descendant, Result

logger = structlog.get_logger("hcp_action")

DEFAULT_REASON = "Revoked by hcp-packer-action"
# HCP cascades a revocation through every generation; we read that tree before writing, within
# a bound so a huge (or looping) ancestry cannot hold the step.
MAX_DESCENDANTS = 200
MAX_DEPTH = 10


def _revoke_verified(
    client: HcpPackerClient, bucket: str, fingerprint: str, reason: str, skip: bool
) -> Version:
    try:
        return client.revoke_version(bucket, fingerprint, reason, skip_descendants=skip)
    except (HcpApiError, TransportError) as exc:
        if not maybe_applied(exc):
            raise
        current = client.get_version(bucket, fingerprint)
        if current.is_revoked:
            return current  # it happened; only the answer was lost
        return client.revoke_version(bucket, fingerprint, reason, skip_descendants=skip)


def descendants_of(
    client: HcpPackerClient, bucket: str, fingerprint: str
) -> tuple[tuple[Descendant, ...], bool]:
    """Every version built from this one, generation by generation (ListBucketAncestry of
    each), with the channels holding each; and whether the walk was cut at its bounds."""
    found: list[Descendant] = []
    seen = {(bucket, fingerprint)}
    frontier = [(bucket, fingerprint)]
    channels: dict[str, dict[str, list[str]]] = {}  # bucket → fingerprint → channel names
    cut = False
    for _ in range(MAX_DEPTH):
        following = []
        for parent_bucket, parent_fp in frontier:
            relations, was_cut = client.ancestry(
                parent_bucket, children=True, fingerprint=parent_fp
            )
            cut = cut or was_cut
            for r in relations:
                key = (r.child.bucket_name, r.child.fingerprint)
                if key in seen or r.parent.fingerprint != parent_fp:
                    continue
                if len(found) >= MAX_DESCENDANTS:
                    return tuple(found), True
                seen.add(key)
                if r.child.bucket_name not in channels:
                    held: dict[str, list[str]] = {}
                    for c in client.list_channels(r.child.bucket_name):
                        if c.fingerprint and c.name != MANAGED_CHANNEL:
                            held.setdefault(c.fingerprint, []).append(c.name)
                    channels[r.child.bucket_name] = held
                on = channels[r.child.bucket_name].get(r.child.fingerprint, [])
                found.append(
                    Descendant(
                        r.child.bucket_name,
                        r.child.name,
                        r.child.fingerprint,
                        tuple(sorted(on)),
                    )
                )
                following.append(key)
        if not following:
            return tuple(found), cut
        frontier = following
    return tuple(found), True


def _log_descendants(
    descendants: tuple[Descendant, ...], cut: bool, *, skipped: bool, dry_run: bool
) -> None:
    if not descendants:
        logger.info("no version was built from this one: the revocation reaches no descendant")
        return
    event = (
        "descendant versions are not revoked (skip-descendants)"
        if skipped
        else "descendant versions would be revoked by HCP too"
        if dry_run
        else "descendant versions are revoked by HCP too (asynchronously)"
    )
    logger.warning(
        event,
        count=len(descendants),
        descendants=[
            f"{d.bucket} {d.name} ({d.fingerprint})"
            + (f" on {', '.join(d.channels)}" if d.channels else "")
            for d in descendants
        ],
        cut_short=cut,
    )


def run(inputs: Inputs, *, client: HcpPackerClient, run_url: str = "") -> Result:
    assert inputs.bucket is not None  # noqa: S101 - parse() requires it
    bucket = inputs.bucket
    version = selected_version(client, inputs, channel=inputs.channel, purpose="to revoke")
    try:
        selection = select(version, region=inputs.region, component=inputs.component)
    except SelectionError:
        selection = None  # a revoke never fails over which AMI to print
    result = replace(base_result(inputs, version.fingerprint), version=version, selection=selection)
    if version.is_revoked:
        return replace(
            result, revoked=True, notes=(f"{label(version)} was already revoked; nothing to do",)
        )
    if not version.is_complete:
        raise GuardRefused(
            f"version {label(version)} is not complete and cannot be revoked",
            fix="let its build finish or fail first.",
        )

    before = {
        c.name: c
        for c in client.list_channels(bucket)
        if c.name != MANAGED_CHANNEL and c.fingerprint == version.fingerprint
    }
    if before and not inputs.force:
        raise GuardRefused(
            f"version {label(version)} is still assigned to: " + ", ".join(sorted(before)),
            fix="move those channels first (promote/rollback), or set force: true to revoke "
            "anyway (HCP then moves each back to its last valid version).",
        )
    guards = (
        f"channels still on it: {', '.join(sorted(before)) or 'none'}"
        + (" (force: true)" if before else ""),
    )
    reason = inputs.reason or (f"{DEFAULT_REASON}: {run_url}" if run_url else DEFAULT_REASON)
    descendants, cut = descendants_of(client, bucket, version.fingerprint)
    result = replace(result, descendants=descendants, descendants_skipped=inputs.skip_descendants)
    if cut:
        # Said, not hidden: the list is what we read, and HCP's cascade goes further.
        note = (
            f"descendants listed up to {MAX_DESCENDANTS} versions and {MAX_DEPTH} generations "
            "(or the registry's paging): HCP's revocation may reach more"
        )
        result = replace(result, notes=(note,))
    _log_descendants(descendants, cut, skipped=inputs.skip_descendants, dry_run=inputs.dry_run)
    if inputs.dry_run:
        plan = [f"would revoke {label(version)} with reason: {reason}"]
        plan += [
            f"{name}: {label(version)} → its last valid version (moved by HCP)"
            for name in sorted(before)
        ]
        if descendants and not inputs.skip_descendants:
            plan.append(
                f"HCP would also revoke {len(descendants)} descendant version(s): "
                + ", ".join(f"{d.bucket} {d.name}" for d in descendants)
            )
        return replace(result, guards=guards, plan=tuple(plan))
    try:
        with interrupts.shielded(f"revocation of {label(version)}") as outcome:
            revoked = _revoke_verified(
                client, bucket, version.fingerprint, reason, inputs.skip_descendants
            )
            if revoked.is_revoked:
                outcome.done = f"version {label(version)} is revoked"
    except (HcpApiError, TransportError) as exc:
        raise ChannelError(
            f"revocation of {label(version)} was refused: {exc.message}",
            fix="check the service principal may update versions.",
        ) from None
    if not revoked.is_revoked:
        raise ChannelError(
            f"the registry did not record {label(version)} as revoked",
            fix="re-run the step; check the version in the HCP portal.",
        )
    moves: list[Assignment] = []
    if before:
        after = {c.name: c for c in client.list_channels(bucket)}
        for name in sorted(before):
            now = after.get(name)
            moves.append(
                Assignment(
                    name,
                    version.fingerprint,
                    now.fingerprint if now else "",
                    created=False,
                    changed=True,
                    before_name=version.name,
                    after_name=now.version.name if now and now.version else "",
                )
            )
    return replace(
        result,
        version=revoked,
        guards=guards,
        moves=tuple(moves),
        revoked=True,
        notes=(*result.notes, f"revocation message: {reason}"),
    )
