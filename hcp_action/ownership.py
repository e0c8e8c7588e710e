"""Hand files the step created back to the workspace's owner.

GitHub runs container actions as root. On self-hosted runners the runner itself is a normal
user, and root-owned files left in the workspace or in the home mount break later steps and the
runner's own cleanup (actions/runner#434, #691). Before exit, every entry under the workspace and
HOME owned by us (root) is given to the owner of the workspace directory. HOME only when that
user owns it (the runner's `_github_home`; never `/root`). Symlinks are not followed; nothing is
done unless we are root and the owner is someone else.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import structlog

log = structlog.get_logger(__name__)


def _chown_tree(root: Path, uid: int, gid: int) -> int:
    changed = 0
    for directory, dirnames, filenames in os.walk(root):
        for name in (*dirnames, *filenames):
            path = Path(directory, name)
            try:
                if os.lstat(path).st_uid == 0:
                    os.lchown(path, uid, gid)
                    changed += 1
            except OSError:
                continue  # gone meanwhile, or a read-only mount: nothing to hand back
    return changed


def hand_back(workspace: Path, others: Iterable[Path]) -> int:
    """Give root-owned entries to the workspace owner; returns how many were changed."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return 0
    try:
        owner = workspace.stat()
    except OSError:
        return 0
    if owner.st_uid == 0:
        return 0
    changed = _chown_tree(workspace, owner.st_uid, owner.st_gid)
    for root in others:
        try:
            mine = root.stat().st_uid == owner.st_uid and root.is_dir()
        except OSError:
            continue
        if mine and not root.is_relative_to(workspace):
            changed += _chown_tree(root, owner.st_uid, owner.st_gid)
    if changed:
        log.info("files handed back to the workspace owner", count=changed, uid=owner.st_uid)
    return changed
