"""Cancellation: a signal to the action reaches Packer as SIGTERM, the build ends CANCELLED."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time

from tests.helpers import ENTRYPOINT, Harness


def test_sigterm_cancels_packer_and_exits_non_zero(harness: Harness) -> None:
    env = harness.env(
        {"PACKER_SIM_SLEEP": "30", "INPUT_TEMPLATE": "jenkins.pkr.hcl", "INPUT_CHANNEL": "dev"}
    )
    out = harness.tmp / "out"
    summary = harness.tmp / "summary.md"
    out.touch()
    summary.touch()
    env.update({"GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary)})
    proc = subprocess.Popen(
        [sys.executable, str(ENTRYPOINT)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    running = False
    while time.monotonic() < deadline and not running:
        for request in harness.emulator.registry_requests():
            running = running or (request["body"] or {}).get("status") == "BUILD_RUNNING"
        time.sleep(0.05)
    assert running, "the simulated build never started"
    sent, sent_wall = time.monotonic(), time.time()
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=10)
    elapsed = time.monotonic() - sent
    assert proc.returncode == 130, stdout + stderr
    assert elapsed < 10
    cancelled = [
        r
        for r in harness.emulator.registry_requests()
        if (r["body"] or {}).get("status") == "BUILD_CANCELLED"
    ]
    assert len(cancelled) == 1
    assert cancelled[0]["time"] - sent_wall < 1.0  # Packer got the signal at once
    assert "Cleanly cancelled builds" in stdout
    assert any(
        line.startswith("::error title=Cancelled::") and "resume" in line
        for line in stdout.splitlines()
    )
    fingerprint = json.loads(harness.sim_log.read_text().splitlines()[-1])["env"][
        "HCP_PACKER_BUILD_FINGERPRINT"
    ]
    assert fingerprint in summary.read_text() or fingerprint in stdout
    assert out.read_text() == ""  # nothing verified, nothing written
