"""Point action.yml at a prebuilt image pinned by digest (run by the release workflow).

    python scripts/pin-action-image.py action.yml ghcr.io/owner/hcp-packer-action@sha256:<64 hex>

Users then pull the image (seconds) instead of building the Dockerfile on every job.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

IMAGE_RE = re.compile(r"^[a-z0-9./_-]+@sha256:[0-9a-f]{64}$")
LINE_RE = re.compile(r"^(  image: ).*$", re.MULTILINE)


def pin(action_yml: Path, image: str) -> None:
    if not IMAGE_RE.fullmatch(image):
        raise SystemExit(f"not an image pinned by digest: {image!r}")
    text = action_yml.read_text(encoding="utf-8")
    new, count = LINE_RE.subn(lambda m: f"{m.group(1)}docker://{image}", text)
    if count != 1:
        raise SystemExit(f"expected exactly one 'image:' line under runs, found {count}")
    action_yml.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) != 3:  # program name + two arguments
        raise SystemExit(__doc__)
    pin(Path(sys.argv[1]), sys.argv[2])
