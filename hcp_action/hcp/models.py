"""Typed, frozen views of the registry's JSON (snake_case fields of the 2023-01-01 API)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any, TypeVar

from hcp_action.errors import TransportError

INCOMPLETE_NAME = "v0"
E = TypeVar("E", bound=enum.StrEnum)


class VersionStatus(enum.StrEnum):
    UNSET = "VERSION_UNSET"
    RUNNING = "VERSION_RUNNING"
    CANCELLED = "VERSION_CANCELLED"
    FAILED = "VERSION_FAILED"
    REVOKED = "VERSION_REVOKED"
    REVOCATION_SCHEDULED = "VERSION_REVOCATION_SCHEDULED"
    ACTIVE = "VERSION_ACTIVE"
    INCOMPLETE = "VERSION_INCOMPLETE"


class BuildStatus(enum.StrEnum):
    UNSET = "BUILD_UNSET"
    RUNNING = "BUILD_RUNNING"
    DONE = "BUILD_DONE"
    CANCELLED = "BUILD_CANCELLED"
    FAILED = "BUILD_FAILED"


def _str(data: dict[str, Any], key: str) -> str:
    value = data.get(key)
    return value if isinstance(value, str) else ""


def _obj(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise TransportError(f"the registry answered with an unexpected {what}: not an object")
    return data


def as_list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise TransportError(f"the registry answered with an unexpected {key}: not a list")
    return value


def _enum(cls: type[E], raw: str, default: E) -> E:
    try:
        return cls(raw)
    except ValueError:
        return default


@dataclass(frozen=True, slots=True)
class Artifact:
    external_identifier: str
    region: str

    @classmethod
    def from_api(cls, data: Any) -> Artifact:
        data = _obj(data, "artifact")
        return cls(
            external_identifier=_str(data, "external_identifier"), region=_str(data, "region")
        )


@dataclass(frozen=True, slots=True)
class Build:
    id: str
    component_type: str
    status: BuildStatus
    platform: str
    artifacts: tuple[Artifact, ...]
    created_at: str = ""

    @classmethod
    def from_api(cls, data: Any) -> Build:
        data = _obj(data, "build")
        return cls(
            id=_str(data, "id"),
            component_type=_str(data, "component_type"),
            status=_enum(BuildStatus, _str(data, "status"), BuildStatus.UNSET),
            platform=_str(data, "platform"),
            artifacts=tuple(Artifact.from_api(a) for a in as_list(data, "artifacts")),
            created_at=_str(data, "created_at"),
        )


@dataclass(frozen=True, slots=True)
class RevokedAncestor:
    bucket_name: str
    version_name: str
    version_fingerprint: str

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> RevokedAncestor:
        return cls(
            bucket_name=_str(data, "bucket_name"),
            version_name=_str(data, "version_name"),
            version_fingerprint=_str(data, "version_fingerprint"),
        )


@dataclass(frozen=True, slots=True)
class Version:
    id: str
    fingerprint: str
    name: str
    status: VersionStatus
    bucket_name: str
    builds: tuple[Build, ...]
    revoke_at: str
    created_at: str = ""
    revocation_type: str = ""  # MANUAL or INHERITED (from a parent's revocation)
    inherited_from: RevokedAncestor | None = None

    @classmethod
    def from_api(cls, data: Any) -> Version:
        data = _obj(data, "version")
        ancestor = data.get("revocation_inherited_from")
        return cls(
            id=_str(data, "id"),
            fingerprint=_str(data, "fingerprint"),
            name=_str(data, "name"),
            status=_enum(VersionStatus, _str(data, "status"), VersionStatus.UNSET),
            bucket_name=_str(data, "bucket_name"),
            builds=tuple(Build.from_api(b) for b in as_list(data, "builds")),
            revoke_at=_str(data, "revoke_at"),
            created_at=_str(data, "created_at"),
            revocation_type=_str(data, "revocation_type"),
            inherited_from=RevokedAncestor.from_api(ancestor)
            if isinstance(ancestor, dict) and ancestor.get("version_fingerprint")
            else None,
        )

    @property
    def revocation_scheduled(self) -> bool:
        """Revocation set for a time still to come: valid until then."""
        return self.status is VersionStatus.REVOCATION_SCHEDULED

    @property
    def regions(self) -> tuple[str, ...]:
        return tuple(sorted({a.region for b in self.builds for a in b.artifacts if a.region}))

    @property
    def is_complete(self) -> bool:
        # Packer's own test (IsVersionComplete): the server renames v0 to vN on completion.
        return bool(self.name) and self.name != INCOMPLETE_NAME

    @property
    def is_revoked(self) -> bool:
        # A zero revoke_at is how Go clients say "unset".
        scheduled = bool(self.revoke_at) and not self.revoke_at.startswith("0001-")
        return scheduled or self.status in {
            VersionStatus.REVOKED,
            VersionStatus.REVOCATION_SCHEDULED,
        }


@dataclass(frozen=True, slots=True)
class Channel:
    id: str
    name: str
    managed: bool
    version: Version | None
    bucket_name: str = ""
    updated_at: str = ""  # when the channel last changed: the assignment time

    @classmethod
    def from_api(cls, data: Any) -> Channel:
        data = _obj(data, "channel")
        raw_version = data.get("version")
        version = Version.from_api(raw_version) if raw_version else None
        if version is not None and not version.fingerprint:
            version = None  # an unassigned channel may carry an empty version object
        return cls(
            id=_str(data, "id"),
            name=_str(data, "name"),
            managed=bool(data.get("managed")),
            version=version,
            bucket_name=_str(data, "bucket_name"),
            updated_at=_str(data, "updated_at"),
        )

    @property
    def fingerprint(self) -> str:
        return self.version.fingerprint if self.version else ""


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    version: Version
    assigned_at: str

    @classmethod
    def from_api(cls, data: Any) -> HistoryEntry:
        data = _obj(data, "channel assignment")
        return cls(
            version=Version.from_api(data.get("version") or {}),
            assigned_at=_str(data, "assigned_at"),
        )


@dataclass(frozen=True, slots=True)
class HistoryPage:
    entries: tuple[HistoryEntry, ...]
    next_page_token: str


class AncestryStatus(enum.StrEnum):
    UNDETERMINED = "UNDETERMINED"
    UP_TO_DATE = "UP_TO_DATE"
    OUT_OF_DATE = "OUT_OF_DATE"


@dataclass(frozen=True, slots=True)
class VersionRef:
    """A version as ancestry and search name it: bucket, fingerprint, id, name."""

    bucket_name: str
    fingerprint: str
    id: str
    name: str

    @classmethod
    def from_api(cls, data: Any, *, bucket: str = "") -> VersionRef:
        data = data if isinstance(data, dict) else {}
        return cls(
            bucket_name=_str(data, "bucket_name") or bucket,
            fingerprint=_str(data, "version_fingerprint") or _str(data, "fingerprint"),
            id=_str(data, "version_id") or _str(data, "id"),
            name=_str(data, "version_name") or _str(data, "name"),
        )

    @property
    def number(self) -> int:
        """vN's N, for ordering versions of one bucket (0 when the name is not vN)."""
        digits = self.name[1:]
        return (
            int(digits)
            if self.name.startswith("v") and digits.isascii() and digits.isdigit()
            else 0
        )


@dataclass(frozen=True, slots=True)
class Relation:
    """One BucketAncestry: a child version built from a parent version read from a channel."""

    child: VersionRef
    parent: VersionRef
    parent_channel: str
    parent_channel_now: VersionRef | None  # what that channel holds now
    status: AncestryStatus

    @classmethod
    def from_api(cls, data: Any) -> Relation:
        data = _obj(data, "ancestry relation")
        parent = data.get("parent") if isinstance(data.get("parent"), dict) else {}
        now = parent.get("channel_version")
        parent_bucket = _str(parent, "bucket_name")
        return cls(
            child=VersionRef.from_api(data.get("child")),
            parent=VersionRef.from_api(parent),
            parent_channel=_str(parent, "channel_name"),
            parent_channel_now=VersionRef.from_api(now, bucket=parent_bucket)
            if isinstance(now, dict) and now.get("fingerprint")
            else None,
            status=_enum(AncestryStatus, _str(data, "status"), AncestryStatus.UNDETERMINED),
        )


@dataclass(frozen=True, slots=True)
class Bucket:
    name: str
    version_count: int

    @classmethod
    def from_api(cls, data: Any) -> Bucket:
        data = _obj(data, "bucket")
        raw = data.get("version_count")  # int64: a JSON string (a number accepted too)
        count = str(raw) if isinstance(raw, (str, int)) and not isinstance(raw, bool) else ""
        return cls(
            name=_str(data, "name"),
            version_count=int(count) if count.isascii() and count.isdigit() else 0,
        )


@dataclass(frozen=True, slots=True)
class Found:
    """One SearchExternalArtifact hit: the artifact's bucket, version and build."""

    bucket_name: str
    version: VersionRef
    build: Build

    @classmethod
    def from_api(cls, data: Any) -> Found:
        data = _obj(data, "external artifact")
        bucket = data.get("bucket") if isinstance(data.get("bucket"), dict) else {}
        version = data.get("version") if isinstance(data.get("version"), dict) else {}
        bucket_name = _str(bucket, "name")
        return cls(
            bucket_name=bucket_name,
            version=VersionRef.from_api(version, bucket=bucket_name),
            build=Build.from_api(data.get("build") or {}),
        )
