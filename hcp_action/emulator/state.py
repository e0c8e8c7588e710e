"""Registry state and its rules (server-side completion, managed `latest`, history, revocation).

Pure data and logic: no HTTP here. Every public method returns `(http_status, body)`, bodies
shaped as the 2023-01-01 spec says; errors are google.rpc.Status objects.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

Json = dict[str, Any]
Reply = tuple[int, Json]

NAME_RE = re.compile(r"^[a-zA-Z0-9-]{3,36}$")
FINGERPRINT_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,38}[A-Za-z0-9])?$")
BUILD_STATUSES = frozenset(
    {"BUILD_UNSET", "BUILD_RUNNING", "BUILD_DONE", "BUILD_CANCELLED", "BUILD_FAILED"}
)
LATEST = "latest"
# grpc-gateway's default mapping; live HCP pairs 10 with 409 as well.
HTTP_FOR_CODE = {
    3: 400,
    5: 404,
    6: 409,
    7: 403,
    9: 400,
    10: 409,
    12: 501,
    13: 500,
    14: 503,
    16: 401,
}
_ULID_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_DURATION_RE = re.compile(r"^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


# Fields ListVersions can be ordered by, as (key, tie-break) pairs.
_VERSION_ORDER: dict[str, Callable[[Json], tuple[Any, ...]]] = {
    "created_at": lambda v: (v["created_at"], v["id"]),
    "updated_at": lambda v: (v["updated_at"], v["id"]),
    "name": lambda v: (int(v["name"][1:]) if v["name"][1:].isdigit() else 0, v["created_at"]),
    "fingerprint": lambda v: (v["fingerprint"],),
}


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value)


def ulid() -> str:
    millis = int(time.time() * 1000)
    head = "".join(_ULID_ALPHABET[(millis >> (5 * i)) & 31] for i in reversed(range(10)))
    return head + "".join(secrets.choice(_ULID_ALPHABET) for _ in range(16))


def public(record: Json) -> Json:
    """What the API shows of a stored record: its `_`-prefixed bookkeeping stays inside."""
    return {k: v for k, v in record.items() if not k.startswith("_")}


def status(code: int, message: str) -> Reply:
    return HTTP_FOR_CODE.get(code, 500), {"code": code, "message": message, "details": []}


class Refusal(Exception):
    """Raised by lookups deep in a request; the server turns it into its google.rpc.Status."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.reply = status(code, message)


class Registry:
    """All projects' buckets. Thread-safe: callers hold `lock` around a whole request."""

    def __init__(self, data: Json | None = None, *, inherit_delay: float = 1.0) -> None:
        self.lock = threading.RLock()
        self.data: Json = data or {"projects": {}}
        # HCP revokes descendants asynchronously: here each generation inherits this long after
        # its parent was revoked (0: at once). Readers in between see the descendants valid.
        self.inherit_delay = inherit_delay

    # ---- helpers -------------------------------------------------------------------------
    def _project(self, org: str, project: str) -> Json:
        projects: Json = self.data.setdefault("projects", {})
        result: Json = projects.setdefault(f"{org}/{project}", {"buckets": {}})
        return result

    def _bucket(self, org: str, project: str, name: str) -> Json | None:
        bucket: Json | None = self._project(org, project)["buckets"].get(name)
        return bucket

    def _need_bucket(self, org: str, project: str, name: str) -> Json:
        bucket = self._bucket(org, project, name)
        if bucket is None:
            raise Refusal(5, f"bucket {name!r} not found")
        return bucket

    def _render_version(self, bucket: Json, version: Json) -> Json:
        out = {k: v for k, v in version.items() if not k.startswith("_")}
        out["bucket_name"] = bucket["name"]
        out["builds"] = [public(b) for b in version["builds"]]
        return out

    def _render_channel(self, bucket: Json, channel: Json) -> Json:
        out = {k: v for k, v in channel.items() if not k.startswith("_")}
        out["bucket_name"] = bucket["name"]
        fingerprint = channel["_fingerprint"]
        version = bucket["versions"].get(fingerprint) if fingerprint else None
        if version is not None:
            out["version"] = self._render_version(bucket, version)
        return out

    def _render_bucket(self, org: str, project: str, bucket: Json) -> Json:
        out = {
            k: v
            for k, v in bucket.items()
            if not k.startswith("_") and k not in {"versions", "channels"}
        }
        out["location"] = {"organization_id": org, "project_id": project}
        out["version_count"] = str(len(bucket["versions"]))
        out["resource_name"] = f"packer/project/{project}/bucket/{bucket['name']}"
        latest = bucket["channels"].get(LATEST)
        if latest and latest["_fingerprint"] in bucket["versions"]:
            out["latest_version"] = self._render_version(
                bucket, bucket["versions"][latest["_fingerprint"]]
            )
        platforms = sorted(
            {
                b["platform"]
                for v in bucket["versions"].values()
                for b in v["builds"]
                if b.get("platform")
            }
        )
        out["platforms"] = platforms
        return out

    @staticmethod
    def _paginate(
        items: list[Json], query: dict[str, str], default_size: int = 20
    ) -> tuple[list[Json], Json]:
        try:
            size = int(query.get("pagination.page_size") or default_size) or default_size
            start = int(query.get("pagination.next_page_token") or 0)
        except ValueError:
            size, start = default_size, 0
        page = items[start : start + size]
        nxt = str(start + size) if start + size < len(items) else ""
        prev = str(max(start - size, 0)) if start > 0 else ""
        return page, {"next_page_token": nxt, "previous_page_token": prev}

    # ---- buckets -------------------------------------------------------------------------
    def create_bucket(self, org: str, project: str, body: Json) -> Reply:
        name = str(body.get("name") or "")
        if not NAME_RE.fullmatch(name):
            return status(3, f"invalid bucket name {name!r}")
        buckets = self._project(org, project)["buckets"]
        if name in buckets:
            return status(6, f"bucket {name!r} already exists")
        stamp = now()
        bucket = {
            "id": ulid(),
            "name": name,
            "description": str(body.get("description") or ""),
            "labels": dict(body.get("labels") or {}),
            "created_at": stamp,
            "updated_at": stamp,
            "versions": {},
            # Every bucket has the managed `latest` channel from creation, empty until a version
            # completes (HCP docs, manage/channel).
            "channels": {LATEST: self._new_channel(LATEST, managed=True, author="hcp-packer")},
            "_counter": 0,
        }
        buckets[name] = bucket
        return 200, {"bucket": self._render_bucket(org, project, bucket)}

    def get_bucket(self, org: str, project: str, name: str) -> Reply:
        bucket = self._need_bucket(org, project, name)
        return 200, {"bucket": self._render_bucket(org, project, bucket)}

    def list_buckets(self, org: str, project: str, query: dict[str, str]) -> Reply:
        buckets = [
            self._render_bucket(org, project, b)
            for b in self._project(org, project)["buckets"].values()
        ]
        page, pagination = self._paginate(buckets, query)
        return 200, {"buckets": page, "pagination": pagination}

    def update_bucket(self, org: str, project: str, name: str, body: Json) -> Reply:
        bucket = self._need_bucket(org, project, name)
        if "description" in body:
            bucket["description"] = str(body.get("description") or "")
        if "labels" in body:
            bucket["labels"] = dict(body.get("labels") or {})
        bucket["updated_at"] = now()
        return 200, {"bucket": self._render_bucket(org, project, bucket)}

    # ---- versions ------------------------------------------------------------------------
    def create_version(self, org: str, project: str, name: str, body: Json) -> Reply:
        bucket = self._need_bucket(org, project, name)
        fingerprint = str(body.get("fingerprint") or "")
        if not FINGERPRINT_RE.fullmatch(fingerprint):
            return status(3, f"invalid fingerprint {fingerprint!r}")
        if fingerprint in bucket["versions"]:
            return status(6, f"version with fingerprint {fingerprint!r} already exists")
        stamp = now()
        version = {
            "id": ulid(),
            "fingerprint": fingerprint,
            "name": "v0",
            "status": "VERSION_RUNNING",
            "template_type": str(body.get("template_type") or "HCL2"),
            "author_id": "emulator",
            "created_at": stamp,
            "updated_at": stamp,
            "builds": [],
            "has_descendants": False,
            "revocation_message": "",
            "revocation_author": "",
        }
        bucket["versions"][fingerprint] = version
        bucket["updated_at"] = stamp
        return 200, {"version": self._render_version(bucket, version)}

    def _version(self, org: str, project: str, name: str, fingerprint: str) -> tuple[Json, Json]:
        bucket = self._need_bucket(org, project, name)
        version = bucket["versions"].get(fingerprint)
        if version is None:
            # Code 10 (Aborted), not 5: Packer creates a version only on this code.
            raise Refusal(10, f"version with fingerprint {fingerprint!r} not found")
        return bucket, version

    def get_version(self, org: str, project: str, name: str, fingerprint: str) -> Reply:
        bucket, version = self._version(org, project, name, fingerprint)
        self._apply_schedule(bucket, version)
        return 200, {"version": self._render_version(bucket, version)}

    def list_versions(self, org: str, project: str, name: str, query: dict[str, str]) -> Reply:
        """ListVersions in `sorting.order_by` order. HCP's default order is not documented:
        without one the emulator answers oldest first, the least useful order, so a client that
        needs the newest versions has to ask."""
        bucket = self._need_bucket(org, project, name)
        order = (query.get("sorting.order_by") or "created_at asc").split(",")[0].split()
        field = order[0] if order else "created_at"
        direction = order[1].lower() if len(order) > 1 else "asc"
        if field not in _VERSION_ORDER or direction not in {"asc", "desc"} or len(order) > 2:
            return status(3, f"invalid sorting.order_by {query.get('sorting.order_by')!r}")
        versions = sorted(
            bucket["versions"].values(), key=_VERSION_ORDER[field], reverse=direction == "desc"
        )
        page, pagination = self._paginate(
            [self._render_version(bucket, v) for v in versions], query
        )
        return 200, {"versions": page, "pagination": pagination}

    def update_version(
        self, org: str, project: str, name: str, fingerprint: str, body: Json, author: str
    ) -> Reply:
        bucket, version = self._version(org, project, name, fingerprint)
        if body.get("restore"):
            version.update(
                status="VERSION_ACTIVE" if version["name"] != "v0" else "VERSION_RUNNING",
                revocation_message="",
                revocation_author="",
            )
            for key in ("revoke_at", "revocation_type"):
                version.pop(key, None)
            if version["fingerprint"] in bucket.get("_scheduled", []):
                bucket["_scheduled"].remove(version["fingerprint"])
            version["updated_at"] = now()
            self._refresh_latest(bucket)
            return 200, {"version": self._render_version(bucket, version), "operation": {}}
        revoke_at = str(body.get("revoke_at") or "")
        if revoke_at.startswith("0001-"):
            revoke_at = ""  # Go clients send the zero time for "unset"
        revoke_in = str(body.get("revoke_in") or "")
        if revoke_at and revoke_in:
            return status(3, "set revoke_at or revoke_in, not both")
        if revoke_in:
            match = _DURATION_RE.fullmatch(revoke_in)
            if not match or not any(match.groups()):
                return status(3, f"invalid revoke_in {revoke_in!r}")
            d, h, m, s = (int(g or 0) for g in match.groups())
            when = datetime.now(UTC) + timedelta(days=d, hours=h, minutes=m, seconds=s)
            revoke_at = when.isoformat(timespec="microseconds").replace("+00:00", "Z")
        if revoke_at:
            if version["name"] == "v0":
                return status(9, "an incomplete version cannot be revoked")
            try:
                parse_time(revoke_at)
            except ValueError:
                return status(3, f"invalid revoke_at {revoke_at!r}")
            version.update(
                revoke_at=revoke_at,
                revocation_type="MANUAL",
                revocation_author=author,
                revocation_message=str(body.get("revocation_message") or ""),
                status="VERSION_REVOCATION_SCHEDULED",
                updated_at=now(),
            )
            version["_rollback"] = not body.get("disable_rollback_channels")
            version["_skip_descendants"] = bool(body.get("skip_descendants_revocation"))
            # Pending revocations are tracked so reads need not scan every version.
            bucket.setdefault("_scheduled", []).append(fingerprint)
            self._apply_schedule(bucket, version)
        elif body.get("complete"):
            return status(9, "versions are completed by their builds")
        return 200, {"version": self._render_version(bucket, version), "operation": {}}

    def _apply_schedule(self, bucket: Json, version: Json) -> None:
        revoke_at = version.get("revoke_at")
        if not revoke_at or version["status"] == "VERSION_REVOKED":
            return
        if parse_time(revoke_at) <= datetime.now(UTC):
            version["status"] = "VERSION_REVOKED"
            scheduled = bucket.get("_scheduled", [])
            if version["fingerprint"] in scheduled:
                scheduled.remove(version["fingerprint"])
            if version.pop("_rollback", True):
                self._move_channels_off(bucket, version["fingerprint"])
            self._refresh_latest(bucket)
            if not version.pop("_skip_descendants", False):
                self._revoke_descendants(bucket, version)

    def _project_of(self, bucket: Json) -> Json:
        for project in self.data["projects"].values():
            if any(b is bucket for b in project["buckets"].values()):
                found: Json = project
                return found
        raise Refusal(13, "bucket outside every project")

    def _revoke_descendants(self, bucket: Json, parent: Json) -> None:
        """Versions built from a revoked version inherit its revocation, recursively, unless
        skip_descendants_revocation — asynchronously, as HCP does (`inherit_delay`)."""
        if self.inherit_delay <= 0:
            self._inherit(bucket, parent)
            return
        data = self.data

        def later() -> None:
            with self.lock:
                # Not if the registry was replaced (a test restored a snapshot) or the parent
                # was restored in the meantime.
                if self.data is data and parent["status"] == "VERSION_REVOKED":
                    self._inherit(bucket, parent)

        timer = threading.Timer(self.inherit_delay, later)
        timer.daemon = True
        timer.start()

    def _inherit(self, bucket: Json, parent: Json) -> None:
        source = {
            "bucket_name": bucket["name"],
            "version_name": parent["name"],
            "version_id": parent["id"],
            "version_fingerprint": parent["fingerprint"],
        }
        for child_bucket in self._project_of(bucket)["buckets"].values():
            for child in child_bucket["versions"].values():
                built_from = {b.get("_parent_version_id") for b in child["builds"]}
                if parent["id"] not in built_from or child["status"] == "VERSION_REVOKED":
                    continue
                child.update(
                    revoke_at=parent["revoke_at"],
                    revocation_type="INHERITED",
                    revocation_author=parent.get("revocation_author", ""),
                    revocation_message=parent.get("revocation_message", ""),
                    revocation_inherited_from=dict(source),
                    status="VERSION_REVOKED",
                    updated_at=now(),
                )
                self._move_channels_off(child_bucket, child["fingerprint"])
                self._refresh_latest(child_bucket)
                self._revoke_descendants(child_bucket, child)

    @staticmethod
    def _valid(bucket: Json, fingerprint: str) -> bool:
        """Complete and not revoked now: a scheduled revocation is valid until its time."""
        version = bucket["versions"].get(fingerprint)
        return bool(version) and version["name"] != "v0" and version["status"] != "VERSION_REVOKED"

    def _refresh_latest(self, bucket: Json) -> None:
        """`latest` follows the newest complete, unrevoked version (after a completion, a
        revocation taking effect, or a revocation undone)."""
        valid = [v for v in bucket["versions"].values() if self._valid(bucket, v["fingerprint"])]
        newest = max(valid, key=lambda v: int(v["name"][1:]), default=None)
        latest = bucket["channels"].setdefault(
            LATEST, self._new_channel(LATEST, managed=True, author="hcp-packer")
        )
        target = newest["fingerprint"] if newest else ""
        if latest["_fingerprint"] != target:
            self._assign(latest, target, "hcp-packer")

    def _move_channels_off(self, bucket: Json, fingerprint: str) -> None:
        for channel in bucket["channels"].values():
            if channel["_fingerprint"] != fingerprint or channel["managed"]:
                continue
            target = ""
            for entry in sorted(channel["_history"], key=lambda e: e["assigned_at"], reverse=True):
                if entry["fingerprint"] != fingerprint and self._valid(
                    bucket, entry["fingerprint"]
                ):
                    target = entry["fingerprint"]
                    break
            self._assign(channel, target, "hcp-packer")

    # ---- builds --------------------------------------------------------------------------
    def list_builds(self, org: str, project: str, name: str, fingerprint: str) -> Reply:
        _, version = self._version(org, project, name, fingerprint)
        return 200, {
            "builds": [public(b) for b in version["builds"]],
            "pagination": {"next_page_token": "", "previous_page_token": ""},
        }

    def create_build(
        self, org: str, project: str, name: str, fingerprint: str, body: Json
    ) -> Reply:
        bucket, version = self._version(org, project, name, fingerprint)
        component = str(body.get("component_type") or "")
        if not component:
            return status(3, "component_type is required")
        if version["name"] != "v0":
            return status(9, "the version is complete: create a new version")
        if any(b["component_type"] == component for b in version["builds"]):
            return status(6, f"build for component {component!r} already exists")
        build_status = str(body.get("status") or "BUILD_UNSET")
        if build_status not in BUILD_STATUSES:
            return status(3, f"invalid status {build_status!r}")
        stamp = now()
        build = {
            "id": ulid(),
            "version_id": version["id"],
            "component_type": component,
            "packer_run_uuid": str(body.get("packer_run_uuid") or ""),
            "status": build_status,
            "platform": "",
            "artifacts": [],
            "labels": {},
            "source_external_identifier": "",
            "metadata": {},
            "created_at": stamp,
            "updated_at": stamp,
        }
        version["builds"].append(build)
        version["updated_at"] = stamp
        bucket["updated_at"] = stamp
        return 200, {"build": public(build)}

    def _build(
        self, org: str, project: str, name: str, fingerprint: str, build_id: str
    ) -> tuple[Json, Json, Json]:
        bucket, version = self._version(org, project, name, fingerprint)
        for build in version["builds"]:
            if build["id"] == build_id:
                return bucket, version, build
        raise Refusal(5, f"build {build_id!r} not found")

    def get_build(
        self, org: str, project: str, name: str, fingerprint: str, build_id: str
    ) -> Reply:
        build = self._build(org, project, name, fingerprint, build_id)[2]
        return 200, {"build": public(build)}

    def update_build(
        self,
        org: str,
        project: str,
        name: str,
        fingerprint: str,
        build_id: str,
        body: Json,
        author: str,
    ) -> Reply:
        bucket, version, build = self._build(org, project, name, fingerprint, build_id)
        if version["name"] != "v0":
            return status(9, "the version is complete and cannot be changed")
        new_status = body.get("status")
        if new_status is not None and new_status not in BUILD_STATUSES:
            return status(3, f"invalid status {new_status!r}")
        stamp = now()
        if new_status:
            build["status"] = new_status
        # `artifacts: null` is a heartbeat or status-only update: leave them unchanged.
        if body.get("artifacts") is not None:
            build["artifacts"] = [
                {
                    "id": ulid(),
                    "external_identifier": str(a.get("external_identifier") or ""),
                    "region": str(a.get("region") or ""),
                    "created_at": stamp,
                }
                for a in body["artifacts"]
            ]
        for key in ("parent_version_id", "parent_channel_id"):
            if body.get(key):  # UpdateBuildBody only: kept, not part of the Build model
                build[f"_{key}"] = str(body[key])
        for key in ("platform", "packer_run_uuid", "source_external_identifier"):
            if body.get(key):
                build[key] = str(body[key])
        for key in ("labels", "metadata"):
            if isinstance(body.get(key), dict):
                build[key] = body[key]
        build["updated_at"] = stamp
        version["updated_at"] = stamp
        if build["status"] == "BUILD_DONE" and not build["artifacts"]:
            return status(9, "setting a build to DONE with no published artifacts")
        self._maybe_complete(bucket, version, author)
        return 200, {"build": public(build)}

    def _maybe_complete(self, bucket: Json, version: Json, _author: str) -> None:
        builds = version["builds"]
        if version["name"] != "v0" or not builds:
            return
        if all(b["status"] == "BUILD_DONE" for b in builds):
            # Server-side completion: v0 -> vN, ACTIVE, managed `latest` follows.
            bucket["_counter"] += 1
            version.update(name=f"v{bucket['_counter']}", status="VERSION_ACTIVE", updated_at=now())
            self._refresh_latest(bucket)
            return
        # The version's status follows its builds (VersionStatus in the spec): running while
        # any runs; failed or cancelled when one did; incomplete when some never ran.
        statuses = {b["status"] for b in builds}
        for build_status, version_status in (
            ("BUILD_RUNNING", "VERSION_RUNNING"),
            ("BUILD_FAILED", "VERSION_FAILED"),
            ("BUILD_CANCELLED", "VERSION_CANCELLED"),
        ):
            if build_status in statuses:
                version["status"] = version_status
                return
        version["status"] = "VERSION_INCOMPLETE" if "BUILD_DONE" in statuses else "VERSION_RUNNING"

    # ---- channels ------------------------------------------------------------------------
    @staticmethod
    def _new_channel(name: str, *, managed: bool, author: str) -> Json:
        stamp = now()
        return {
            "id": ulid(),
            "name": name,
            "author_id": author,
            "created_at": stamp,
            "updated_at": stamp,
            "managed": managed,
            "restricted": False,
            "_fingerprint": "",
            "_history": [],
        }

    @staticmethod
    def _assign(channel: Json, fingerprint: str, author: str) -> None:
        stamp = now()
        if fingerprint and fingerprint != channel["_fingerprint"]:
            channel["_history"].append(
                {"fingerprint": fingerprint, "assigned_at": stamp, "author_id": author}
            )
        channel["_fingerprint"] = fingerprint
        channel["updated_at"] = stamp
        channel["author_id"] = author

    def _assignable(self, bucket: Json, fingerprint: str) -> Reply | None:
        version = bucket["versions"].get(fingerprint)
        if version is None:
            return status(5, f"version with fingerprint {fingerprint!r} not found")
        if version["name"] == "v0":
            return status(9, f"version {fingerprint!r} is not complete")
        if version["status"] == "VERSION_REVOKED":
            return status(9, f"version {fingerprint!r} is revoked")
        return None

    def list_channels(self, org: str, project: str, name: str) -> Reply:
        bucket = self._need_bucket(org, project, name)
        return 200, {
            "channels": [self._render_channel(bucket, c) for c in bucket["channels"].values()]
        }

    def create_channel(self, org: str, project: str, name: str, body: Json, author: str) -> Reply:
        bucket = self._need_bucket(org, project, name)
        channel_name = str(body.get("name") or "")
        if not NAME_RE.fullmatch(channel_name):
            return status(3, f"invalid channel name {channel_name!r}")
        if channel_name in bucket["channels"]:
            return status(6, f"channel {channel_name!r} already exists")
        if channel_name == LATEST:
            return status(9, "the latest channel is managed by HCP Packer")
        fingerprint = str(body.get("version_fingerprint") or "")
        if fingerprint and (refusal := self._assignable(bucket, fingerprint)):
            return refusal
        channel = self._new_channel(channel_name, managed=False, author=author)
        channel["restricted"] = bool(body.get("restricted"))
        self._assign(channel, fingerprint, author)
        bucket["channels"][channel_name] = channel
        return 200, {"channel": self._render_channel(bucket, channel)}

    def _channel(self, org: str, project: str, name: str, channel_name: str) -> tuple[Json, Json]:
        bucket = self._need_bucket(org, project, name)
        for fingerprint in list(bucket.get("_scheduled", [])):
            self._apply_schedule(bucket, bucket["versions"][fingerprint])
        channel = bucket["channels"].get(channel_name)
        if channel is None:
            raise Refusal(5, f"channel {channel_name!r} not found")
        return bucket, channel

    def get_channel(self, org: str, project: str, name: str, channel_name: str) -> Reply:
        bucket, channel = self._channel(org, project, name, channel_name)
        return 200, {"channel": self._render_channel(bucket, channel)}

    def update_channel(
        self, org: str, project: str, name: str, channel_name: str, body: Json, author: str
    ) -> Reply:
        bucket, channel = self._channel(org, project, name, channel_name)
        if channel["managed"]:
            return status(9, f"channel {channel_name!r} is managed by HCP Packer")
        mask = {m.strip() for m in str(body.get("update_mask") or "").split(",") if m.strip()}
        if not mask or not mask <= {"versionFingerprint", "restricted"}:
            return status(3, "update_mask must name versionFingerprint and/or restricted")
        if "versionFingerprint" in mask:
            fingerprint = str(body.get("version_fingerprint") or "")
            if fingerprint and (refusal := self._assignable(bucket, fingerprint)):
                return refusal
            self._assign(channel, fingerprint, author)
        if "restricted" in mask:
            channel["restricted"] = bool(body.get("restricted"))
            channel["updated_at"] = now()
        return 200, {"channel": self._render_channel(bucket, channel)}

    def delete_channel(self, org: str, project: str, name: str, channel_name: str) -> Reply:
        bucket, channel = self._channel(org, project, name, channel_name)
        if channel["managed"]:
            return status(9, f"channel {channel_name!r} is managed by HCP Packer")
        del bucket["channels"][channel_name]
        return 200, {}

    def channel_history(
        self, org: str, project: str, name: str, channel_name: str, query: dict[str, str]
    ) -> Reply:
        bucket, channel = self._channel(org, project, name, channel_name)
        entries = sorted(channel["_history"], key=lambda e: e["assigned_at"], reverse=True)
        rendered = [
            {
                "version": self._render_version(bucket, bucket["versions"][e["fingerprint"]]),
                "author_id": e["author_id"],
                "assigned_at": e["assigned_at"],
            }
            for e in entries
            if e["fingerprint"] in bucket["versions"]
        ]
        page, pagination = self._paginate(rendered, query, default_size=10)
        return 200, {"history": page, "count": len(rendered), "pagination": pagination}

    # ---- ancestry and artifact search --------------------------------------------------------
    def _find_version_by_id(self, project: Json, version_id: str) -> tuple[Json, Json] | None:
        for bucket in project["buckets"].values():
            for version in bucket["versions"].values():
                if version["id"] == version_id:
                    return bucket, version
        return None

    def _find_channel_by_id(self, project: Json, channel_id: str) -> tuple[Json, Json] | None:
        for bucket in project["buckets"].values():
            for channel in bucket["channels"].values():
                if channel["id"] == channel_id:
                    return bucket, channel
        return None

    def _relations(self, project: Json) -> list[Json]:
        """Every (child version, parent version, parent channel) recorded from DONE bodies,
        with the status computed from the parent channel's current version."""
        relations: dict[tuple[str, str, str], Json] = {}
        for child_bucket in project["buckets"].values():
            for child in child_bucket["versions"].values():
                for build in child["builds"]:
                    parent_id = build.get("_parent_version_id")
                    found = self._find_version_by_id(project, parent_id) if parent_id else None
                    if found is None:
                        continue
                    parent_bucket, parent = found
                    channel_id = build.get("_parent_channel_id", "")
                    channel = self._find_channel_by_id(project, channel_id) if channel_id else None
                    relation: Json = {
                        "child": {
                            "bucket_name": child_bucket["name"],
                            "version_fingerprint": child["fingerprint"],
                            "version_id": child["id"],
                            "version_name": child["name"],
                        },
                        "parent": {
                            "bucket_name": parent_bucket["name"],
                            "version_fingerprint": parent["fingerprint"],
                            "version_id": parent["id"],
                            "version_name": parent["name"],
                        },
                        "status": "UNDETERMINED",
                    }
                    if channel is not None:
                        _, parent_channel = channel
                        current = parent_bucket["versions"].get(parent_channel["_fingerprint"])
                        relation["parent"]["channel_name"] = parent_channel["name"]
                        if current is not None:
                            relation["parent"]["channel_version"] = {
                                "fingerprint": current["fingerprint"],
                                "id": current["id"],
                                "name": current["name"],
                            }
                        up_to_date = current is not None and current["id"] == parent["id"]
                        relation["status"] = "UP_TO_DATE" if up_to_date else "OUT_OF_DATE"
                    relations[(child["id"], parent["id"], channel_id)] = relation
        return list(relations.values())

    def list_ancestry(self, org: str, project: str, name: str, query: dict[str, str]) -> Reply:
        """ListBucketAncestry: relations where this bucket is the child (PARENTS) or the
        parent (CHILDREN; unset: both), optionally for one version or channel's version."""
        bucket = self._need_bucket(org, project, name)
        kind = query.get("type", "ANCESTRY_TYPE_UNSET")
        if kind not in {"ANCESTRY_TYPE_UNSET", "ANCESTRY_TYPE_PARENTS", "ANCESTRY_TYPE_CHILDREN"}:
            return status(3, f"invalid type {kind!r}")
        fingerprint = query.get("version_fingerprint", "")
        if query.get("channel_name"):
            channel = bucket["channels"].get(query["channel_name"])
            if channel is None:
                return status(5, f"channel {query['channel_name']!r} not found")
            fingerprint = channel["_fingerprint"]
        selected = []
        for relation in self._relations(self._project(org, project)):
            as_child = relation["child"]["bucket_name"] == name and kind != "ANCESTRY_TYPE_CHILDREN"
            as_parent = relation["parent"]["bucket_name"] == name and kind != (
                "ANCESTRY_TYPE_PARENTS"
            )
            side = "child" if as_child else "parent" if as_parent else ""
            if side and (not fingerprint or relation[side]["version_fingerprint"] == fingerprint):
                selected.append(relation)
        page, pagination = self._paginate(selected, query)
        return 200, {"relations": page, "total_count": len(selected), "pagination": pagination}

    def search_external_artifact(self, org: str, project: str, body: Json) -> Reply:
        """SearchExternalArtifact: which bucket, version and build published this artifact."""
        wanted = str(body.get("external_identifier") or "")
        if not wanted:
            return status(3, "external_identifier is required")
        platform, region = str(body.get("platform") or ""), str(body.get("region") or "")
        found = []
        for bucket in self._project(org, project)["buckets"].values():
            for version in bucket["versions"].values():
                self._apply_schedule(bucket, version)
                for build in version["builds"]:
                    if platform and build.get("platform") != platform:
                        continue
                    if any(
                        a["external_identifier"] == wanted and (not region or a["region"] == region)
                        for a in build["artifacts"]
                    ):
                        found.append(
                            {
                                "bucket": {
                                    "id": bucket["id"],
                                    "name": bucket["name"],
                                    "labels": dict(bucket.get("labels") or {}),
                                },
                                "build": public(build),
                                "version": {
                                    k: version.get(k, "")
                                    for k in (
                                        "author_id",
                                        "fingerprint",
                                        "id",
                                        "name",
                                        "revocation_author",
                                        "revocation_message",
                                        "revocation_type",
                                        "revoke_at",
                                        "status",
                                    )
                                    if version.get(k) is not None
                                },
                            }
                        )
        return 200, {"artifacts": found, "pagination": {}}
