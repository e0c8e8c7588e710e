"""The Packer simulator behaves as Packer 1.16.0 does where the registry can see it
(docs/test-doubles.md, rows P*): driven directly, against the TLS emulator, as real Packer
would need. Each test names the Packer or SDK source of the rule it pins."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest

from hcp_action import demo
from hcp_action.emulator import Emulator
from hcp_action.emulator.server import Fault
from tests.helpers import BASE_AMI, TWO_SOURCES_TEMPLATE, Harness, seed, seed_ami

JENKINS_CHANNELS = "jenkins-channels.pkr.hcl"


def packer(
    harness: Harness, template: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    assert harness.sim_bin is not None
    full = harness.env({"HCP_PACKER_BUILD_FINGERPRINT": "sim-fp-1", **(env or {})})
    return subprocess.run(
        [str(harness.sim_bin / "packer"), "build", str(harness.workspace / template)],
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=harness.workspace,
    )


def statuses(harness: Harness, method: str = "PATCH") -> list[tuple[str, str]]:
    return [
        (str(r["path"]).rsplit("/", 1)[-1], str((r["body"] or {}).get("status")))
        for r in harness.emulator.registry_requests()
        if r["method"] == method and "/builds/" in str(r["path"])
    ]


def test_the_auth_url_must_be_https(harness: Harness) -> None:
    """hcp-sdk-go config/hcp.go validate: "the auth URL has to use https at its scheme"."""
    with Emulator() as plain:
        done = packer(harness, "jenkins.pkr.hcl", plain.env())
    assert done.returncode == 1
    assert "the auth URL has to use https at its scheme" in done.stderr
    assert plain.registry_requests() == []


def test_template_channels_are_moved_after_each_build(harness: Harness) -> None:
    """packer updateChannels (1.15.0+): each listed channel PATCHed in order after the build;
    the first failure stops the loop and does not fail Packer (exit 0)."""
    seed(harness.emulator, "old-fp", "dev")
    seed(harness.emulator, "old-fp", "staging")
    text = (
        (harness.workspace / "jenkins.pkr.hcl")
        .read_text()
        .replace(
            'description = "Jenkins HA controller image"',
            'description = "Jenkins HA controller image"\n'
            '  channels = ["dev", "missing", "staging"]',
        )
    )
    (harness.workspace / JENKINS_CHANNELS).write_text(text)
    done = packer(harness, JENKINS_CHANNELS)
    assert done.returncode == 0, done.stderr
    assert "Failed assigning version sim-fp-1 to channel 'missing'" in done.stdout + done.stderr
    patched = [
        str(r["path"]).rsplit("/", 1)[-1]
        for r in harness.emulator.registry_requests()
        if r["method"] == "PATCH" and "/channels/" in str(r["path"])
    ]
    assert patched == ["dev", "missing"]  # staging never tried


def test_builds_run_concurrently_with_heartbeats(harness: Harness) -> None:
    """packer startBuild/HeartbeatBuild: every build starts at once (no -parallel-builds) and
    repeats its RUNNING update on the heartbeat period (120 s; shortened here)."""
    (harness.workspace / "multi.pkr.hcl").write_text(TWO_SOURCES_TEMPLATE)
    done = packer(
        harness, "multi.pkr.hcl", {"PACKER_SIM_SLEEP": "1.5", "PACKER_SIM_HEARTBEAT": "0.4"}
    )
    assert done.returncode == 0, done.stderr
    running = [
        r
        for r in harness.emulator.registry_requests()
        if (r["body"] or {}).get("status") == "BUILD_RUNNING"
    ]
    by_build: dict[str, list[float]] = {}
    for r in running:
        by_build.setdefault(str(r["path"]), []).append(float(r["time"]))
    assert len(by_build) == 2
    assert all(len(times) >= 3 for times in by_build.values())  # first + heartbeats
    firsts = sorted(min(times) for times in by_build.values())
    assert firsts[1] - firsts[0] < 1.0  # concurrent, not one after the other


def test_create_build_code_6_leaves_the_build_untracked(harness: Harness) -> None:
    """packer populateVersion (E6): CreateBuild answering code 6 (a concurrent run) is
    tolerated; the build is not tracked and is reported as already done; exit 0."""
    harness.emulator.add_fault(
        Fault(method="POST", path="/builds$", status=409, code=6, agent="packer")
    )
    done = packer(harness, "jenkins.pkr.hcl")
    assert done.returncode == 0, done.stderr
    assert 'skipping already done build "amazon-ebs.jenkins"' in done.stdout
    assert statuses(harness) == []


def test_enforced_blocks_errors(harness: Harness) -> None:
    """packer command/build.go:155-163: codes 5 and 12 are ignored, any other fails (exit 1)."""
    harness.emulator.add_fault(
        Fault(method="GET", path="/enforced_blocks/", status=404, code=5, agent="packer")
    )
    assert packer(harness, "jenkins.pkr.hcl").returncode == 0
    harness.emulator.add_fault(
        Fault(method="GET", path="/enforced_blocks/", status=500, agent="packer")
    )
    failed = packer(harness, "jenkins.pkr.hcl", {"HCP_PACKER_BUILD_FINGERPRINT": "sim-fp-2"})
    assert failed.returncode == 1
    assert "fetching enforced provisioners failed" in failed.stderr


def test_a_failed_done_update_is_a_failed_build(harness: Harness) -> None:
    """packer completeBuild (E3): the DONE PATCH fails → a FAILED attempt, exit 1."""
    harness.emulator.add_fault(
        Fault(method="PATCH", path="/builds/", body="BUILD_DONE", status=503, agent="packer")
    )
    done = packer(harness, "jenkins.pkr.hcl")
    assert done.returncode == 1
    assert 'publishing build metadata to HCP Packer for "amazon-ebs.jenkins" failed' in (
        done.stdout + done.stderr
    )
    assert [s for _, s in statuses(harness)] == ["BUILD_RUNNING", "BUILD_DONE", "BUILD_FAILED"]


def test_done_body_carries_what_packer_sends(harness: Harness) -> None:
    """packer markBuildComplete: labels, metadata with JSON nulls, platform, source image."""
    text = (
        (harness.workspace / "jenkins.pkr.hcl")
        .read_text()
        .replace(
            'ssh_username  = "ubuntu"', 'ssh_username  = "ubuntu"\n  source_ami    = "ami-0base"'
        )
    )
    (harness.workspace / "src.pkr.hcl").write_text(text)
    done = packer(harness, "src.pkr.hcl")
    assert done.returncode == 0, done.stderr
    body = next(
        r["body"]
        for r in harness.emulator.registry_requests()
        if (r["body"] or {}).get("status") == "BUILD_DONE"
    )
    assert body["source_external_identifier"] == "ami-0base"
    assert body["platform"] == "aws"
    assert body["labels"]["os"] == "ubuntu-24.04"
    assert body["metadata"]["packer"]["version"] == "1.16.0"
    assert body["metadata"]["packer"]["plugins"] is None
    assert body["metadata"]["cicd"]["type"] == "github-actions"  # GITHUB_ACTIONS is set


def test_sigterm_cancels_each_running_build_twice(harness: Harness) -> None:
    """packer startBuild + completeBuild (V7): two CANCELLED updates per running build;
    "Cleanly cancelled builds after being interrupted."; exit 1. SIGINT to the wrapper's
    PID is ignored."""
    assert harness.sim_bin is not None
    full = harness.env({"HCP_PACKER_BUILD_FINGERPRINT": "sim-cancel", "PACKER_SIM_SLEEP": "30"})
    proc = subprocess.Popen(
        [str(harness.sim_bin / "packer"), "build", str(harness.workspace / "jenkins.pkr.hcl")],
        env=full,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while not statuses(harness):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    time.sleep(0.5)
    assert proc.poll() is None  # ignored
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=20)
    assert proc.returncode == 1
    assert "Cleanly cancelled builds after being interrupted." in out
    assert [s for _, s in statuses(harness)] == [
        "BUILD_RUNNING",
        "BUILD_CANCELLED",
        "BUILD_CANCELLED",
    ]


# The demo's child template (its source AMI is the base's hcp-packer-artifact), in its own bucket.
CHILD_TEMPLATE = demo.CHILD_TEMPLATE.replace(
    'bucket_name = "jenkins-ha-ami"', 'bucket_name = "child-ami"'
)
NULL_SOURCE = 'source "null" "jenkins" {\n  communicator = "none"\n}\n'


def _null_builder(text: str) -> str:
    text = re.sub(r'source "amazon-ebs" "jenkins" \{.*?\n\}\n', NULL_SOURCE, text, flags=re.DOTALL)
    return text.replace("source.amazon-ebs.jenkins", "source.null.jenkins")


def _literal_source_ami(text: str) -> str:
    return re.sub(
        r"source_ami(\s*)= data\.hcp-packer-artifact\.base\.external_identifier",
        r'source_ami\1= "ami-0literal"',
        text,
    )


def _done_body(harness: Harness) -> dict[str, Any]:
    body: dict[str, Any] = next(
        r["body"]
        for r in harness.emulator.registry_requests()
        if (r["body"] or {}).get("status") == "BUILD_DONE"
    )
    return body


def test_parent_ids_from_the_hcp_packer_data_sources(harness: Harness) -> None:
    """Packer names a parent in the DONE body only when the build's source image is an
    artifact an hcp-packer-artifact data source returned (ds_config.go builds the map,
    types.bucket.go looks the source image up); the channel id comes from the artifact data
    source, or from a version data source holding the same version. The registry then knows
    the ancestry (ListBucketAncestry)."""
    seed_ami(harness.emulator, "base-1", "production")
    (harness.workspace / "child.pkr.hcl").write_text(CHILD_TEMPLATE)
    done = packer(harness, "child.pkr.hcl", {"HCP_PACKER_BUILD_FINGERPRINT": "child-1"})
    assert done.returncode == 0, done.stderr
    body = _done_body(harness)
    assert body["source_external_identifier"] == BASE_AMI
    assert body["parent_version_id"]
    assert body["parent_channel_id"]
    env = harness.emulator.env()
    reply = harness.emulator.registry.list_ancestry(
        env["HCP_ORGANIZATION_ID"],
        env["HCP_PROJECT_ID"],
        "child-ami",
        {"type": "ANCESTRY_TYPE_PARENTS"},
    )
    (relation,) = reply[1]["relations"]
    assert relation["parent"]["version_fingerprint"] == "base-1"
    assert relation["parent"]["channel_name"] == "production"
    assert relation["status"] == "UP_TO_DATE"


@pytest.mark.parametrize(
    ("change", "why"),
    [
        # The data sources are there, but the source AMI is not the artifact one returned.
        (_literal_source_ami, "source image not from an artifact data source"),
        # The null builder has no source image at all.
        (_null_builder, "no source image"),
    ],
)
def test_no_parent_ids_unless_the_source_image_is_a_data_source_artifact(
    harness: Harness, change: Callable[[str], str], why: str
) -> None:
    seed_ami(harness.emulator, "base-1", "production")
    text = change(CHILD_TEMPLATE)
    assert text != CHILD_TEMPLATE
    (harness.workspace / "child.pkr.hcl").write_text(text)
    done = packer(harness, "child.pkr.hcl", {"HCP_PACKER_BUILD_FINGERPRINT": "child-1"})
    assert done.returncode == 0, (why, done.stderr)
    body = _done_body(harness)
    assert "parent_version_id" not in body, why
    assert "parent_channel_id" not in body, why


def test_data_source_failures_come_before_any_registry_write(harness: Harness) -> None:
    """Packer evaluates data sources with the template: a missing channel or a revoked version
    fails the build before the bucket or version is touched."""
    seed_ami(harness.emulator, "base-1", "production")
    (harness.workspace / "orphan.pkr.hcl").write_text(
        CHILD_TEMPLATE.replace('"production"', '"no-such-channel"')
    )
    harness.emulator.clear()
    missing = packer(harness, "orphan.pkr.hcl", {"HCP_PACKER_BUILD_FINGERPRINT": "child-2"})
    assert missing.returncode == 1
    assert "error retrieving HCP Packer Version from HCP Packer Registry" in missing.stderr
    assert harness.emulator.writes() == []
    env = harness.emulator.env()
    harness.emulator.registry.update_version(
        env["HCP_ORGANIZATION_ID"],
        env["HCP_PROJECT_ID"],
        "base-ami",
        "base-1",
        {"revoke_in": "0s", "disable_rollback_channels": True},
        "test",
    )
    (harness.workspace / "child.pkr.hcl").write_text(CHILD_TEMPLATE)
    revoked = packer(harness, "child.pkr.hcl", {"HCP_PACKER_BUILD_FINGERPRINT": "child-3"})
    assert revoked.returncode == 1
    assert "is revoked and can not be used on Packer builds" in revoked.stderr
    assert harness.emulator.writes() == []
