"""HCP Packer 2023-01-01 client over httpx: one method per operation we use, errors mapped once."""

from __future__ import annotations

from collections.abc import Callable
from types import TracebackType
from typing import Any, Self
from urllib.parse import quote

import httpx

from hcp_action.errors import TransportError, WrongAnswer, api_error
from hcp_action.hcp.auth import USER_AGENT, HcpAuth
from hcp_action.hcp.credentials import Credentials
from hcp_action.hcp.endpoints import Endpoints
from hcp_action.hcp.models import (
    Bucket,
    Channel,
    Found,
    HistoryEntry,
    HistoryPage,
    Relation,
    Version,
    as_list,
)
from hcp_action.hcp.retry import RetryAfterTooLong, RetryConfig, send
from hcp_action.hcp.transport import BodyTooLarge, fetch

# Lists are read page by page; a server that never stops paging (or repeats a token) is cut off
# here instead of looping: the caller says the list was cut short.
PAGE_SIZE = 100
MAX_PAGES = 50


def _seg(value: str) -> str:
    return quote(value, safe="")


def _same(operation: str, what: str, asked: str, got: str) -> None:
    """An answer about another resource is never a result (a proxy, a cache, a bug)."""
    if got != asked:
        raise WrongAnswer(
            f"{operation}: asked for {what} '{asked}', the registry answered about "
            f"'{got or '(none)'}'",
            fix="check HCP_API_ADDRESS points at HCP (not a cache or proxy), then re-run.",
        )


def _version(operation: str, data: Any, bucket: str, fingerprint: str) -> Version:
    version = Version.from_api(data.get("version"))
    _same(operation, "version", fingerprint, version.fingerprint)
    _same(operation, "bucket", bucket, version.bucket_name)
    return version


def _channel(operation: str, data: Any, bucket: str, name: str) -> Channel:
    channel = Channel.from_api(data.get("channel"))
    _same(operation, "channel", name, channel.name)
    _same(operation, "bucket", bucket, channel.bucket_name)
    return channel


class HcpPackerClient:
    def __init__(
        self,
        *,
        endpoints: Endpoints,
        credentials: Credentials,
        organization_id: str,
        project_id: str,
        retry: RetryConfig,
        on_token: Callable[[str], None],
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._retry = retry
        self._auth = HcpAuth(
            credentials=credentials,
            endpoints=endpoints,
            retry=retry,
            on_token=on_token,
            transport=transport,
        )
        self._base = (
            f"/packer/2023-01-01/organizations/{_seg(organization_id)}/projects/{_seg(project_id)}"
        )
        self._http = httpx.Client(
            base_url=endpoints.api_base_url,
            auth=self._auth,
            verify=endpoints.api_verify,
            timeout=retry.timeout,
            transport=transport,
            headers={"User-Agent": USER_AGENT, "X-HCP-Source-Channel": USER_AGENT},
        )

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()
        self._auth.close()

    def _call(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        body: Any = None,
        params: dict[str, str] | None = None,
        read_only: bool = False,
    ) -> Any:
        # A search is a POST that changes nothing: retried like a read.
        write = method != "GET" and not read_only
        self._auth.ensure_token()
        try:
            response = send(
                self._retry,
                write=write,
                operation=operation,
                request=lambda: fetch(
                    self._http,
                    self._http.build_request(method, self._base + path, json=body, params=params),
                    deadline=self._retry.timeout,
                ),
            )
        except httpx.TransportError as exc:
            raise TransportError(
                f"{operation}: the HCP Packer API did not answer ({type(exc).__name__}: {exc})",
                fix="check HCP_API_ADDRESS and the runner's network, then re-run the job.",
            ) from None
        except (RetryAfterTooLong, BodyTooLarge) as exc:
            raise TransportError(
                f"{operation}: {exc}",
                fix="HCP is throttling or misbehaving: re-run the job later; check "
                "HCP_API_ADDRESS points at HCP.",
            ) from None
        if not response.is_success:
            if response.is_redirect or 300 <= response.status_code < 400:  # never followed
                raise TransportError(
                    f"{operation}: the API answered HTTP {response.status_code} (a redirect), "
                    "which is not followed",
                    fix="check HCP_API_ADDRESS points at the HCP API itself, not a proxy.",
                )
            try:
                error_body = response.json() if response.content else {}
            except (ValueError, RecursionError):  # RecursionError: absurdly nested JSON
                error_body = None
            raise api_error(response.status_code, error_body, operation)
        try:
            data = response.json() if response.content else {}
        except (ValueError, RecursionError):
            data = None
        if not isinstance(data, dict):
            raise TransportError(f"{operation}: the registry answered with no JSON object")
        return data

    def workload_subject_token(self) -> str:
        """A fresh external token (GitHub's JWT) from the workload source, masked."""
        return self._auth.subject_token()

    def _bucket(self, bucket: str) -> str:
        return f"/buckets/{_seg(bucket)}"

    def get_version(self, bucket: str, fingerprint: str) -> Version:
        data = self._call(
            "GET", f"{self._bucket(bucket)}/versions/{_seg(fingerprint)}", operation="GetVersion"
        )
        return _version("GetVersion", data, bucket, fingerprint)

    def get_channel(self, bucket: str, channel: str) -> Channel:
        data = self._call(
            "GET", f"{self._bucket(bucket)}/channels/{_seg(channel)}", operation="GetChannel"
        )
        return _channel("GetChannel", data, bucket, channel)

    def create_channel(self, bucket: str, channel: str, fingerprint: str) -> Channel:
        data = self._call(
            "POST",
            f"{self._bucket(bucket)}/channels",
            operation="CreateChannel",
            body={"name": channel, "version_fingerprint": fingerprint},
        )
        return _channel("CreateChannel", data, bucket, channel)

    def update_channel(self, bucket: str, channel: str, fingerprint: str) -> Channel:
        data = self._call(
            "PATCH",
            f"{self._bucket(bucket)}/channels/{_seg(channel)}",
            operation="UpdateChannel",
            body={"version_fingerprint": fingerprint, "update_mask": "versionFingerprint"},
        )
        return _channel("UpdateChannel", data, bucket, channel)

    def list_channels(self, bucket: str) -> list[Channel]:
        data = self._call("GET", f"{self._bucket(bucket)}/channels", operation="ListChannels")
        channels = [Channel.from_api(c) for c in as_list(data, "channels")]
        for channel in channels:
            _same("ListChannels", "bucket", bucket, channel.bucket_name)
        return channels

    def channel_history(
        self, bucket: str, channel: str, *, page_token: str = "", page_size: int = 20
    ) -> HistoryPage:
        """One page, newest first as HCP returns it; re-sorted by assigned_at within the page."""
        params = {"pagination.page_size": str(page_size)}
        if page_token:
            params["pagination.next_page_token"] = page_token
        data = self._call(
            "GET",
            f"{self._bucket(bucket)}/channels/{_seg(channel)}/history",
            operation="ListChannelAssignmentHistory",
            params=params,
        )
        entries = sorted(
            (HistoryEntry.from_api(e) for e in as_list(data, "history")),
            key=lambda e: e.assigned_at,
            reverse=True,
        )
        pagination = data.get("pagination") or {}
        token = pagination.get("next_page_token") if isinstance(pagination, dict) else ""
        return HistoryPage(entries=tuple(entries), next_page_token=token or "")

    def revoke_version(
        self, bucket: str, fingerprint: str, reason: str, *, skip_descendants: bool = False
    ) -> Version:
        body: dict[str, Any] = {"revoke_in": "0s", "revocation_message": reason}
        if skip_descendants:
            body["skip_descendants_revocation"] = True
        data = self._call(
            "PATCH",
            f"{self._bucket(bucket)}/versions/{_seg(fingerprint)}",
            operation="UpdateVersion",
            body=body,
        )
        return _version("UpdateVersion", data, bucket, fingerprint)

    def _paged(
        self,
        method: str,
        path: str,
        *,
        operation: str,
        key: str,
        params: dict[str, str],
        body: Any = None,
    ) -> tuple[list[Any], bool]:
        """Every item of a paginated list, and whether the list was cut short at MAX_PAGES."""
        items: list[Any] = []
        seen: set[str] = set()
        token = ""
        for _ in range(MAX_PAGES):
            query = {**params, "pagination.page_size": str(PAGE_SIZE)}
            if token:
                query["pagination.next_page_token"] = token
            data = self._call(
                method, path, operation=operation, params=query, body=body, read_only=True
            )
            items += as_list(data, key)
            pagination = data.get("pagination")
            raw = pagination.get("next_page_token") if isinstance(pagination, dict) else ""
            if not raw or not isinstance(raw, str):
                return items, False
            token = raw
            if token in seen:
                raise TransportError(
                    f"{operation}: the registry repeated a page token ({token[:40]!r})",
                    fix="check HCP_API_ADDRESS points at HCP, then re-run.",
                )
            seen.add(token)
        return items, True

    def get_bucket(self, bucket: str) -> Bucket:
        data = self._call("GET", self._bucket(bucket), operation="GetBucket")
        found = Bucket.from_api(data.get("bucket"))
        _same("GetBucket", "bucket", bucket, found.name)
        return found

    def newest_versions(self, bucket: str, count: int = PAGE_SIZE) -> list[Version]:
        """One page of the bucket's versions, newest first: a cost that does not grow with the
        bucket. The order is asked for (HCP's default order is not documented) and re-checked."""
        data = self._call(
            "GET",
            f"{self._bucket(bucket)}/versions",
            operation="ListVersions",
            params={"pagination.page_size": str(count), "sorting.order_by": "created_at desc"},
        )
        versions = [Version.from_api(v) for v in as_list(data, "versions")]
        for version in versions:
            _same("ListVersions", "bucket", bucket, version.bucket_name)
        return sorted(versions, key=lambda v: v.created_at, reverse=True)

    def ancestry(
        self, bucket: str, *, children: bool, fingerprint: str = ""
    ) -> tuple[list[Relation], bool]:
        """ListBucketAncestry: relations where `bucket` is the child (parents) or the parent
        (children), optionally of one version; and whether the list was cut short."""
        params = {"type": "ANCESTRY_TYPE_CHILDREN" if children else "ANCESTRY_TYPE_PARENTS"}
        if fingerprint:
            params["version_fingerprint"] = fingerprint
        raw, cut = self._paged(
            "GET",
            f"{self._bucket(bucket)}/ancestry",
            operation="ListBucketAncestry",
            key="relations",
            params=params,
        )
        relations = [Relation.from_api(r) for r in raw]
        side = "parent" if children else "child"
        for relation in relations:
            _same(
                "ListBucketAncestry", f"{side} bucket", bucket, getattr(relation, side).bucket_name
            )
        return relations, cut

    def search_artifact(self, external_id: str, *, platform: str, region: str) -> list[Found]:
        body = {"external_identifier": external_id, "platform": platform}
        if region:
            body["region"] = region
        raw, _ = self._paged(
            "POST",
            "/_search/external_artifact",
            operation="SearchExternalArtifact",
            key="artifacts",
            params={},
            body=body,
        )
        found = [Found.from_api(a) for a in raw]
        for hit in found:
            ids = {a.external_identifier for a in hit.build.artifacts}
            if external_id not in ids:  # an answer about another artifact is never a result
                raise WrongAnswer(
                    f"SearchExternalArtifact: asked for '{external_id}', the registry answered "
                    f"with a build holding {', '.join(sorted(ids)) or 'no artifact'}",
                    fix="check HCP_API_ADDRESS points at HCP (not a cache or proxy), then re-run.",
                )
        return found
