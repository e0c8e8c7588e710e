"""HCP tokens as an httpx.Auth flow: one per run, masked at once, renewed once on 401.

Two ways to mint one: a service principal's client credentials at the auth URL, or a workload
identity exchange (an external JWT, e.g. GitHub's OIDC token, swapped at the IAM API).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any

import httpx
import structlog

from hcp_action.errors import AuthError, TransportError
from hcp_action.hcp.credentials import Credentials, ServicePrincipal, SubjectSource, Workload
from hcp_action.hcp.endpoints import API_AUDIENCE, Endpoints
from hcp_action.hcp.retry import RetryAfterTooLong, RetryConfig, send
from hcp_action.hcp.transport import BodyTooLarge, fetch

log = structlog.get_logger(__name__)
USER_AGENT = "hcp-packer-action"


def json_pointer(document: Any, pointer: str) -> Any:
    """RFC 6901, enough for the SDK's subject_cred_pointer ("/value", "/a/0/b")."""
    if pointer in {"", "/"}:
        return document
    for raw in pointer.lstrip("/").split("/"):
        key = raw.replace("~1", "/").replace("~0", "~")
        document = document[int(key)] if isinstance(document, list) else document[key]
    return document


class HcpAuth(httpx.Auth):
    def __init__(
        self,
        *,
        credentials: Credentials,
        endpoints: Endpoints,
        retry: RetryConfig,
        on_token: Callable[[str], None],
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._credentials = credentials
        self._endpoints = endpoints
        self._retry = retry
        self._on_token = on_token
        self._auth_http = httpx.Client(
            verify=endpoints.auth_verify,
            timeout=retry.timeout,
            transport=transport,
            headers={"User-Agent": USER_AGENT},
        )
        self._api_http = httpx.Client(
            verify=endpoints.api_verify,
            timeout=retry.timeout,
            transport=transport,
            headers={"User-Agent": USER_AGENT},
        )
        self._token: str | None = None

    def close(self) -> None:
        self._auth_http.close()
        self._api_http.close()

    def _post(
        self, client: httpx.Client, url: str, operation: str, **kwargs: Any
    ) -> httpx.Response:
        auth = kwargs.pop("auth", None)
        try:
            return send(
                self._retry,
                write=False,
                operation=operation,
                request=lambda: fetch(
                    client,
                    client.build_request("POST", url, **kwargs),
                    deadline=self._retry.timeout,
                    auth=auth,
                ),
            )
        except httpx.TransportError as exc:
            raise TransportError(
                f"{operation}: could not reach {url}: {exc}",
                fix="check HCP_AUTH_URL/HCP_API_ADDRESS and the network.",
            ) from None
        except (RetryAfterTooLong, BodyTooLarge) as exc:
            raise AuthError(
                f"{operation}: the auth service failed: {exc}",
                fix="HCP's auth service is throttling or failing; re-run the job later.",
            ) from None

    def _service_principal(self, sp: ServicePrincipal) -> httpx.Response:
        # Basic auth first, as the Go SDK does; the audience is fixed for all of HCP.
        return self._post(
            self._auth_http,
            self._endpoints.token_url,
            "token",
            auth=(sp.client_id, sp.client_secret.reveal()),
            data={"grant_type": "client_credentials", "audience": API_AUDIENCE},
        )

    def _subject_token(self, source: SubjectSource) -> str:
        if source.kind == "url":
            try:
                response = send(
                    self._retry,
                    write=False,
                    operation="OIDC token",
                    request=lambda: fetch(
                        self._auth_http,
                        self._auth_http.build_request(
                            "GET",
                            source.url,
                            headers={k: v.reveal() for k, v in source.headers.items()},
                        ),
                        deadline=self._retry.timeout,
                    ),
                )
            except (httpx.TransportError, RetryAfterTooLong, BodyTooLarge) as exc:
                raise TransportError(f"could not fetch the OIDC token: {exc}") from None
            if response.status_code != httpx.codes.OK:
                raise AuthError(
                    f"the OIDC token request answered HTTP {response.status_code}",
                    fix="grant the job permissions: id-token: write.",
                )
            text = response.text
        elif source.kind == "file":
            try:
                text = Path(source.path).read_text(encoding="utf-8")
            except OSError as exc:
                raise AuthError(f"cannot read the workload token file: {exc}") from None
        else:  # token (env sources are read into a token when credentials are resolved)
            text = source.token.reveal() if source.token else ""
        if source.format_type == "json":
            try:
                value = json_pointer(json.loads(text), source.pointer)
            except (ValueError, KeyError, IndexError, TypeError, RecursionError):
                value = None
            text = value if isinstance(value, str) else ""
        subject = text.strip()
        if not subject:
            raise AuthError(
                "the workload identity source gave no token",
                fix="check the credential file's source and subject_cred_pointer.",
            )
        self._on_token(subject)  # GitHub's JWT is a bearer credential too
        return subject

    def subject_token(self) -> str:
        credentials = self._credentials
        if isinstance(credentials, ServicePrincipal):
            raise AuthError("no workload identity in use", fix="this is a bug; please report it.")
        return self._subject_token(credentials.source)

    def _exchange(self, workload: Workload) -> httpx.Response:
        subject = self._subject_token(workload.source)
        url = f"{self._endpoints.api_base_url}/2019-12-10/{workload.provider}/exchange-token"
        return self._post(self._api_http, url, "exchange-token", json={"jwt_token": subject})

    def _fetch(self) -> str:
        credentials = self._credentials
        if isinstance(credentials, ServicePrincipal):
            response = self._service_principal(credentials)
            refused = AuthError(
                f"the token endpoint refused the service principal (HTTP {response.status_code})",
                fix="check hcp-client-id and hcp-client-secret: create a new key for the "
                "service principal if the secret was rotated.",
            )
        else:
            response = self._exchange(credentials)
            refused = AuthError(
                f"HCP refused the workload identity exchange (HTTP {response.status_code})",
                fix="check hcp-workload-identity-provider, and that the provider's conditions "
                "(repository, ref, audience) match this job's OIDC token.",
            )
        if (
            response.is_redirect
            or response.status_code >= httpx.codes.INTERNAL_SERVER_ERROR
            or (httpx.codes.MULTIPLE_CHOICES <= response.status_code < httpx.codes.BAD_REQUEST)
        ):
            # Not a verdict on the key: the service itself is failing (or is not HCP).
            raise AuthError(
                f"the HCP auth service failed (HTTP {response.status_code}); the credentials "
                "were not judged",
                fix="HCP's auth service is failing or HCP_AUTH_URL points at a redirect; check "
                "the HCP status page and HCP_AUTH_URL, then re-run the job.",
            )
        if response.status_code != httpx.codes.OK:
            raise refused
        try:
            token = response.json()["access_token"]
        except (ValueError, KeyError, TypeError, RecursionError):
            token = None
        if not isinstance(token, str) or not token:
            raise AuthError(
                "the token answer has no access_token",
                fix="check HCP_AUTH_URL/HCP_API_ADDRESS point at HCP.",
            )
        self._on_token(token)  # masked before anything else can see it
        log.debug("token acquired", kind=type(credentials).__name__)
        return token

    def ensure_token(self) -> None:
        """Get the token before a request is sent, so that its own retries are not cut short
        by the request's deadline."""
        if self._token is None:
            self._token = self._fetch()

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self._token is None:
            self._token = self._fetch()
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == httpx.codes.UNAUTHORIZED:
            # Expired or revoked mid-run: one fresh token, and no loop if that one fails too.
            self._token = self._fetch()
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request
