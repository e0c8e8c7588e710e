"""`build` end to end: the real entrypoint, the emulator over loopback, the simulator as Packer."""

from __future__ import annotations

import json
import threading
from typing import Any

from hcp_action.emulator import Emulator
from hcp_action.emulator.server import Fault
from tests.helpers import ActionRun, Harness, seed

BUCKET = "jenkins-ha-ami"


def project(emulator: Emulator) -> dict[str, Any]:
    env = emulator.env()
    found: dict[str, Any] = emulator.registry.data["projects"][
        f"{env['HCP_ORGANIZATION_ID']}/{env['HCP_PROJECT_ID']}"
    ]
    return found


def channel_fp(emulator: Emulator, bucket: str, channel: str) -> str | None:
    ch = project(emulator)["buckets"].get(bucket, {}).get("channels", {}).get(channel)
    return None if ch is None else ch["_fingerprint"]


def assert_no_secret(run: ActionRun, *secrets: str) -> None:
    text = run.everything()
    for secret in secrets:
        assert secret not in text


def test_build_to_missing_channel_creates_it_and_writes_outputs(
    harness: Harness, client_secret: str
) -> None:
    """A first build creates the version, creates channel dev on it, outputs both regions."""
    run = harness.run({"command": "build", "channel": "dev", "template": "jenkins.pkr.hcl"})
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.outputs
    fp = out["version-fingerprint"]
    assert len(fp) <= 32
    version = project(harness.emulator)["buckets"][BUCKET]["versions"][fp]
    assert version["name"] == "v1" == out["version-name"]
    assert version["id"] == out["version-id"]
    regions = {a["region"]: a["external_identifier"] for a in version["builds"][0]["artifacts"]}
    assert set(regions) == {"us-east-1", "us-west-2"}
    assert json.loads(out["ami-ids"]) == regions
    assert out["ami-id"] == regions["us-east-1"]  # no AWS_REGION: first region in sorted order
    artifacts = sorted(json.loads(out["artifacts"]), key=lambda a: a["region"])
    assert artifacts == [
        {"platform": "aws", "region": r, "id": regions[r], "component": "amazon-ebs.jenkins"}
        for r in sorted(regions)
    ]
    assert out["bucket"] == BUCKET
    assert out["channel"] == "dev"
    assert out["build-skipped"] == "false"
    assert out["previous-version-fingerprint"] == ""
    assert channel_fp(harness.emulator, BUCKET, "dev") == fp
    # Packer ran init then build, with the HCP environment injected.
    argvs = [c["argv"][0] for c in run.packer_calls]
    assert argvs == ["init", "build"]
    build_call = run.packer_calls[1]
    assert build_call["env"]["HCP_PACKER_BUILD_FINGERPRINT"] == fp
    assert build_call["env"]["HCP_PACKER_BUCKET_NAME"] == BUCKET
    assert build_call["env"]["CHECKPOINT_DISABLE"] == "1"
    assert build_call["has_client_secret"]
    assert client_secret not in json.dumps(build_call["argv"])
    own = [
        r
        for r in harness.emulator.registry_requests()
        if r["agent"].startswith("hcp-packer-action")
    ]
    assert len(own) <= 6  # the build's own request budget, beyond Packer's
    assert "| us-west-2 |" in run.summary
    assert f"| `dev` | (none) | v1 (`{fp}`) | created |" in run.summary
    assert_no_secret(run, client_secret, *harness.emulator.tokens)


def registry_requests(emulator: Emulator) -> list[dict[str, Any]]:
    return emulator.registry_requests()


def test_rerun_of_complete_fingerprint_skips_packer(harness: Harness) -> None:
    """Re-running the same job reuses the complete version: Packer not started, ≤ 4 requests."""
    first = harness.run({"channel": "dev", "template": "jenkins.pkr.hcl"})
    assert first.returncode == 0, first.stdout
    harness.emulator.clear()
    second = harness.run({"channel": "dev", "template": "jenkins.pkr.hcl"})
    assert second.returncode == 0, second.stdout
    assert second.packer_calls == []
    assert second.outputs["build-skipped"] == "true"
    assert second.outputs["version-fingerprint"] == first.outputs["version-fingerprint"]
    assert second.outputs["ami-ids"] == first.outputs["ami-ids"]
    assert second.outputs["previous-version-fingerprint"] == ""  # unchanged channel
    assert len(registry_requests(harness.emulator)) <= 4
    assert harness.emulator.writes() == []


def test_rerun_reassigns_a_channel_that_moved(harness: Harness) -> None:
    """A skipped build still puts the channel back on its version and reports what it held."""
    first = harness.run({"channel": "dev", "template": "jenkins.pkr.hcl"})
    other = harness.run(
        {"channel": "dev", "template": "jenkins.pkr.hcl", "version-fingerprint": "other-fp-1"}
    )
    assert other.returncode == 0
    again = harness.run({"channel": "dev", "template": "jenkins.pkr.hcl"})
    assert again.returncode == 0
    assert again.outputs["previous-version-fingerprint"] == "other-fp-1"
    assert channel_fp(harness.emulator, BUCKET, "dev") == first.outputs["version-fingerprint"]


def test_incomplete_version_is_resumed(harness: Harness) -> None:
    """A failed first attempt leaves v0; the re-run resumes the same version and completes it."""
    failed = harness.run(
        {"channel": "dev", "template": "jenkins.pkr.hcl"}, {"PACKER_SIM_FAIL": "build"}
    )
    assert failed.returncode != 0
    assert any("Packer failed" in e for e in failed.errors)
    assert channel_fp(harness.emulator, BUCKET, "dev") is None  # nothing assigned
    assert failed.outputs == {}
    fp = failed.packer_calls[1]["env"]["HCP_PACKER_BUILD_FINGERPRINT"]
    version = project(harness.emulator)["buckets"][BUCKET]["versions"][fp]
    assert version["name"] == "v0"
    assert version["builds"][0]["status"] == "BUILD_FAILED"

    resumed = harness.run({"channel": "dev", "template": "jenkins.pkr.hcl"})
    assert resumed.returncode == 0, resumed.stdout
    assert [c["argv"][0] for c in resumed.packer_calls] == ["init", "build"]
    assert resumed.packer_calls[1]["env"]["HCP_PACKER_BUILD_FINGERPRINT"] == fp
    assert resumed.outputs["version-fingerprint"] == fp
    assert resumed.outputs["version-name"] == "v1"
    assert "resumed" in resumed.summary
    assert channel_fp(harness.emulator, BUCKET, "dev") == fp


def test_packer_failure_leaves_channel_unchanged(harness: Harness) -> None:
    """Packer exits non-zero: the step fails and the channel keeps its version."""
    good = harness.run(
        {"channel": "prod-like", "template": "jenkins.pkr.hcl", "version-fingerprint": "good-1"}
    )
    assert good.returncode == 0
    harness.emulator.clear()
    bad = harness.run(
        {"channel": "prod-like", "template": "jenkins.pkr.hcl", "version-fingerprint": "bad-2"},
        {"PACKER_SIM_FAIL": "build"},
    )
    assert bad.returncode == 1
    assert any("packer build exited 1" in e for e in bad.errors)
    assert channel_fp(harness.emulator, BUCKET, "prod-like") == "good-1"
    assert not [w for w in harness.emulator.writes() if "/channels" in w["path"]]
    assert "No channel was changed" in bad.summary


def test_packer_init_failure_is_reported(harness: Harness) -> None:
    run = harness.run({"template": "jenkins.pkr.hcl"}, {"PACKER_SIM_FAIL": "init"})
    assert run.returncode == 1
    assert any("packer init exited 1" in e for e in run.errors)
    assert [c["argv"][0] for c in run.packer_calls] == ["init"]


def test_packer_exit_zero_without_completion_times_out(harness: Harness) -> None:
    """Exit 0 proves nothing: a version that never completes fails with a clear timeout."""
    run = harness.run(
        {"channel": "dev", "template": "jenkins.pkr.hcl", "wait-timeout": "2"},
        {"PACKER_SIM_FAIL": "incomplete"},
    )
    assert run.returncode == 1
    assert any("did not complete within 2 s" in e and "BUILD_RUNNING" in e for e in run.errors)
    assert channel_fp(harness.emulator, BUCKET, "dev") is None
    assert run.outputs == {}


def test_builds_without_artifacts_fail(harness: Harness) -> None:
    run = harness.run(
        {"channel": "dev", "template": "jenkins.pkr.hcl"}, {"PACKER_SIM_FAIL": "no-artifacts"}
    )
    assert run.returncode == 1
    assert channel_fp(harness.emulator, BUCKET, "dev") is None


def test_create_channel_false_fails_before_packer(harness: Harness) -> None:
    run = harness.run(
        {"channel": "staging", "template": "jenkins.pkr.hcl", "create-channel": "false"}
    )
    assert run.returncode == 1
    assert any("create-channel is false" in e for e in run.errors)
    assert run.packer_calls == []


def test_existing_channel_is_updated_and_previous_reported(harness: Harness) -> None:
    first = harness.run(
        {"channel": "dev", "template": "jenkins.pkr.hcl", "version-fingerprint": "fp-one"}
    )
    second = harness.run(
        {
            "channel": "dev",
            "template": "jenkins.pkr.hcl",
            "version-fingerprint": "fp-two",
            "create-channel": "false",
        }
    )
    assert first.returncode == 0
    assert second.returncode == 0, second.stdout
    assert second.outputs["previous-version-fingerprint"] == "fp-one"
    assert second.outputs["version-name"] == "v2"
    assert channel_fp(harness.emulator, BUCKET, "dev") == "fp-two"
    assert "| `dev` | v1 (`fp-one`) | v2 (`fp-two`) | changed by this run |" in second.summary


def test_region_from_aws_region_and_missing_region(harness: Harness) -> None:
    """AWS_REGION picks ami-id; a region without artifact fails before the channel write."""
    west = harness.run(
        {"channel": "dev", "template": "jenkins.pkr.hcl"}, {"AWS_REGION": "us-west-2"}
    )
    assert west.returncode == 0
    assert west.outputs["ami-id"] == json.loads(west.outputs["ami-ids"])["us-west-2"]
    harness.emulator.clear()
    missing = harness.run(
        {"channel": "other", "template": "jenkins.pkr.hcl", "region": "ap-south-1"}
    )
    assert missing.returncode == 1
    assert any("ap-south-1" in e and "us-east-1, us-west-2" in e for e in missing.errors)
    assert channel_fp(harness.emulator, BUCKET, "other") is None


def test_component_ambiguity_and_choice(harness: Harness) -> None:
    """Two builds in one region need `component`; with it, ami-ids holds only that build's."""
    from tests.helpers import TWO_SOURCES_TEMPLATE  # noqa: PLC0415

    (harness.workspace / "multi.pkr.hcl").write_text(TWO_SOURCES_TEMPLATE)
    ambiguous = harness.run({"channel": "dev", "template": "multi.pkr.hcl", "region": "us-east-1"})
    assert ambiguous.returncode == 1
    assert any("amazon-ebs.a, amazon-ebs.b" in e for e in ambiguous.errors)
    assert channel_fp(harness.emulator, "multi-ami", "dev") is None
    chosen = harness.run(
        {
            "channel": "dev",
            "template": "multi.pkr.hcl",
            "component": "amazon-ebs.b",
            "region": "us-east-1",
        }
    )
    assert chosen.returncode == 0, chosen.stdout
    assert chosen.packer_calls == []  # the version completed in the first run
    assert set(json.loads(chosen.outputs["ami-ids"])) == {"us-east-1", "eu-west-1"}
    version = project(harness.emulator)["buckets"]["multi-ami"]["versions"][
        chosen.outputs["version-fingerprint"]
    ]
    b_build = next(b for b in version["builds"] if b["component_type"] == "amazon-ebs.b")
    assert chosen.outputs["ami-id"] == next(
        a["external_identifier"] for a in b_build["artifacts"] if a["region"] == "us-east-1"
    )
    assert {a["component"] for a in json.loads(chosen.outputs["artifacts"])} == {
        "amazon-ebs.a",
        "amazon-ebs.b",
    }


def test_revoked_complete_version_is_refused(harness: Harness) -> None:
    first = harness.run({"template": "jenkins.pkr.hcl", "version-fingerprint": "to-revoke"})
    assert first.returncode == 0
    with harness.emulator.registry.lock:
        harness.emulator.registry.update_version(
            harness.emulator.env()["HCP_ORGANIZATION_ID"],
            harness.emulator.env()["HCP_PROJECT_ID"],
            BUCKET,
            "to-revoke",
            {"revoke_in": "0s", "revocation_message": "CVE"},
            "test",
        )
    again = harness.run(
        {"channel": "dev", "template": "jenkins.pkr.hcl", "version-fingerprint": "to-revoke"}
    )
    assert again.returncode == 1
    assert any("revoked" in e and "new fingerprint" in e for e in again.errors)
    assert again.packer_calls == []


def test_dry_run_makes_no_write(harness: Harness) -> None:
    run = harness.run({"channel": "dev", "template": "jenkins.pkr.hcl", "dry-run": "true"})
    assert run.returncode == 0, run.stdout
    assert run.packer_calls == []
    assert harness.emulator.writes() == []
    assert set(run.outputs) == {"version-fingerprint", "bucket", "channel", "build-skipped"}
    assert "would run Packer" in run.summary


def test_derived_fingerprint_is_stable_and_input_sensitive(harness: Harness) -> None:
    a = harness.run({"template": "jenkins.pkr.hcl", "dry-run": "true"})
    b = harness.run(
        {"template": "jenkins.pkr.hcl", "dry-run": "true"},
        {"GITHUB_RUN_ATTEMPT": "2", "GITHUB_RUN_ID": "99"},
    )
    c = harness.run(
        {"template": "jenkins.pkr.hcl", "dry-run": "true", "variables": "aws_region=eu-west-1"}
    )
    d = harness.run({"template": "jenkins.pkr.hcl", "dry-run": "true"}, {"GITHUB_SHA": "f" * 40})
    fps = [r.outputs["version-fingerprint"] for r in (a, b, c, d)]
    assert fps[0] == fps[1]
    assert len(set(fps)) == 3
    assert all(len(fp) <= 32 for fp in fps)


def test_variables_and_var_files_reach_packer(harness: Harness) -> None:
    (harness.workspace / "prod.pkrvars.hcl").write_text('aws_region = "eu-central-1"\n')
    run = harness.run(
        {
            "template": "jenkins.pkr.hcl",
            "channel": "dev",
            "variables": "aws_region=eu-west-1\n",
            "var-files": "prod.pkrvars.hcl",
        }
    )
    assert run.returncode == 0, run.stdout
    argv = run.packer_calls[1]["argv"]
    assert argv[argv.index("-var") + 1] == "aws_region=eu-west-1"
    assert argv[argv.index("-var-file") + 1] == str(harness.workspace / "prod.pkrvars.hcl")
    assert argv[-1] == str(harness.workspace / "jenkins.pkr.hcl")
    # -var wins over -var-file, as in Packer: the AMI's main region is eu-west-1.
    assert set(json.loads(run.outputs["ami-ids"])) == {"eu-west-1", "us-west-2"}


def test_packer_output_cannot_issue_workflow_commands(harness: Harness) -> None:
    """Packer's output is relayed between ::stop-commands:: and its closing token."""
    run = harness.run(
        {"template": "jenkins.pkr.hcl"}, {"PACKER_SIM_ECHO": "::set-output name=ami-id::ami-forged"}
    )
    assert run.returncode == 0
    lines = run.stdout.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("::stop-commands::")]
    assert len(starts) == 2  # init and build
    forged = lines.index("::set-output name=ami-id::ami-forged")
    token = lines[starts[1]].removeprefix("::stop-commands::")
    assert len(token) >= 32
    end = lines.index(f"::{token}::")
    assert starts[1] < forged < end
    assert run.outputs["ami-id"] != "ami-forged"


def test_template_directory_and_bucket_input(harness: Harness) -> None:
    """A directory template works; the bucket input overrides the template's bucket_name."""
    run = harness.run({"template": ".", "bucket": "override-bucket", "channel": "dev"})
    assert run.returncode == 0, run.stdout
    assert run.outputs["bucket"] == "override-bucket"
    assert (
        channel_fp(harness.emulator, "override-bucket", "dev") == run.outputs["version-fingerprint"]
    )


def test_build_does_not_overwrite_a_change_made_while_packer_ran(harness: Harness) -> None:
    """Someone rolls `dev` back while Packer runs (the build's RUNNING update is held by the
    emulator meanwhile): the build fails without writing, naming both fingerprints."""
    seed(harness.emulator, "fp-before", "dev")
    harness.emulator.add_fault(Fault(method="PATCH", path="/builds/", agent="packer", hold=True))

    def rollback_meanwhile() -> None:
        assert harness.emulator.holding.wait(60)
        seed(harness.emulator, "fp-rolled-back", "dev")
        harness.emulator.release.set()

    helper = threading.Thread(target=rollback_meanwhile)
    helper.start()
    run = harness.run({"template": "jenkins.pkr.hcl", "channel": "dev"})
    helper.join()
    assert run.returncode == 1, run.stdout
    assert len(run.errors) == 1
    assert "fp-before" in run.errors[0]
    assert "fp-rolled-back" in run.errors[0]
    assert channel_fp(harness.emulator, "jenkins-ha-ami", "dev") == "fp-rolled-back"
    writes = [w for w in harness.emulator.writes() if "/channels" in str(w["path"])]
    assert writes == []
    assert run.outputs == {}


def test_fingerprint_follows_pkr_var_and_other_cis_commits(harness: Harness) -> None:
    """PKR_VAR_* are Packer variables too; the commit may come from GitLab, Jenkins, Buildkite
    or CircleCI, and gives the same fingerprint as GITHUB_SHA (contract v2)."""

    def fp(env: dict[str, str], drop: tuple[str, ...] = ()) -> str:
        run = harness.run({"template": "jenkins.pkr.hcl", "dry-run": "true"}, env, drop=drop)
        assert run.returncode == 0, run.stdout + run.stderr
        return run.outputs["version-fingerprint"]

    base = fp({})
    east = fp({"PKR_VAR_aws_region": "us-east-1"})
    west = fp({"PKR_VAR_aws_region": "eu-west-1"})
    assert len({base, east, west}) == 3
    assert fp({"PKR_VAR_aws_region": "eu-west-1"}) == west  # stable
    sha = harness.env()["GITHUB_SHA"]
    for name in ("CI_COMMIT_SHA", "GIT_COMMIT", "BUILDKITE_COMMIT", "CIRCLE_SHA1"):
        assert fp({name: sha}, drop=("GITHUB_SHA",)) == base, name
    assert fp({"CI_COMMIT_SHA": "e" * 40}, drop=("GITHUB_SHA",)).startswith("e" * 12)


def test_component_ambiguity_in_any_region_fails(harness: Harness) -> None:
    """Two builds publish in eu-west-1 but only one in the chosen us-east-1: ami-ids would pick
    one of them silently, so the step fails naming both, before any channel write."""
    (harness.workspace / "split.pkr.hcl").write_text(
        """
hcp_packer_registry {
  bucket_name = "split-ami"
}
source "amazon-ebs" "a" {
  region = "us-east-1"
  ami_regions = ["eu-west-1"]
}
source "amazon-ebs" "b" {
  region = "eu-west-1"
}
build {
  sources = ["source.amazon-ebs.a", "source.amazon-ebs.b"]
}
"""
    )
    run = harness.run({"template": "split.pkr.hcl", "channel": "dev", "region": "us-east-1"})
    assert run.returncode == 1
    assert len(run.errors) == 1
    assert "eu-west-1" in run.errors[0]
    assert "amazon-ebs.a, amazon-ebs.b" in run.errors[0]
    assert channel_fp(harness.emulator, "split-ami", "dev") is None
    chosen = harness.run(
        {"template": "split.pkr.hcl", "channel": "dev", "component": "amazon-ebs.a"}
    )
    assert chosen.returncode == 0, chosen.stdout
    assert set(json.loads(chosen.outputs["ami-ids"])) == {"us-east-1", "eu-west-1"}
