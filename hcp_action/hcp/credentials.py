"""Which HCP credentials this run uses, resolved before any network call."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from hcp_action.errors import InputError
from hcp_action.inputs import Inputs
from hcp_action.secret import Secret


@dataclass(frozen=True, slots=True)
class ServicePrincipal:
    client_id: str
    client_secret: Secret = field(repr=False)


def resolve(inputs: Inputs) -> ServicePrincipal:
    """Inputs/env client credentials first, then HCP_CRED_FILE (the Go SDK's precedence)."""
    if inputs.client_id and inputs.client_secret:
        return ServicePrincipal(inputs.client_id, inputs.client_secret)
    path = inputs.cred_file
    name = "HCP_CRED_FILE (environment)"
    if path is None:
        raise InputError(
            "hcp-client-id",
            "no HCP credentials were given",
            fix="set hcp-client-id and hcp-client-secret, or HCP_CRED_FILE.",
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(
            name,
            f"'{path}' is not a readable JSON credential file ({exc})",
            fix="point HCP_CRED_FILE at the file hcp-auth-action or 'hcp' wrote.",
        ) from None
    scheme = data.get("scheme") if isinstance(data, dict) else None
    if scheme == "workload":
        raise InputError(
            name,
            "workload-identity credential files are not supported in this release yet",
            fix="use a service_principal_creds file or client id/secret.",
        )
    oauth = data.get("oauth") if isinstance(data, dict) else None
    if scheme != "service_principal_creds" or not isinstance(oauth, dict):
        raise InputError(
            name,
            "has no 'scheme: service_principal_creds' with an 'oauth' object",
            fix='write {"scheme": "service_principal_creds", "oauth": '
            '{"client_id": …, "client_secret": …}}.',
        )
    client_id, secret = oauth.get("client_id"), oauth.get("client_secret")
    if not isinstance(client_id, str) or not client_id or not isinstance(secret, str) or not secret:
        raise InputError(
            name,
            "lacks oauth.client_id or oauth.client_secret",
            fix="regenerate the credential file.",
        )
    return ServicePrincipal(client_id, Secret(secret))
