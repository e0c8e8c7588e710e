"""Set the real owner in every `OWNER/hcp-packer-action` reference of the repository.

    python scripts/set-owner.py acme            # rewrite tracked files in place
    python scripts/set-owner.py --check         # exit 1, listing them, while one remains

The shipped reusable workflows, examples and README call the action as
`OWNER/hcp-packer-action@v1` until it is published; callers in another repository need the real
name. Image references (`ghcr.io/OWNER/…`) get the lower-case owner GHCR requires. The release
workflow runs `--check` and refuses to publish while a placeholder remains.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLACEHOLDER = "OWNER/hcp-packer-action"
OWNER_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$")  # GitHub's rule
SELF = Path(__file__).resolve()


def tracked_files(root: Path) -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True
    ).stdout.split(b"\0")
    return [root / name.decode() for name in listed if name]


def holders(root: Path) -> list[Path]:
    found = []
    for path in tracked_files(root):
        if path.resolve() == SELF or not path.is_file():
            continue
        try:
            if PLACEHOLDER in path.read_text(encoding="utf-8"):
                found.append(path)
        except UnicodeDecodeError:
            continue
    return found


def set_owner(root: Path, owner: str) -> list[Path]:
    changed = holders(root)
    for path in changed:
        text = path.read_text(encoding="utf-8")
        text = text.replace(f"ghcr.io/{PLACEHOLDER}", f"ghcr.io/{owner.lower()}/hcp-packer-action")
        path.write_text(text.replace(PLACEHOLDER, f"{owner}/hcp-packer-action"), encoding="utf-8")
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("owner", nargs="?", help="the GitHub user or organisation")
    parser.add_argument("--check", action="store_true", help="fail while a placeholder remains")
    parser.add_argument("--root", type=Path, default=ROOT, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.check:
        left = holders(args.root)
        for path in left:
            print(f"{path.relative_to(args.root)}: still says {PLACEHOLDER}", file=sys.stderr)
        if left:
            print("run: python scripts/set-owner.py <owner>", file=sys.stderr)
        return 1 if left else 0
    if not args.owner or not OWNER_RE.fullmatch(args.owner) or args.owner == "OWNER":
        parser.error("give the real owner, e.g. acme (letters, digits, hyphens)")
    for path in set_owner(args.root, args.owner):
        print(f"updated {path.relative_to(args.root)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
