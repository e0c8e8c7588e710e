"""What `status` and `find` established, and its JSON form (the `status` output, `--json`).

Pure data: the commands fill it, outputs/summary/console render it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hcp_action.hcp.models import AncestryStatus, Version, VersionRef

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def parse_time(value: str) -> datetime | None:
    if not value or value.startswith("0001-"):  # Go's zero time means unset
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def age_seconds(value: str, now: datetime) -> int | None:
    when = parse_time(value)
    return None if when is None else max(int((now - when).total_seconds()), 0)


def human_age(seconds: int | None) -> str:
    if seconds is None:
        return "?"
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def minute(value: str) -> str:
    """ "2026-12-07T10:00:00.123Z" → "2026-12-07 10:00" (minutes are enough to show); '' if
    the value is too short to be a timestamp."""
    return value[:16].replace("T", " ") if len(value) >= 16 else ""


def revocation(version: Version) -> str:
    """'' (valid), 'scheduled', 'revoked' or 'revoked (inherited)'."""
    if version.revocation_scheduled:
        return "scheduled"
    if not version.is_revoked:
        return ""
    return "revoked (inherited)" if version.revocation_type == "INHERITED" else "revoked"


def revocation_detail(version: Version) -> str:
    """'no', or the revocation with where it came from or when it takes effect."""
    state = revocation(version) or "no"
    if version.inherited_from is not None:
        a = version.inherited_from
        return f"{state}, from {a.bucket_name} {a.version_name} ({a.version_fingerprint})"
    if version.revocation_scheduled:
        return f"{state} at {minute(version.revoke_at)}"
    return state


def _version_json(version: Version, now: datetime) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": version.name,
        "fingerprint": version.fingerprint,
        "id": version.id,
        "status": version.status.value,
        "created_at": version.created_at,
        "age_seconds": age_seconds(version.created_at, now),
        "revocation": revocation(version),
        "revoke_at": version.revoke_at if version.is_revoked else "",
        "regions": list(version.regions),
    }
    if version.inherited_from is not None:
        a = version.inherited_from
        out["revocation_inherited_from"] = {
            "bucket": a.bucket_name,
            "version_name": a.version_name,
            "version_fingerprint": a.version_fingerprint,
        }
    return out


def _ref(ref: VersionRef | None) -> dict[str, str] | None:
    if ref is None:
        return None
    return {
        "bucket": ref.bucket_name,
        "name": ref.name,
        "fingerprint": ref.fingerprint,
        "id": ref.id,
    }


@dataclass(frozen=True, slots=True)
class ChannelRow:
    name: str
    managed: bool
    version: Version | None
    assigned_at: str


@dataclass(frozen=True, slots=True)
class ParentRow:
    """A version on our channels and the parent it was built from."""

    channels: tuple[str, ...]
    version: VersionRef
    parent: VersionRef
    parent_channel: str
    parent_channel_now: VersionRef | None
    status: AncestryStatus


@dataclass(frozen=True, slots=True)
class ChildRow:
    """A bucket built from ours, judged by its newest version built from ours."""

    bucket: str
    version: VersionRef
    built_from: VersionRef
    via_channel: str
    channel_now: VersionRef | None
    status: AncestryStatus


@dataclass(frozen=True, slots=True)
class BucketStatus:
    bucket: str
    checked_at: datetime
    version_count: int
    channels: tuple[ChannelRow, ...]
    incomplete: tuple[Version, ...]  # from the newest page of versions only
    versions_read: int
    parents: tuple[ParentRow, ...]
    children: tuple[ChildRow, ...]
    cut_short: tuple[str, ...] = field(default_factory=tuple)  # lists the registry paged past

    @property
    def out_of_date_children(self) -> list[str]:
        return sorted({c.bucket for c in self.children if c.status is AncestryStatus.OUT_OF_DATE})

    def channel_map(self) -> dict[str, str]:
        return {c.name: c.version.fingerprint if c.version else "" for c in self.channels}

    def to_json(self) -> dict[str, Any]:
        now = self.checked_at
        return {
            "bucket": self.bucket,
            "checked_at": now.isoformat(timespec="seconds").replace("+00:00", "Z"),
            "version_count": self.version_count,
            "channels": [
                {
                    "name": c.name,
                    "managed": c.managed,
                    "assigned_at": c.assigned_at,
                    "version": _version_json(c.version, now) if c.version else None,
                }
                for c in self.channels
            ],
            "incomplete_versions": [_version_json(v, now) for v in self.incomplete],
            "versions_read": self.versions_read,
            "parents": [
                {
                    "channels": list(p.channels),
                    "version": _ref(p.version),
                    "parent": _ref(p.parent),
                    "parent_channel": p.parent_channel,
                    "parent_channel_now": _ref(p.parent_channel_now),
                    "status": p.status.value,
                }
                for p in self.parents
            ],
            "children": [
                {
                    "bucket": c.bucket,
                    "version": _ref(c.version),
                    "built_from": _ref(c.built_from),
                    "via_channel": c.via_channel,
                    "channel_now": _ref(c.channel_now),
                    "status": c.status.value,
                }
                for c in self.children
            ],
            "out_of_date_children": self.out_of_date_children,
            "cut_short": list(self.cut_short),
        }


@dataclass(frozen=True, slots=True)
class Finding:
    """Where an artifact comes from: its bucket, version and build, and the channels now."""

    artifact_id: str
    platform: str
    region: str
    bucket: str
    version: Version
    build_id: str
    component: str
    channels: tuple[str, ...]
    others: tuple[str, ...] = field(default_factory=tuple)  # other versions holding the id

    @property
    def revoked(self) -> bool:
        return self.version.is_revoked and not self.version.revocation_scheduled

    def to_json(self) -> dict[str, Any]:
        return {
            "artifact_id": self.artifact_id,
            "platform": self.platform,
            "region": self.region,
            "bucket": self.bucket,
            "build_id": self.build_id,
            "component": self.component,
            "channels": list(self.channels),
            "revoked": self.revoked,
            "version": _version_json(self.version, datetime.now(UTC)),
            "also_in": list(self.others),
        }
