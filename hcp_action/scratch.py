"""The step's private temporary directory (credential files and the like).

`RUNNER_TEMP` is used only when it is an existing, writable directory: runners older than
2.331 pass the host's path without mounting it, so inside the container it does not exist.
Otherwise a 0700 directory under the container's own temp directory. Removed at exit.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from hcp_action.errors import HostProblem

PREFIX = "hcp-packer-action-"


def _usable(raw: str) -> str | None:
    if raw and Path(raw).is_dir() and os.access(raw, os.W_OK | os.X_OK):
        return raw
    return None


@contextmanager
def private_dir(environ: Mapping[str, str]) -> Iterator[Path]:
    parent = _usable(environ.get("RUNNER_TEMP", ""))
    try:
        path = Path(tempfile.mkdtemp(prefix=PREFIX, dir=parent))  # mkdtemp: mode 0700
    except OSError as exc:
        raise HostProblem(
            f"cannot create a private temporary directory under {parent or tempfile.gettempdir()}"
            f" ({exc.strerror or exc})",
            fix="make RUNNER_TEMP or TMPDIR point at a writable directory.",
        ) from None
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
