"""Service-principal tokens as an httpx.Auth flow: one per run, masked at once, renewed on 401."""

from __future__ import annotations

from collections.abc import Callable, Generator

import httpx
import structlog

from hcp_action.errors import AuthError, TransportError
from hcp_action.hcp.credentials import ServicePrincipal
from hcp_action.hcp.endpoints import API_AUDIENCE, Endpoints
from hcp_action.hcp.retry import RetryConfig, send

log = structlog.get_logger(__name__)
USER_AGENT = "hcp-packer-action"


class ServicePrincipalAuth(httpx.Auth):
    def __init__(
        self,
        *,
        credentials: ServicePrincipal,
        endpoints: Endpoints,
        retry: RetryConfig,
        on_token: Callable[[str], None],
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._credentials = credentials
        self._token_url = endpoints.token_url
        self._retry = retry
        self._on_token = on_token
        self._http = httpx.Client(
            verify=endpoints.auth_verify,
            timeout=retry.timeout,
            transport=transport,
            headers={"User-Agent": USER_AGENT},
        )
        self._token: str | None = None

    def close(self) -> None:
        self._http.close()

    def _fetch(self) -> str:
        try:
            # Basic auth first, as the Go SDK does; the audience is fixed for all of HCP.
            response = send(
                self._retry,
                write=False,
                operation="token",
                request=lambda: self._http.post(
                    self._token_url,
                    auth=(self._credentials.client_id, self._credentials.client_secret.reveal()),
                    data={"grant_type": "client_credentials", "audience": API_AUDIENCE},
                ),
            )
        except httpx.TransportError as exc:
            raise TransportError(
                f"could not reach the HCP token endpoint {self._token_url}: {exc}",
                fix="check HCP_AUTH_URL and the runner's network.",
            ) from None
        if response.status_code != httpx.codes.OK:
            raise AuthError(
                f"the token endpoint refused the service principal (HTTP {response.status_code})",
                fix="check hcp-client-id and hcp-client-secret: create a new key for the "
                "service principal if the secret was rotated.",
            )
        try:
            token = response.json()["access_token"]
        except (ValueError, KeyError, TypeError):
            token = None
        if not isinstance(token, str) or not token:
            raise AuthError(
                "the token endpoint answered without an access_token",
                fix="check HCP_AUTH_URL points at HCP's auth service.",
            )
        self._on_token(token)  # masked before anything else can see it
        log.debug("token acquired", client_id=self._credentials.client_id)
        return token

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
