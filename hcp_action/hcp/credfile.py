"""The credentials Packer gets: the same identity as ours, never on its command line.

A service principal travels as HCP_CLIENT_ID/SECRET. For GitHub OIDC we write a workload
credential file (0600, under RUNNER_TEMP, removed at exit) whose token source is GitHub's OIDC
request URL, so Packer fetches a fresh GitHub token itself whenever it re-exchanges.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from hcp_action.hcp.credentials import Credentials, ServicePrincipal


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
    directory = environ.get("RUNNER_TEMP") or None
    fd, name = tempfile.mkstemp(prefix="hcp-cred-", suffix=".json", dir=directory)
    path = Path(name)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:  # mkstemp: mode 0600
            json.dump(document, handle)
        yield {"HCP_CRED_FILE": str(path)}
    finally:
        path.unlink(missing_ok=True)
