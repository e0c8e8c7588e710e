"""Fault matrix: every request class of every command under 429, 500, 503, a timeout and a
connection reset. Each run either succeeds or fails with one clear ::error, and no channel is
ever left different from what the run reports. The matrix is printed at the end of the run."""

from __future__ import annotations

import copy
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from hcp_action.emulator import Emulator, Fault
from hcp_action.packer.simulator import install_shim
from tests.helpers import Harness, seed

BUCKET = "jenkins-ha-ami"
ACTION = "^hcp-packer-action"  # faults hit the action's requests, never the simulated Packer's
RESULTS: list[tuple[str, str, str, str]] = []  # command, class, fault, outcome


@dataclass(frozen=True)
class Case:
    command: str
    request: str
    method: str
    path: str
    inputs: dict[str, str]
    watch: str  # the channel (or "version:<fp>") whose state the run must account for


CASES = [
    Case("lookup", "token", "POST", "/oauth2/token$", {"channel": "dev"}, "dev"),
    Case("lookup", "channel read", "GET", "/channels/dev$", {"channel": "dev"}, "dev"),
    Case("build", "token", "POST", "/oauth2/token$", {"channel": "builds"}, "builds"),
    Case("build", "version read", "GET", "/versions/mx-", {"channel": "builds"}, "builds"),
    Case("build", "channel read", "GET", "/channels/builds$", {"channel": "builds"}, "builds"),
    Case("build", "channel write", "PATCH", "/channels/builds$", {"channel": "builds"}, "builds"),
    Case(
        "promote",
        "token",
        "POST",
        "/oauth2/token$",
        {"channel": "staging", "from-channel": "dev"},
        "staging",
    ),
    Case(
        "promote",
        "source read",
        "GET",
        "/channels/dev$",
        {"channel": "staging", "from-channel": "dev"},
        "staging",
    ),
    Case(
        "promote",
        "target read",
        "GET",
        "/channels/staging$",
        {"channel": "staging", "from-channel": "dev"},
        "staging",
    ),
    Case(
        "promote",
        "channel write",
        "PATCH",
        "/channels/staging$",
        {"channel": "staging", "from-channel": "dev"},
        "staging",
    ),
    Case("rollback", "token", "POST", "/oauth2/token$", {"channel": "production"}, "production"),
    Case(
        "rollback",
        "channel read",
        "GET",
        "/channels/production$",
        {"channel": "production"},
        "production",
    ),
    Case("rollback", "history", "GET", "/history$", {"channel": "production"}, "production"),
    Case(
        "rollback",
        "channel write",
        "PATCH",
        "/channels/production$",
        {"channel": "production"},
        "production",
    ),
    Case(
        "revoke", "token", "POST", "/oauth2/token$", {"version-fingerprint": "fp-3"}, "version:fp-3"
    ),
    Case(
        "revoke",
        "version read",
        "GET",
        "/versions/fp-3$",
        {"version-fingerprint": "fp-3"},
        "version:fp-3",
    ),
    Case(
        "revoke",
        "channel list",
        "GET",
        "/channels$",
        {"version-fingerprint": "fp-3"},
        "version:fp-3",
    ),
    Case(
        "revoke",
        "descendants",
        "GET",
        "/ancestry$",
        {"version-fingerprint": "fp-3"},
        "version:fp-3",
    ),
    Case(
        "revoke",
        "version write",
        "PATCH",
        "/versions/fp-3$",
        {"version-fingerprint": "fp-3"},
        "version:fp-3",
    ),
]
# Read-only commands: whatever the fault, nothing changes (watched: dev).
CASES += [
    Case("status", request, "GET", path, {}, "dev")
    for request, path in (
        ("bucket read", f"/buckets/{BUCKET}$"),
        ("channel list", "/channels$"),
        ("versions page", "/versions$"),
        ("ancestry", "/ancestry$"),
    )
]
CASES += [
    Case("find", request, method, path, {"artifact-id": "Null", "platform": "null"}, "dev")
    for request, method, path in (
        ("search", "POST", "/_search/external_artifact$"),
        ("version read", "GET", "/versions/fp-"),
        ("channel list", "GET", "/channels$"),
    )
]
FAULTS: dict[str, dict[str, Any]] = {
    "429": {"status": 429, "retry_after": 1},
    "500": {"status": 500},
    "503": {"status": 503},
    # Held by the emulator until the run is over: the client's timeout fires whatever the load,
    # and the server processes the request afterwards (an answer lost, not a request).
    "timeout": {"hold": True},
    "reset": {"reset": True},
    # Hostile answers, once (contract v2): a body dripped a byte per second (bounded by the
    # request deadline), a redirect, a non-JSON body, an answer about another resource.
    "drip": {"drip": 1.0},
    "redirect": {"redirect": "http://127.0.0.1:9/elsewhere"},
    "garbage": {"garbage": True},
    "wrong": {"wrong": "someone-else"},
}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Harness, Any]]:
    with Emulator(tls=True) as emulator:
        sim = install_shim(tmp_path_factory.mktemp("bin"))
        harness = Harness(tmp_path_factory.mktemp("matrix"), emulator, sim.parent)
        seed(emulator, "fp-1", "staging")
        seed(emulator, "fp-1", "builds")
        seed(emulator, "fp-1", "production")
        seed(emulator, "fp-2", "production")
        seed(emulator, "fp-2", "dev")
        seed(emulator, "fp-3", "other")
        seed(emulator, "fp-4", "other")  # fp-3 is now on no channel: revoke needs no force
        yield harness, copy.deepcopy(emulator.registry.data)


def state(emulator: Emulator, watch: str) -> str:
    env = emulator.env()
    bucket = emulator.registry.data["projects"][
        f"{env['HCP_ORGANIZATION_ID']}/{env['HCP_PROJECT_ID']}"
    ]["buckets"][BUCKET]
    if watch.startswith("version:"):
        return str(bucket["versions"][watch[8:]]["status"])
    channel = bucket["channels"].get(watch)
    return "" if channel is None else str(channel["_fingerprint"])


def _let_the_held_request_finish(emulator: Emulator, case: Case) -> None:
    """Release the held request and wait until the server has processed it, so that it cannot
    land on the next case's registry."""
    seen = len(emulator.registry_requests())
    emulator.release.set()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if any(
            r["method"] == case.method and re.search(case.path, r["path"])
            for r in emulator.registry_requests()[seen:]
        ):
            return
        time.sleep(0.02)
    raise AssertionError("the held request was never processed")


def run_case(
    world: tuple[Harness, Any], case: Case, fault: dict[str, Any], times: int, number: int
) -> str:
    """Run one case; returns "ok" (succeeded) or "err" (failed cleanly), asserts the rest."""
    harness, snapshot = world
    emulator = harness.emulator
    with emulator.registry.lock:
        emulator.registry.data = copy.deepcopy(snapshot)
    emulator.clear()
    emulator.holding.clear()
    emulator.release.clear()
    before = state(emulator, case.watch)
    emulator.add_fault(
        Fault(method=case.method, path=case.path, agent=ACTION, times=times, **fault)
    )
    held = bool(fault.get("hold"))
    slow = held or bool(fault.get("drip"))
    inputs = {"command": case.command, **case.inputs}
    if case.command == "build":
        inputs |= {"template": "jenkins.pkr.hcl", "version-fingerprint": f"mx-{number}"}
    else:
        inputs["bucket"] = BUCKET
    # Generous timeouts: only the faulted request may fail, never one slowed by a busy machine.
    timeout = "2" if slow else "10"
    run = harness.run(
        inputs, {"HCP_ACTION_HTTP_TIMEOUT": timeout, "HCP_ACTION_RETRY_DEADLINE": "20"}
    )
    after = state(emulator, case.watch)
    if held:
        hit = emulator.holding.is_set()
        _let_the_held_request_finish(emulator, case)
    else:
        hit = any(
            r["agent"].startswith("hcp-packer-action")
            and r["method"] == case.method
            and (r["status"] != 200 or bool(set(fault) & {"drip", "wrong", "garbage"}))
            for r in emulator.registry_requests()
            if re.search(case.path, r["path"])
        )
    assert hit, "the fault never hit a request: the matrix would prove nothing"
    if run.returncode == 0:
        assert run.errors == []
        if case.watch.startswith("version:"):
            assert after == "VERSION_REVOKED"
        elif case.command not in {"lookup", "status", "find"}:
            assert after == run.outputs["version-fingerprint"], (before, after)
        else:
            assert after == before
        return "ok"
    assert run.returncode == 1, run.stdout + run.stderr
    assert len(run.errors) == 1, run.stdout
    assert after == before, f"failed run left {case.watch} at {after}, was {before}"
    return "err"


@pytest.mark.parametrize("fault_name", list(FAULTS))
@pytest.mark.parametrize("case", CASES, ids=[f"{c.command}-{c.request}" for c in CASES])
def test_transient_fault(world: tuple[Harness, Any], case: Case, fault_name: str) -> None:
    outcome = "FAIL"
    try:
        outcome = run_case(world, case, FAULTS[fault_name], 1, len(RESULTS))
    finally:
        RESULTS.append((case.command, case.request, fault_name, outcome))


WRITES = [c for c in CASES if c.method == "PATCH"]


@pytest.mark.parametrize("case", WRITES, ids=[f"{c.command}-{c.request}" for c in WRITES])
def test_persistent_503_on_writes_fails_cleanly(world: tuple[Harness, Any], case: Case) -> None:
    """A write that keeps failing: a clear error, and the channel or version as it was."""
    assert run_case(world, case, {"status": 503}, -1, len(RESULTS) + 1000) == "err"


def report() -> list[str]:
    if not RESULTS:
        return []
    faults = list(FAULTS)
    lines = [
        (
            "fault matrix (ok = succeeded; err = failed with one clear error, nothing changed;"
            " FAIL = neither)"
        ),
        f"{'command':9} {'request':14} " + " ".join(f"{f:>7}" for f in faults),
    ]
    for case in CASES:
        found = {f: o for c, r, f, o in RESULTS if (c, r) == (case.command, case.request)}
        if found:
            lines.append(
                f"{case.command:9} {case.request:14} "
                + " ".join(f"{found.get(f, '-'):>7}" for f in faults)
            )
    passed = sum(1 for *_, o in RESULTS if o != "FAIL")
    succeeded = sum(1 for *_, o in RESULTS if o == "ok")
    lines.append(
        f"fault matrix: {passed}/{len(RESULTS)} passed "
        f"({succeeded} succeeded despite the fault, {passed - succeeded} failed cleanly)"
    )
    return lines
