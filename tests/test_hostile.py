"""A hostile or broken registry and auth service (contract v2, "Hostile and unlucky inputs"):
whatever the server does, the step ends with one ::error, a summary, no outputs it did not
verify, no traceback, and within the retry deadline plus one request timeout."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import pytest

from hcp_action.emulator.server import Fault
from tests.helpers import ActionRun, Harness, seed
from tests.test_build import channel_fp

BUCKET = "jenkins-ha-ami"
TIMEOUT, DEADLINE = 2.0, 4.0
BOUNDED = {
    "HCP_ACTION_HTTP_TIMEOUT": str(TIMEOUT),
    "HCP_ACTION_RETRY_DEADLINE": str(DEADLINE),
    "HCP_ACTION_RETRY_ATTEMPTS": "50",
}
# How long each case held the action: reported at the end of the run (conftest).
HELD: dict[str, float] = {}

LOOKUP = {"command": "lookup", "bucket": BUCKET, "channel": "dev"}
BY_FINGERPRINT = {"command": "lookup", "bucket": BUCKET, "version-fingerprint": "fp-hostile"}
PROMOTE = {"command": "promote", "bucket": BUCKET, "from-channel": "dev", "channel": "staging"}


@dataclass(frozen=True)
class Case:
    fault: Fault
    inputs: dict[str, str]
    message: str  # a word the ::error must carry
    forbidden: tuple[str, ...] = field(default=())  # words it must not


CASES = {
    "retry-after beyond the deadline": Case(
        Fault(method="GET", path="/channels/dev$", status=429, retry_after=3600, times=-1),
        LOOKUP,
        "Retry-After",
    ),
    "body dripped one byte at a time": Case(
        Fault(method="GET", path="/channels/dev$", drip=0.5, times=-1), LOOKUP, "did not answer"
    ),
    "redirect on a read": Case(
        Fault(method="GET", path="/channels/dev$", redirect="http://127.0.0.1:9/x", times=-1),
        LOOKUP,
        "redirect",
    ),
    "redirect on a write": Case(
        Fault(method="PATCH", path="/channels/staging$", redirect="http://127.0.0.1:9/", times=-1),
        PROMOTE,
        "redirect",
    ),
    "20 MiB answer": Case(
        Fault(method="GET", path="/channels/dev$", oversize=20 * 1024 * 1024, times=-1),
        LOOKUP,
        "16 MiB",
    ),
    "non-JSON answer": Case(
        Fault(method="GET", path="/channels/dev$", garbage=True, times=-1), LOOKUP, "JSON"
    ),
    "another channel's answer": Case(
        Fault(method="GET", path="/channels/dev$", wrong="production", times=-1),
        LOOKUP,
        "'production'",
    ),
    "another version's answer": Case(
        Fault(method="GET", path="/versions/fp-hostile$", wrong="fp-other", times=-1),
        BY_FINGERPRINT,
        "'fp-other'",
    ),
    # A wrong answer to a write is read back (it may have landed); here the read lies too.
    "write and read-back answered about another channel": Case(
        Fault(method="*", path="/channels/staging$", wrong="prod", times=-1),
        PROMOTE,
        "'prod'",
    ),
    "token endpoint 503": Case(
        Fault(method="POST", path="^/oauth2/token$", status=503, times=-1),
        LOOKUP,
        "auth service failed",
        ("new key",),
    ),
    "token endpoint redirect": Case(
        Fault(method="POST", path="^/oauth2/token$", redirect="https://login.example/", times=-1),
        LOOKUP,
        "auth service failed",
        ("new key",),
    ),
}


def _run(harness: Harness, case: Case) -> tuple[ActionRun, float]:
    seed(harness.emulator, "fp-staging-before", "staging")
    seed(harness.emulator, "fp-hostile", "dev")
    harness.emulator.add_fault(case.fault)
    started = time.monotonic()
    run = harness.run(case.inputs, BOUNDED)
    return run, time.monotonic() - started


@pytest.mark.parametrize("name", list(CASES))
def test_hostile_server(harness: Harness, name: str) -> None:
    case = CASES[name]
    run, held = _run(harness, case)
    HELD[name] = held
    assert run.returncode == 1, run.stdout + run.stderr
    assert len(run.errors) == 1, run.stdout
    assert case.message in run.errors[0], run.errors[0]
    for word in case.forbidden:
        assert word not in run.errors[0]
    assert "Traceback" not in run.stderr
    assert run.outputs == {}
    assert run.summary.strip()
    # Start-up, token and the bounded request: the deadline plus one request, with slack for
    # the interpreter's start on a busy machine (bound asserted loosely, measured exactly).
    assert held < DEADLINE + TIMEOUT + 10
    if name == "redirect on a write":  # never reached the registry: nothing changed
        assert channel_fp(harness.emulator, BUCKET, "staging") == "fp-staging-before"


def report() -> list[str]:
    if not HELD:
        return []
    name, longest = max(HELD.items(), key=lambda kv: kv[1])
    line = (
        f"hostile-server cases: {len(HELD)}; longest hold {longest:.1f} s ({name}); "
        f"bound: retry deadline {DEADLINE:g} s + request timeout {TIMEOUT:g} s"
    )
    return [line]
