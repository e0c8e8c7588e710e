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

    @classmethod
    def from_api(cls, data: Any) -> Build:
        data = _obj(data, "build")
        return cls(
            id=_str(data, "id"),
            component_type=_str(data, "component_type"),
            status=_enum(BuildStatus, _str(data, "status"), BuildStatus.UNSET),
            platform=_str(data, "platform"),
            artifacts=tuple(Artifact.from_api(a) for a in as_list(data, "artifacts")),
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

    @classmethod
    def from_api(cls, data: Any) -> Version:
        data = _obj(data, "version")
        return cls(
            id=_str(data, "id"),
            fingerprint=_str(data, "fingerprint"),
            name=_str(data, "name"),
            status=_enum(VersionStatus, _str(data, "status"), VersionStatus.UNSET),
            bucket_name=_str(data, "bucket_name"),
            builds=tuple(Build.from_api(b) for b in as_list(data, "builds")),
            revoke_at=_str(data, "revoke_at"),
        )

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
