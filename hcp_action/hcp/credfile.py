"""The credentials Packer gets: the same identity as ours, never on its command line.

A service principal travels as HCP_CLIENT_ID/SECRET. For GitHub OIDC we write a workload
credential file (0600, in the step's private directory, removed at exit) whose token source is
GitHub's OIDC request URL, so Packer fetches a fresh GitHub token itself whenever it re-exchanges.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from hcp_action.hcp.credentials import Credentials, ServicePrincipal
from hcp_action.scratch import private_dir


@contextmanager
def packer_credentials(
    credentials: Credentials, environ: Mapping[str, str]
) -> Iterator[dict[str, str]]:
    """Yield the HCP credential variables for Packer's environment (others are cleared)."""
    if isinstance(credentials, ServicePrincipal):
        yield {
            "HCP_CLIENT_ID": credentials.client_id,
            "HCP_CLIENT_SECRET": credentials.client_secret.reveal(),
        }
        return
    if credentials.cred_file is not None:
        yield {"HCP_CRED_FILE": str(credentials.cred_file)}
        return
    source = credentials.source
    document = {
        "scheme": "workload",
        "workload": {
            "provider_resource_name": credentials.provider,
            "url": {
                "url": source.url,
                "headers": {k: v.reveal() for k, v in source.headers.items()},
                "format_type": source.format_type,
                "subject_cred_pointer": source.pointer,
            },
        },
    }
    with private_dir(environ) as directory:
        path = directory / "hcp-credentials.json"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle)
        yield {"HCP_CRED_FILE": str(path)}
