"""Where the registry and the token endpoint are: the Go SDK's HCP_* variables, read once."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from hcp_action.errors import InputError

DEFAULT_API_ADDRESS = "api.cloud.hashicorp.com:443"
DEFAULT_AUTH_URL = "https://auth.idp.hashicorp.com"
TOKEN_PATH = "/oauth2/token"  # noqa: S105 - a path, not a password
API_AUDIENCE = "https://api.hashicorp.cloud"
_TLS_VALUES = frozenset({"", "insecure", "disabled"})


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class Endpoints:
    api_base_url: str
    api_verify: bool
    token_url: str
    auth_verify: bool

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Endpoints:
        try:
            return cls._from_environ(environ)
        except ValueError as exc:  # urlsplit: an unbalanced '[', a port out of range, ...
            raise InputError(
                "HCP_API_ADDRESS/HCP_AUTH_URL (environment)",
                f"cannot be parsed ({exc})",
                fix="give host:port (e.g. 127.0.0.1:8080, [::1]:8080) and an https URL.",
            ) from None

    @classmethod
    def _from_environ(cls, environ: Mapping[str, str]) -> Endpoints:
        api_tls = environ.get("HCP_API_TLS", "")
        auth_tls = environ.get("HCP_AUTH_TLS", "")
        for name, value in (("HCP_API_TLS", api_tls), ("HCP_AUTH_TLS", auth_tls)):
            if value not in _TLS_VALUES:
                raise InputError(
                    f"{name} (environment)",
                    f"'{value}' is not understood",
                    fix="leave it unset, or use insecure or disabled.",
                )
        # HCP_API_HOST is the SDK's legacy alias; it is read after HCP_API_ADDRESS, so it wins.
        address = environ.get("HCP_API_HOST", "").removeprefix("https://") or environ.get(
            "HCP_API_ADDRESS", DEFAULT_API_ADDRESS
        )
        if "/" in address or not address:
            raise InputError(
                "HCP_API_ADDRESS (environment)",
                f"'{address}' is not host[:port]",
                fix="give host and port without a scheme, e.g. 127.0.0.1:8080.",
            )
        parsed = urlsplit(f"//{address}")
        host = parsed.hostname or ""
        _ = parsed.port  # raises ValueError for a port that is not 0-65535
        scheme = "http" if api_tls == "disabled" else "https"
        if scheme == "http" and not is_loopback(host):
            raise InputError(
                "HCP_API_TLS (environment)",
                "plain HTTP is only allowed to a loopback address",
                fix="use HCP_API_TLS=insecure with a TLS emulator.",
            )

        auth = urlsplit(environ.get("HCP_AUTH_URL") or DEFAULT_AUTH_URL)
        _ = auth.port
        if auth.scheme not in {"http", "https"} or not auth.hostname:
            raise InputError(
                "HCP_AUTH_URL (environment)",
                "is not an http(s) URL",
                fix="e.g. https://auth.idp.hashicorp.com.",
            )
        # The client secret travels to the token endpoint: never in clear text off this host.
        if auth.scheme == "http" and not is_loopback(auth.hostname):
            raise InputError(
                "HCP_AUTH_URL (environment)",
                "would send the client secret over plain HTTP",
                fix="use an https URL (plain http only to a loopback address).",
            )
        token_url = urlunsplit((auth.scheme, auth.netloc, TOKEN_PATH, "", ""))
        return cls(
            api_base_url=f"{scheme}://{address}",
            api_verify=api_tls != "insecure",
            token_url=token_url,
            auth_verify=auth_tls != "insecure",
        )
