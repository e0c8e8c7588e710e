"""The README's demo command runs the main job end to end and says which Packer it used."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers import ROOT


def test_demo_runs_build_then_lookup() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HCP_", "INPUT_"))}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "-m", "hcp_action.demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "SIMULATED Packer" in out or "real Packer at" in out
    assert "----- build: exit 0" in out
    assert "----- lookup: exit 0" in out
    assert "  channel = dev" in out
    assert "  version-name = v1" in out
    assert out.count("  ami-id = Null") == 2
