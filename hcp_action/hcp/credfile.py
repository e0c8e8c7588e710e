"""The credentials Packer gets: the same identity as ours, never on its command line.

A service principal travels as HCP_CLIENT_ID/SECRET. Workload identity (GitHub OIDC, or a
credential file whose token source is a URL, as hcp-auth-action writes): Packer's SDK fetches a
`url` source with a hard 1 s timeout and no retry, so a GitHub OIDC endpoint slow for a moment
would fail a real build. Packer therefore gets a workload credential file with a `file` source
instead, and the action keeps that file fresh (a new GitHub token every HCP_ACTION_OIDC_REFRESH
seconds, fetched with our own timeouts and retries) for as long as Packer runs. Both files are
0600 in the step's private directory, removed at exit. Other workload sources (file, token) are
handed over as they are: Packer reads them without a network call.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import structlog

from hcp_action.errors import ActionError
from hcp_action.hcp.credentials import Credentials, ServicePrincipal
from hcp_action.scratch import private_dir

log = structlog.get_logger(__name__)
DEFAULT_REFRESH = 60.0


def _write_private(path: Path, text: str) -> None:
    """Replace `path` atomically with a 0600 file (Packer may read it at any moment)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    tmp.replace(path)


def _refresh_interval(environ: Mapping[str, str]) -> float:
    raw = environ.get("HCP_ACTION_OIDC_REFRESH", "")
    try:
        value = float(raw) if raw else DEFAULT_REFRESH
    except ValueError:
        return DEFAULT_REFRESH
    return value if 0.1 <= value <= 3600 else DEFAULT_REFRESH


class _Refresher:
    """Fetches a new subject token into the file on an interval until stopped."""

    def __init__(self, path: Path, fetch: Callable[[], str], interval: float) -> None:
        self._path = path
        self._fetch = fetch
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="oidc-refresh", daemon=True)
        self.refreshed = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                _write_private(self._path, self._fetch())
                self.refreshed += 1
            except (ActionError, OSError) as exc:
                # The previous token stays in place; it may still be valid for a while.
                log.warning("could not refresh the OIDC token for Packer", error=str(exc))


@contextmanager
def packer_credentials(
    credentials: Credentials,
    environ: Mapping[str, str],
    *,
    subject_token: Callable[[], str],
) -> Iterator[dict[str, str]]:
    """Yield the HCP credential variables for Packer's environment (others are cleared)."""
    if isinstance(credentials, ServicePrincipal):
        yield {
            "HCP_CLIENT_ID": credentials.client_id,
            "HCP_CLIENT_SECRET": credentials.client_secret.reveal(),
        }
        return
    if credentials.cred_file is not None and credentials.source.kind != "url":
        yield {"HCP_CRED_FILE": str(credentials.cred_file)}
        return
    with private_dir(environ) as directory:
        token_path = directory / "subject-token"
        _write_private(token_path, subject_token())  # before Packer starts: it must be there
        document = {
            "scheme": "workload",
            "workload": {
                "provider_resource_name": credentials.provider,
                "file": {"path": str(token_path)},
            },
        }
        cred_path = directory / "hcp-credentials.json"
        _write_private(cred_path, json.dumps(document))
        refresher = _Refresher(token_path, subject_token, _refresh_interval(environ))
        refresher.start()
        try:
            yield {"HCP_CRED_FILE": str(cred_path)}
        finally:
            refresher.stop()
            log.info("OIDC token for Packer refreshed", times=refresher.refreshed)
