"""`status`: every channel of a bucket, its incomplete versions and its ancestry; read-only.

The cost does not grow with the number of versions: GetBucket, ListChannels, one page of
ListVersions, ListBucketAncestry for parents once per distinct version on a channel, and for
children as many pages as there are child relations (100 a page).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from hcp_action.commands.common import base_result
from hcp_action.errors import Aborted, NotFound, NothingFound
from hcp_action.hcp.client import HcpPackerClient
from hcp_action.hcp.models import AncestryStatus, Channel, Relation, Version
from hcp_action.inputs import MANAGED_CHANNEL, Inputs
from hcp_action.overview import BucketStatus, ChannelRow, ChildRow, ParentRow
from hcp_action.result import Result

_RANK = {
    AncestryStatus.OUT_OF_DATE: 0,
    AncestryStatus.UNDETERMINED: 1,
    AncestryStatus.UP_TO_DATE: 2,
}


def run(inputs: Inputs, *, client: HcpPackerClient) -> Result:
    assert inputs.bucket is not None  # noqa: S101 - parse() requires it for status
    return replace(base_result(inputs), overview=gather(client, inputs.bucket))


def gather(client: HcpPackerClient, bucket: str) -> BucketStatus:
    try:
        found = client.get_bucket(bucket)
    except NotFound as exc:
        raise NothingFound(
            f"bucket '{bucket}' does not exist in this project: {exc.server_message}",
            fix="check the bucket name and hcp-organization-id/hcp-project-id.",
        ) from None
    channels = _with_builds(client, bucket, client.list_channels(bucket))
    newest = client.newest_versions(bucket)
    cut: list[str] = []

    parents: list[ParentRow] = []
    holders: dict[str, list[str]] = {}
    for channel in channels:
        if channel.version is not None:
            holders.setdefault(channel.version.fingerprint, []).append(channel.name)
    for fingerprint, names in holders.items():
        relations, was_cut = client.ancestry(bucket, children=False, fingerprint=fingerprint)
        if was_cut:
            cut.append(f"parents of {fingerprint}")
        parents += [
            ParentRow(
                channels=tuple(sorted(names)),
                version=r.child,
                parent=r.parent,
                parent_channel=r.parent_channel,
                parent_channel_now=r.parent_channel_now,
                status=r.status,
            )
            for r in relations
        ]
    relations, was_cut = client.ancestry(bucket, children=True)
    if was_cut:
        cut.append("children")
    return BucketStatus(
        bucket=bucket,
        checked_at=datetime.now(UTC),
        version_count=found.version_count,
        channels=tuple(
            ChannelRow(c.name, c.managed, c.version, c.updated_at)
            for c in sorted(channels, key=lambda c: (c.name != MANAGED_CHANNEL, c.name))
        ),
        incomplete=tuple(v for v in newest if not v.is_complete),
        versions_read=len(newest),
        parents=tuple(sorted(parents, key=lambda p: (_RANK[p.status], p.channels))),
        children=tuple(_children(relations)),
        cut_short=tuple(cut),
    )


def _with_builds(client: HcpPackerClient, bucket: str, channels: list[Channel]) -> list[Channel]:
    """Channels whose complete version came without its builds get it read once (the regions
    come from the builds, and a listing need not carry them)."""
    full: dict[str, Version] = {}
    out = []
    for channel in channels:
        version = channel.version
        if version is not None and version.is_complete and not version.builds:
            if version.fingerprint not in full:
                try:
                    full[version.fingerprint] = client.get_version(bucket, version.fingerprint)
                except (Aborted, NotFound):
                    full[version.fingerprint] = version  # deleted meanwhile: show what we have
            out.append(replace(channel, version=full[version.fingerprint]))
        else:
            out.append(channel)
    return out


def _children(relations: list[Relation]) -> list[ChildRow]:
    """One row per child bucket and parent channel, judged by the newest child version built
    from us through that channel: older child versions stay OUT_OF_DATE for ever, and only
    the newest says whether the child needs a rebuild."""
    groups: dict[tuple[str, str], list[Relation]] = {}
    for relation in relations:
        groups.setdefault((relation.child.bucket_name, relation.parent_channel), []).append(
            relation
        )
    rows = []
    for (child_bucket, channel), group in groups.items():
        newest = max(group, key=lambda r: (r.child.number, r.child.id))
        # A child version built from two of our versions through one channel (two builds):
        # out of date when any of them is.
        same = [r for r in group if r.child.id == newest.child.id]
        rows.append(
            ChildRow(
                bucket=child_bucket,
                version=newest.child,
                built_from=newest.parent,
                via_channel=channel,
                channel_now=newest.parent_channel_now,
                status=min((r.status for r in same), key=lambda s: _RANK[s]),
            )
        )
    return sorted(rows, key=lambda r: (_RANK[r.status], r.bucket, r.via_channel))
