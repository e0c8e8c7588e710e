"""What git says about a directory, if it is a git checkout (and git is there)."""

from __future__ import annotations

import subprocess
from pathlib import Path


def _rev_parse(directory: Path, argument: str) -> str:
    """`git rev-parse <argument>` in `directory`, or '' (not a checkout, no git: the image has
    none, or git hanging)."""
    try:
        done = subprocess.run(
            ["git", "-C", str(directory), "rev-parse", argument],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def head(directory: Path) -> str:
    """The commit `directory` is checked out at, or ''."""
    return _rev_parse(directory, "HEAD")


def toplevel(directory: Path) -> str:
    """The top level of the checkout holding `directory`, or ''."""
    return _rev_parse(directory, "--show-toplevel")
