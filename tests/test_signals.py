"""Cancellation as the runner does it (docs/github-actions.md R7): SIGINT, 7.5 s, SIGTERM,
2.5 s, then the `docker` client is killed and nothing more reaches the user. So the first signal
must produce the ::error and the summary within 1 s, Packer must get SIGTERM at once and be
left to finish its cleanup, and a registry write in flight must end and be reported."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time

from hcp_action.emulator.server import Fault
from tests.helpers import ENTRYPOINT, Harness


class Step:
    """The entrypoint as a child process, its stdout read line by line as the runner does."""

    def __init__(self, harness: Harness, env: dict[str, str]) -> None:
        self.out = harness.tmp / "out"
        self.summary = harness.tmp / "summary.md"
        self.out.touch()
        self.summary.touch()
        full = harness.env(env)
        full.update({"GITHUB_OUTPUT": str(self.out), "GITHUB_STEP_SUMMARY": str(self.summary)})
        self.proc = subprocess.Popen(
            [sys.executable, str(ENTRYPOINT)],
            env=full,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self.lines: list[tuple[float, str]] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append((time.monotonic(), line.rstrip("\n")))

    def first(self, prefix: str, after: float, timeout: float) -> float | None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for at, line in list(self.lines):
                if at >= after and line.startswith(prefix):
                    return at
            time.sleep(0.01)
        return None

    def finish(self, timeout: float) -> int:
        code = self.proc.wait(timeout=timeout)
        self._reader.join(5)
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        self.proc.stdout.close()
        self.stderr = self.proc.stderr.read()
        self.proc.stderr.close()
        return code

    @property
    def stdout(self) -> str:
        return "\n".join(line for _, line in self.lines)


def wait_for_status(harness: Harness, status: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(
            (r["body"] or {}).get("status") == status for r in harness.emulator.registry_requests()
        ):
            return
        time.sleep(0.05)
    raise AssertionError(f"no request with status {status}")


def cancelled_patches(harness: Harness) -> list[dict[str, object]]:
    return [
        r
        for r in harness.emulator.registry_requests()
        if (r["body"] or {}).get("status") == "BUILD_CANCELLED"
    ]


def test_sigterm_cancels_packer_and_exits_130(harness: Harness) -> None:
    step = Step(
        harness,
        {"PACKER_SIM_SLEEP": "30", "INPUT_TEMPLATE": "jenkins.pkr.hcl", "INPUT_CHANNEL": "dev"},
    )
    wait_for_status(harness, "BUILD_RUNNING")
    sent, sent_wall = time.monotonic(), time.time()
    step.proc.send_signal(signal.SIGTERM)
    assert step.finish(timeout=10) == 130, step.stdout
    assert time.monotonic() - sent < 10
    cancelled = cancelled_patches(harness)
    assert cancelled, "Packer never reported the build CANCELLED"
    assert float(str(cancelled[0]["time"])) - sent_wall < 1.0  # Packer got the signal at once
    assert "Cleanly cancelled builds" in step.stdout
    errors = [line for _, line in step.lines if line.startswith("::error")]
    assert len(errors) == 1
    assert errors[0].startswith("::error title=Cancelled::")
    assert "resume" in errors[0]
    fingerprint = json.loads(harness.sim_log.read_text().splitlines()[-1])["env"][
        "HCP_PACKER_BUILD_FINGERPRINT"
    ]
    assert fingerprint in step.summary.read_text()
    assert step.out.read_text() == ""  # nothing verified, nothing written


def test_first_sigint_reports_within_a_second_and_cleanup_is_not_abandoned(
    harness: Harness,
) -> None:
    """Packer's cleanup outlasts the runner's patience: the user must have the error and the
    summary before it ends, and the runner's follow-up SIGTERM must not cut the cleanup."""
    cleanup = 4.0
    step = Step(
        harness,
        {
            "PACKER_SIM_SLEEP": "30",
            "PACKER_SIM_CLEANUP": str(cleanup),
            "INPUT_TEMPLATE": "jenkins.pkr.hcl",
            "INPUT_CHANNEL": "dev",
        },
    )
    wait_for_status(harness, "BUILD_RUNNING")
    sent = time.monotonic()
    step.proc.send_signal(signal.SIGINT)
    reported = step.first("::error title=Cancelled::", sent, timeout=5)
    assert reported is not None, step.stdout
    assert reported - sent < 1.0
    summary_then = step.summary.read_text()
    assert "Cancelled" in summary_then
    assert "re-run" in summary_then
    # The error was written while Packer's output was being relayed: commands were resumed.
    index = next(i for i, (_, line) in enumerate(step.lines) if line.startswith("::error"))
    assert step.lines[index - 1][1].startswith("::")
    assert "stop-commands" not in (step.lines[index - 1][1])
    step.proc.send_signal(signal.SIGTERM)  # the runner's second signal
    time.sleep(1.0)
    assert step.proc.poll() is None, "the second signal abandoned Packer's cleanup"
    assert step.finish(timeout=cleanup + 10) == 130
    took = time.monotonic() - sent
    assert took >= cleanup
    assert "Cleanly cancelled builds" in step.stdout
    assert len([line for _, line in step.lines if line.startswith("::error")]) == 1
    assert step.summary.read_text() == summary_then  # one summary, not two


def test_signal_during_a_channel_write_reports_what_changed(harness: Harness) -> None:
    """The write is held in flight by the emulator while the signal arrives; it completes,
    and the error and summary say that the channel moved."""
    harness.emulator.seed("jenkins-ha-ami", "fp-old", "staging")
    harness.emulator.seed("jenkins-ha-ami", "fp-new", "dev")
    harness.emulator.add_fault(Fault(method="PATCH", path="/channels/staging$", hold=True))
    step = Step(
        harness,
        {
            "INPUT_COMMAND": "promote",
            "INPUT_BUCKET": "jenkins-ha-ami",
            "INPUT_FROM-CHANNEL": "dev",
            "INPUT_CHANNEL": "staging",
        },
    )
    assert harness.emulator.holding.wait(30), "the channel write never arrived"
    step.proc.send_signal(signal.SIGTERM)
    time.sleep(0.5)
    harness.emulator.release.set()
    assert step.finish(timeout=20) == 130, step.stdout
    errors = [line for _, line in step.lines if line.startswith("::error")]
    assert len(errors) == 1
    assert "channel 'staging' now holds 'fp-new'" in errors[0]
    summary = step.summary.read_text()
    assert "staging" in summary
    assert "No channel was changed" not in summary
    channel = harness.emulator.registry_requests()[-1]
    assert channel["method"] == "PATCH"
    assert channel["status"] == 200
    assert step.out.read_text() == ""


def test_signal_between_requests_stops_at_once(harness: Harness) -> None:
    """No write in flight and no Packer: the step stops with the error straight away."""
    harness.emulator.seed("jenkins-ha-ami", "fp-1", "dev")
    harness.emulator.add_fault(Fault(method="GET", path="/channels/dev$", delay=5))
    step = Step(
        harness,
        {"INPUT_COMMAND": "lookup", "INPUT_BUCKET": "jenkins-ha-ami", "INPUT_CHANNEL": "dev"},
    )
    deadline = time.monotonic() + 20
    while not any(r["path"] == "/oauth2/token" for r in harness.emulator.requests):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    time.sleep(0.2)  # now in the (slow) channel read
    sent = time.monotonic()
    step.proc.send_signal(signal.SIGINT)
    assert step.finish(timeout=10) == 130
    assert time.monotonic() - sent < 2
    assert "No channel was changed" in step.summary.read_text()


def test_signal_during_a_revocation_reports_it(harness: Harness) -> None:
    harness.emulator.seed("jenkins-ha-ami", "fp-doomed", "dev")
    harness.emulator.seed("jenkins-ha-ami", "fp-next", "dev")  # fp-doomed is on no channel now
    harness.emulator.add_fault(Fault(method="PATCH", path="/versions/fp-doomed$", hold=True))
    step = Step(
        harness,
        {
            "INPUT_COMMAND": "revoke",
            "INPUT_BUCKET": "jenkins-ha-ami",
            "INPUT_VERSION-FINGERPRINT": "fp-doomed",
        },
    )
    assert harness.emulator.holding.wait(30), "the revocation never arrived"
    step.proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    harness.emulator.release.set()
    assert step.finish(timeout=20) == 130, step.stdout
    errors = [line for _, line in step.lines if line.startswith("::error")]
    assert len(errors) == 1
    assert "(fp-doomed) is revoked" in errors[0]
    assert "fp-doomed" in step.summary.read_text()
    assert "No channel was changed" not in step.summary.read_text()
