"""The commit a directory is checked out at, if it is a git checkout (and git is there)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def head(directory: Path) -> str:
    """`git rev-parse HEAD` in `directory`, or '' (not a checkout, no git: the image has none)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""
