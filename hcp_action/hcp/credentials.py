"""Which HCP credentials this run uses, resolved before any network call.

Precedence, as in the Go SDK: client id/secret (inputs, then HCP_CLIENT_*), then the workload
identity provider input (GitHub OIDC), then HCP_CRED_FILE (either scheme).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hcp_action.errors import InputError
from hcp_action.inputs import WIP_RE, Inputs
from hcp_action.secret import Secret

CRED_FILE = "HCP_CRED_FILE (environment)"
OIDC_PERMISSION_FIX = """the job cannot request a GitHub OIDC token. Add to the job:
  permissions:
    contents: read
    id-token: write
(a reusable workflow from another organisation needs it granted by the caller too)"""


@dataclass(frozen=True, slots=True)
class ServicePrincipal:
    client_id: str
    client_secret: Secret = field(repr=False)


@dataclass(frozen=True, slots=True)
class SubjectSource:
    """Where the workload's external token (a JWT) comes from; the Go SDK's source kinds."""

    kind: str  # url | file | token | env
    url: str = ""
    headers: dict[str, Secret] = field(default_factory=dict, repr=False)
    path: str = ""
    token: Secret | None = field(default=None, repr=False)
    var: str = ""
    format_type: str = "value"  # value | json
    pointer: str = ""  # JSON pointer when format_type is json


@dataclass(frozen=True, slots=True)
class Workload:
    provider: str  # iam/project/…/workload-identity-provider/…
    source: SubjectSource
    # The user's own credential file (hcp-auth-action): Packer gets it as it is.
    cred_file: Path | None = None

    def secrets(self) -> list[str]:
        values = [h.reveal() for h in self.source.headers.values()]
        if self.source.token is not None:
            values.append(self.source.token.reveal())
        return [v for v in values if v]


Credentials = ServicePrincipal | Workload


def _github_oidc(provider: str, environ: Mapping[str, str]) -> Workload:
    url = environ.get("ACTIONS_ID_TOKEN_REQUEST_URL", "")
    token = environ.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "")
    if not url or not token:
        raise InputError(
            "hcp-workload-identity-provider",
            "is set but ACTIONS_ID_TOKEN_REQUEST_URL/_TOKEN are not",
            fix=OIDC_PERMISSION_FIX,
        )
    # HCP's default allowed audience is the provider's resource name.
    sep = "&" if "?" in url else "?"
    source = SubjectSource(
        kind="url",
        url=f"{url}{sep}audience={quote(provider, safe='')}",
        headers={"Authorization": Secret(f"bearer {token}")},
        format_type="json",
        pointer="/value",
    )
    return Workload(provider=provider, source=source)


def _source_from_file(
    data: dict[str, Any], path: Path, environ: Mapping[str, str]
) -> SubjectSource:
    kinds = [k for k in ("url", "file", "token", "env", "aws") if data.get(k)]
    if len(kinds) != 1:
        raise InputError(
            CRED_FILE,
            f"'{path}': the workload needs exactly one token source",
            fix="use one of url, file, token or env.",
        )
    kind = kinds[0]
    if kind == "aws":
        raise InputError(
            CRED_FILE,
            "AWS workload sources are not supported by the action",
            fix="use a GitHub OIDC (url) source, or client credentials.",
        )
    raw = data[kind]
    if not isinstance(raw, dict):
        raise InputError(
            CRED_FILE,
            f"'{path}': '{kind}' must be an object",
            fix="regenerate the credential file.",
        )
    format_type = str(raw.get("format_type") or "value")
    pointer = str(raw.get("subject_cred_pointer") or "")
    if format_type not in {"value", "json"} or (format_type == "json" and not pointer):
        raise InputError(
            CRED_FILE,
            f"'{path}': format_type json needs subject_cred_pointer",
            fix="regenerate the credential file.",
        )
    headers = raw.get("headers") or {}
    if kind == "env":
        value = environ.get(str(raw.get("var") or ""), "")
        if not value:
            raise InputError(
                CRED_FILE,
                f"'{path}': the variable named in env.var is empty",
                fix="set it before this step, or use another source.",
            )
        return SubjectSource(
            kind="token", token=Secret(value), format_type=format_type, pointer=pointer
        )
    return SubjectSource(
        kind=kind,
        url=str(raw.get("url") or ""),
        headers={str(k): Secret(str(v)) for k, v in headers.items()},
        path=str(raw.get("path") or ""),
        token=Secret(str(raw["token"])) if raw.get("token") else None,
        var=str(raw.get("var") or ""),
        format_type=format_type,
        pointer=pointer,
    )


def _from_file(path: Path, environ: Mapping[str, str]) -> Credentials:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(
            CRED_FILE,
            f"'{path}' is not a readable JSON credential file ({exc})",
            fix="point HCP_CRED_FILE at the file hcp-auth-action or 'hcp' wrote.",
        ) from None
    if not isinstance(data, dict):
        raise InputError(CRED_FILE, f"'{path}' is not a JSON object", fix="regenerate it.")
    scheme = data.get("scheme")
    if scheme == "workload":
        workload = data.get("workload")
        if not isinstance(workload, dict):
            workload = {}
        provider = workload.get("provider_resource_name")
        if not isinstance(provider, str) or not WIP_RE.fullmatch(provider):
            raise InputError(
                CRED_FILE,
                f"'{path}' has no valid provider_resource_name",
                fix="regenerate the credential file.",
            )
        return Workload(
            provider=provider, source=_source_from_file(workload, path, environ), cred_file=path
        )
    oauth = data.get("oauth")
    if scheme != "service_principal_creds" or not isinstance(oauth, dict):
        raise InputError(
            CRED_FILE,
            "has neither scheme service_principal_creds nor workload",
            fix="regenerate the credential file.",
        )
    client_id, secret = oauth.get("client_id"), oauth.get("client_secret")
    if not isinstance(client_id, str) or not client_id or not isinstance(secret, str) or not secret:
        raise InputError(
            CRED_FILE,
            "lacks oauth.client_id or oauth.client_secret",
            fix="regenerate the credential file.",
        )
    return ServicePrincipal(client_id, Secret(secret))


def resolve(inputs: Inputs, environ: Mapping[str, str]) -> Credentials:
    if inputs.client_id and inputs.client_secret:
        return ServicePrincipal(inputs.client_id, inputs.client_secret)
    if inputs.workload_identity_provider:
        return _github_oidc(inputs.workload_identity_provider, environ)
    if inputs.cred_file is not None:
        return _from_file(inputs.cred_file, environ)
    raise InputError(
        "hcp-client-id",
        "no HCP credentials were given",
        fix="set hcp-client-id and hcp-client-secret, hcp-workload-identity-provider, "
        "or HCP_CRED_FILE.",
    )
