"""promote, rollback, revoke and dry-run end to end against the emulator (and a fake GitHub)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from hcp_action.emulator import Emulator, Fault
from tests.fake_github import FakeGitHub
from tests.helpers import ActionRun, Harness, seed

BUCKET = "jenkins-ha-ami"


def _ids(emulator: Emulator) -> tuple[str, str]:
    env = emulator.env()
    return env["HCP_ORGANIZATION_ID"], env["HCP_PROJECT_ID"]


def channel_fp(emulator: Emulator, channel: str) -> str | None:
    org, project = _ids(emulator)
    ch = emulator.registry.data["projects"][f"{org}/{project}"]["buckets"][BUCKET]["channels"].get(
        channel
    )
    return None if ch is None else ch["_fingerprint"]


def build(harness: Harness, fp: str, channel: str = "dev", **extra: str) -> ActionRun:
    run = harness.run(
        {"template": "jenkins.pkr.hcl", "channel": channel, "version-fingerprint": fp, **extra}
    )
    assert run.returncode == 0, run.stdout + run.stderr
    return run


def act(harness: Harness, command: str, **inputs: str) -> ActionRun:
    return harness.run({"command": command, "bucket": BUCKET, **inputs})


def own_requests(emulator: Emulator) -> list[dict[str, Any]]:
    return [r for r in emulator.registry_requests() if r["agent"].startswith("hcp-packer-action")]


def refused(run: ActionRun, text: str) -> None:
    assert run.returncode == 1, run.stdout
    assert any(text in e for e in run.errors), run.errors
    assert run.outputs == {}


def test_promote_dev_to_staging_to_production(harness: Harness) -> None:
    built = build(harness, "fp-a")
    harness.emulator.clear()
    staging = act(harness, "promote", **{"from-channel": "dev", "channel": "staging"})
    assert staging.returncode == 0, staging.stdout
    assert len(own_requests(harness.emulator)) <= 4
    assert staging.outputs["version-fingerprint"] == "fp-a"
    assert staging.outputs["previous-version-fingerprint"] == ""
    assert staging.outputs["ami-ids"] == built.outputs["ami-ids"]
    assert channel_fp(harness.emulator, "staging") == "fp-a"
    assert "dev holds v1 (fp-a)" in staging.summary
    production = act(
        harness,
        "promote",
        **{"from-channel": "staging", "channel": "production", "version-fingerprint": "fp-a"},
    )
    assert production.returncode == 0, production.stdout
    assert channel_fp(harness.emulator, "production") == "fp-a"
    # A newer build reaches dev; promoting it moves staging and reports what it held.
    build(harness, "fp-b")
    again = act(harness, "promote", **{"from-channel": "dev", "channel": "staging"})
    assert again.returncode == 0
    assert again.outputs["previous-version-fingerprint"] == "fp-a"
    assert "| `staging` | v1 (`fp-a`) | v2 (`fp-b`) | changed by this run |" in again.summary
    # Promoting what the target already holds is a no-op without a write.
    harness.emulator.clear()
    noop = act(harness, "promote", **{"from-channel": "dev", "channel": "staging"})
    assert noop.returncode == 0
    assert harness.emulator.writes() == []
    assert noop.outputs["previous-version-fingerprint"] == ""


def test_promote_guards(harness: Harness) -> None:
    build(harness, "fp-ok", channel="staging")
    build(harness, "fp-revoked", channel="dev")
    org, project = _ids(harness.emulator)
    with harness.emulator.registry.lock:
        harness.emulator.registry.update_version(
            org, project, BUCKET, "fp-revoked", {"revoke_in": "0s"}, "test"
        )
        # an incomplete version, and a complete one whose build has no artifacts
        harness.emulator.registry.create_version(org, project, BUCKET, {"fingerprint": "fp-v0"})
        harness.emulator.registry.create_version(org, project, BUCKET, {"fingerprint": "fp-empty"})
        version = harness.emulator.registry.data["projects"][f"{org}/{project}"]["buckets"][BUCKET][
            "versions"
        ]["fp-empty"]
        version.update(name="v9", status="VERSION_ACTIVE")
        version["builds"].append(
            {
                "id": "B1",
                "component_type": "null.a",
                "status": "BUILD_DONE",
                "artifacts": [],
                "platform": "null",
            }
        )
    harness.emulator.clear()
    cases = [
        ({"version-fingerprint": "fp-revoked"}, "revoked"),
        ({"version-fingerprint": "fp-v0"}, "not complete"),
        ({"version-fingerprint": "fp-empty"}, "without artifacts"),
        (
            {"from-channel": "staging", "version-fingerprint": "fp-other"},
            "now holds v1 (fp-ok), not fp-other",
        ),
        ({"version-fingerprint": "fp-missing"}, "no version fp-missing"),
    ]
    for extra, why in cases:
        run = act(harness, "promote", channel="production", **extra)
        refused(run, why)
        assert "Refused by a guard" in run.errors[0]
    latest = act(harness, "promote", channel="latest", **{"from-channel": "staging"})
    assert latest.returncode == 2
    assert harness.emulator.writes() == []
    assert channel_fp(harness.emulator, "production") is None


def test_promote_to_missing_channel_with_create_channel_false(harness: Harness) -> None:
    build(harness, "fp-a")
    run = act(
        harness,
        "promote",
        channel="production",
        **{"from-channel": "dev", "create-channel": "false"},
    )
    refused(run, "create-channel is false")


def test_rollback_by_history_and_by_fingerprint(harness: Harness) -> None:
    for fp in ("fp-1", "fp-2", "fp-3"):
        build(harness, fp, channel="production")
    org, project = _ids(harness.emulator)
    with harness.emulator.registry.lock:  # fp-2 turned out bad too: revoke it without moving
        harness.emulator.registry.update_version(
            org,
            project,
            BUCKET,
            "fp-2",
            {"revoke_in": "0s", "disable_rollback_channels": True},
            "test",
        )
    harness.emulator.clear()
    back = act(harness, "rollback", channel="production")
    assert back.returncode == 0, back.stdout
    assert len(own_requests(harness.emulator)) <= 5
    assert back.outputs["version-fingerprint"] == "fp-1"  # fp-3 current, fp-2 revoked
    assert back.outputs["previous-version-fingerprint"] == "fp-3"
    assert channel_fp(harness.emulator, "production") == "fp-1"
    forward = act(harness, "rollback", channel="production", **{"version-fingerprint": "fp-3"})
    assert forward.returncode == 0
    assert channel_fp(harness.emulator, "production") == "fp-3"


def test_rollback_pages_history_only_as_far_as_needed(harness: Harness) -> None:
    for i in range(45):
        seed(harness.emulator, f"fp-{i:02d}", "dev")
    harness.emulator.clear()
    run = act(harness, "rollback", channel="dev")
    assert run.returncode == 0
    assert run.outputs["version-fingerprint"] == "fp-43"
    history = [r for r in harness.emulator.registry_requests() if r["path"].endswith("/history")]
    assert len(history) == 1


def test_rollback_without_earlier_version(harness: Harness) -> None:
    build(harness, "only-one", channel="dev")
    harness.emulator.clear()
    run = act(harness, "rollback", channel="dev")
    refused(run, "no earlier version")
    assert harness.emulator.writes() == []
    assert channel_fp(harness.emulator, "dev") == "only-one"
    missing = act(harness, "rollback", channel="nope")
    refused(missing, "channel 'nope' not found")


def test_revoke_with_and_without_force(harness: Harness) -> None:
    build(harness, "fp-old", channel="production")
    build(harness, "fp-bad", channel="production")
    promote = act(harness, "promote", channel="staging", **{"from-channel": "production"})
    assert promote.returncode == 0
    harness.emulator.clear()
    blocked = act(harness, "revoke", **{"version-fingerprint": "fp-bad", "reason": "CVE-1"})
    refused(blocked, "still assigned to: production, staging")
    assert harness.emulator.writes() == []
    forced = act(
        harness, "revoke", **{"version-fingerprint": "fp-bad", "reason": "CVE-1", "force": "true"}
    )
    assert forced.returncode == 0, forced.stdout
    assert forced.outputs["version-fingerprint"] == "fp-bad"
    assert channel_fp(harness.emulator, "production") == "fp-old"  # HCP moved it back
    assert channel_fp(harness.emulator, "staging") == ""  # no valid earlier assignment
    assert "| `production` | v2 (`fp-bad`) | v1 (`fp-old`) | moved back by HCP" in forced.summary
    assert "| `staging` | v2 (`fp-bad`) | (none) |" in forced.summary
    assert "do **not** refuse a revoked version" in forced.summary
    org, project = _ids(harness.emulator)
    version = harness.emulator.registry.data["projects"][f"{org}/{project}"]["buckets"][BUCKET][
        "versions"
    ]["fp-bad"]
    assert version["status"] == "VERSION_REVOKED"
    assert version["revocation_message"] == "CVE-1"
    again = act(harness, "revoke", **{"version-fingerprint": "fp-bad"})
    assert again.returncode == 0
    assert "already revoked" in again.summary
    unassigned = act(harness, "revoke", channel="production")  # fp-old, on production only
    refused(unassigned, "still assigned to: production")


def test_dry_run_makes_no_write_for_any_command(harness: Harness) -> None:
    build(harness, "fp-a")
    build(harness, "fp-b", channel="staging")
    harness.emulator.clear()
    runs = [
        act(harness, "promote", channel="staging", **{"from-channel": "dev", "dry-run": "true"}),
        act(
            harness,
            "rollback",
            channel="staging",
            **{"dry-run": "true", "version-fingerprint": "fp-a"},
        ),
        act(
            harness, "revoke", **{"version-fingerprint": "fp-b", "force": "true", "dry-run": "true"}
        ),
        act(harness, "lookup", channel="dev", **{"dry-run": "true"}),
    ]
    for run in runs:
        assert run.returncode == 0, run.stdout
        assert "(dry run)" in run.summary
    assert harness.emulator.writes() == []
    assert "staging: v2 (fp-b) → v1 (fp-a)" in runs[0].summary
    assert runs[0].outputs["version-fingerprint"] == "fp-a"
    assert "would revoke v2 (fp-b)" in runs[2].summary
    assert channel_fp(harness.emulator, "staging") == "fp-b"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


GH_ENV = {
    "GITHUB_REPOSITORY": "acme/images",
    "GITHUB_RUN_ID": "42",
    "GITHUB_SERVER_URL": "https://github.example",
}


def test_deployments_recorded_per_channel_change(harness: Harness, github: FakeGitHub) -> None:
    env = {**GH_ENV, "GITHUB_API_URL": github.url}
    token = "ghs_fakeDeployToken123"
    built = harness.run(
        {
            "template": "jenkins.pkr.hcl",
            "channel": "dev",
            "github-deployment": "true",
            "github-token": token,
        },
        env,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    promoted = harness.run(
        {
            "command": "promote",
            "bucket": BUCKET,
            "channel": "production",
            "from-channel": "dev",
            "github-deployment": "true",
            "github-token": token,
        },
        env,
    )
    assert promoted.returncode == 0, promoted.stdout + promoted.stderr
    noop = harness.run(
        {
            "command": "promote",
            "bucket": BUCKET,
            "channel": "production",
            "from-channel": "dev",
            "github-deployment": "true",
            "github-token": token,
        },
        env,
    )
    assert noop.returncode == 0
    assert len(github.deployments) == 2  # none for the no-op
    first, second = github.deployments[1], github.deployments[2]
    assert first["environment"] == f"{BUCKET}/dev"
    assert second["environment"] == f"{BUCKET}/production"
    assert second["production_environment"] is True
    assert first["ref"] == harness.env()["GITHUB_SHA"]
    assert first["auto_merge"] is False
    assert first["required_contexts"] == []
    assert first["transient_environment"] is False
    assert first["payload"]["fingerprint"] == built.outputs["version-fingerprint"]
    assert first["payload"]["artifacts"] == json.loads(built.outputs["ami-ids"])
    assert github.statuses[1][0]["state"] == "success"
    assert github.statuses[2][0]["environment"] == f"{BUCKET}/production"
    assert all(
        r["auth"] == f"token {token}" or r["auth"] == f"Bearer {token}" for r in github.requests
    )
    assert token not in promoted.everything()


def test_deployment_403_is_a_warning(harness: Harness, github: FakeGitHub) -> None:
    github.deny_status = 403
    env = {**GH_ENV, "GITHUB_API_URL": github.url}
    run = harness.run(
        {
            "template": "jenkins.pkr.hcl",
            "channel": "dev",
            "github-deployment": "true",
            "github-token": "ghs_x123",
        },
        env,
    )
    assert run.returncode == 0, run.stdout
    warnings = [line for line in run.stdout.splitlines() if line.startswith("::warning")]
    assert len(warnings) == 1
    assert "403" in warnings[0]
    assert "deployments: write" in warnings[0]
    assert channel_fp(harness.emulator, "dev") == run.outputs["version-fingerprint"]


def test_rollback_reads_a_second_page_when_needed(harness: Harness) -> None:
    for i in range(25):
        seed(harness.emulator, f"fp-{i:02d}", "dev")
    org, project = _ids(harness.emulator)
    with harness.emulator.registry.lock:
        for i in range(5, 24):
            harness.emulator.registry.update_version(
                org,
                project,
                BUCKET,
                f"fp-{i:02d}",
                {"revoke_in": "0s", "disable_rollback_channels": True},
                "test",
            )
    harness.emulator.clear()
    run = act(harness, "rollback", channel="dev")
    assert run.returncode == 0, run.stdout
    assert run.outputs["version-fingerprint"] == "fp-04"
    history = [r for r in harness.emulator.registry_requests() if r["path"].endswith("/history")]
    assert len(history) == 2


def test_racing_writer_is_detected(harness: Harness) -> None:
    """Another run sets the channel right after ours: the returned channel shows it, we fail."""
    seed(harness.emulator, "fp-a", "dev")
    seed(harness.emulator, "fp-b", "other")
    seed(harness.emulator, "fp-c", "staging")
    harness.emulator.add_fault(Fault(method="PATCH", path="/channels/staging$", race="fp-b"))
    run = act(harness, "promote", channel="staging", **{"from-channel": "dev"})
    assert run.returncode == 1
    assert any("now holds 'fp-b', not fp-a" in e and "another run" in e for e in run.errors)
    assert run.outputs == {}
    assert channel_fp(harness.emulator, "staging") == "fp-b"  # the later writer won, as on HCP


@pytest.mark.parametrize("failure", ["500", "garbage", "hang", "unreachable"])
def test_deployment_failure_never_fails_the_step(
    harness: Harness, github: FakeGitHub, failure: str
) -> None:
    """GitHub Deployments are a record, never a gate (contract v2): whatever GitHub does, the
    channel change keeps its success, outputs and summary, with one warning."""
    api = github.url
    if failure == "500":
        github.deny_status = 500
    elif failure == "unreachable":
        api = "http://127.0.0.1:9"  # discard port: connection refused
    else:
        github.write_mode = failure
    seed(harness.emulator, "fp-deploy", "dev")
    run = harness.run(
        {
            "command": "promote",
            "bucket": BUCKET,
            "from-channel": "dev",
            "channel": "staging",
            "github-deployment": "true",
            "github-token": "ghs_deploy_test_token",
        },
        {**GH_ENV, "GITHUB_API_URL": api, "HCP_ACTION_GITHUB_TIMEOUT": "2"},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.errors == []
    warnings = [line for line in run.stdout.splitlines() if line.startswith("::warning")]
    assert len(warnings) == 1
    assert "channel change itself succeeded" in warnings[0]
    assert run.outputs["version-fingerprint"] == "fp-deploy"
    assert "staging" in run.summary
    assert channel_fp(harness.emulator, "staging") == "fp-deploy"
    assert "Traceback" not in run.stderr
