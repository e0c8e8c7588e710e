"""The README's demo command runs the main job end to end and says which Packer it used."""

from __future__ import annotations

import os
import subprocess
import sys

from tests.helpers import ROOT


def test_demo_plays_the_image_chain() -> None:
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
    if "real Packer at" in out:  # null-builder build and lookup; the chain needs AWS
        assert "----- build: exit 0" in out
        assert "----- lookup: exit 0" in out
        assert out.count("  ami-id = Null") == 2
        return
    assert "SIMULATED Packer" in out
    for step in (
        "build base-ami v1 to production",
        "build jenkins-ha-ami from base-ami production",
        "lookup",
        "promote base-ami dev -> production",
        "status base-ami",
        "find",
    ):
        assert f"----- {step}: exit 0" in out, step
    assert '  out-of-date-children = ["jenkins-ha-ami"]' in out
    assert "| `jenkins-ha-ami` |" in out
    assert "⚠️ out of date" in out
    assert '  channels = ["dev","latest"]' in out  # find: the Jenkins AMI's version
    assert "  revoked = false" in out
