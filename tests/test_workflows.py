"""Shipped workflows and the example lint clean; the example template builds end to end."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import ROOT, Harness

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
EXAMPLE = ROOT / "examples" / "jenkins-ha"
EXAMPLE_WORKFLOWS = sorted((EXAMPLE / ".github" / "workflows").glob("*.yml"))


def tool(name: str) -> str:
    found = shutil.which(name) or str(Path(sys.executable).parent / name)
    assert Path(found).exists(), f"{name} is not installed: pip install -e '.[dev]'"
    return found


def test_actionlint_finds_nothing() -> None:
    done = subprocess.run(
        [tool("actionlint"), *map(str, WORKFLOWS + EXAMPLE_WORKFLOWS)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_finds_nothing() -> None:
    done = subprocess.run(
        [
            tool("zizmor"),
            "--offline",
            "--persona",
            "pedantic",
            "--config",
            str(ROOT / ".github" / "zizmor.yml"),
            "--format",
            "json",
            str(ROOT / ".github" / "workflows"),
            str(EXAMPLE / ".github" / "workflows"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    findings = json.loads(done.stdout or "[]")
    assert findings == [], json.dumps(findings, indent=1)[:3000]
    assert done.returncode == 0, done.stderr


def test_hadolint_finds_nothing() -> None:
    done = subprocess.run(
        [tool("hadolint"), str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_workflow_hygiene() -> None:
    """Minimal permissions, timeouts, SHA pins for third parties, no inputs inside run:."""
    for path in WORKFLOWS + EXAMPLE_WORKFLOWS:
        doc = yaml.safe_load(path.read_text())
        assert doc["permissions"] == {}, path.name
        for name, job in doc["jobs"].items():
            assert "permissions" in job, (path.name, name)
            if "uses" not in job:
                assert "timeout-minutes" in job, (path.name, name)
            for step in job.get("steps", []):
                uses = step.get("uses", "")
                if uses and not uses.startswith(("OWNER/hcp-packer-action", "./")):
                    ref = uses.split("@", 1)[1]
                    assert len(ref) == 40, (path.name, uses)
                assert "${{" not in step.get("run", ""), (path.name, name)


def test_promote_job_runs_in_the_target_environment() -> None:
    doc = yaml.safe_load((ROOT / ".github" / "workflows" / "promote.yml").read_text())
    triggers = doc[True]  # YAML 1.1 reads the key `on` as a boolean
    assert {"workflow_dispatch", "workflow_call"} <= set(triggers)
    assert set(triggers["workflow_dispatch"]["inputs"]) == {
        "bucket",
        "from-channel",
        "to-channel",
        "version-fingerprint",
        "dry-run",
    }
    assert doc["jobs"]["promote"]["environment"] == "${{ inputs.to-channel }}"


def test_example_template_builds_with_the_simulator(harness: Harness) -> None:
    shutil.copy(EXAMPLE / "packer" / "jenkins-ha.pkr.hcl", harness.workspace / "ex.pkr.hcl")
    run = harness.run({"template": "ex.pkr.hcl", "channel": "dev"}, {"AWS_REGION": "us-east-1"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.outputs["bucket"] == "jenkins-ha-ami"
    assert set(json.loads(run.outputs["ami-ids"])) == {"us-east-1", "us-west-2"}
    assert json.loads(run.outputs["artifacts"])[0]["component"] == "amazon-ebs.jenkins"


def test_example_terraform_uses_the_current_data_source() -> None:
    text = (EXAMPLE / "terraform" / "main.tf").read_text()
    assert 'data "hcp_packer_artifact"' in text
    assert 'data "hcp_packer_image"' not in text
    # The provider does not refuse revoked versions: the example pins the built fingerprint
    # and guards revoke_at itself (parsed, not grepped).
    import hcl2  # noqa: PLC0415

    with (EXAMPLE / "terraform" / "main.tf").open() as handle:
        document = hcl2.load(handle)
    artifact = next(
        d for d in document["data"] if '"hcp_packer_artifact"' in d or "hcp_packer_artifact" in d
    )
    body = next(iter(next(iter(artifact.values())).values()))
    assert "version_fingerprint" in body
    lifecycle = body["lifecycle"][0]
    condition = str(lifecycle["postcondition"][0]["condition"])
    assert "revoke_at" in condition
    template = (EXAMPLE / "packer" / "jenkins-ha.pkr.hcl").read_text().splitlines()
    assert not [line for line in template if line.strip().startswith("post-processor")]


def test_release_pins_the_image_by_digest(tmp_path: Path) -> None:
    action = tmp_path / "action.yml"
    shutil.copy(ROOT / "action.yml", action)
    image = "ghcr.io/owner/hcp-packer-action@sha256:" + "a" * 64
    script = str(ROOT / "scripts" / "pin-action-image.py")
    done = subprocess.run([sys.executable, script, str(action), image], check=False)
    assert done.returncode == 0
    assert yaml.safe_load(action.read_text())["runs"]["image"] == f"docker://{image}"
    refused = subprocess.run(
        [sys.executable, script, str(action), "ghcr.io/x:latest"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode != 0
    assert "not an image pinned by digest" in refused.stderr


def test_workflows_and_dependabot_match_github_schemas() -> None:
    exe = tool("check-jsonschema")
    for schema, files in (
        ("vendor.github-workflows", WORKFLOWS + EXAMPLE_WORKFLOWS),
        ("vendor.dependabot", [ROOT / ".github" / "dependabot.yml"]),
    ):
        done = subprocess.run(
            [exe, "--builtin-schema", schema, *map(str, files)],
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_release_tags_only_a_commit_that_pulls_the_multi_arch_image() -> None:
    """Every pinnable release ref resolves to an action.yml naming the image by digest: the
    version tag is created by the workflow on the release commit, after the pin and after an
    anonymous pull of both architectures worked (contract v2)."""
    release = yaml.safe_load((ROOT / ".github" / "workflows" / "release.yml").read_text())
    triggers = release[True] if True in release else release["on"]  # YAML 1.1 reads on: as True
    assert set(triggers) == {"workflow_dispatch"}  # no tag push: a pushed tag names main
    jobs = release["jobs"]
    build = "\n".join(s.get("run", "") for s in jobs["image"]["steps"])
    assert "--platform linux/amd64,linux/arm64" in build
    assert "--build-arg TARGETARCH" not in build  # buildx sets it per platform
    assert jobs["pull-check"]["permissions"] == {}
    assert "linux/arm64" in jobs["pull-check"]["steps"][-1]["run"]
    assert set(jobs["publish"]["needs"]) >= {"image", "pull-check"}
    publish = jobs["publish"]["steps"][-1]["run"]
    assert publish.index("pin-action-image.py") < publish.index('git tag "${VERSION}"')
    assert 'git tag -f "${VERSION%%.*}"' in publish
    check = "\n".join(s.get("run", "") for s in jobs["check"]["steps"])
    assert "scripts/set-owner.py --check" in check


def test_set_owner_replaces_every_placeholder(tmp_path: Path) -> None:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("SKIPPED: not a git checkout; set-owner works on tracked files")
    clone = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    for path in ROOT.joinpath("scripts").iterdir():  # the working tree's version of the script
        shutil.copy(path, clone / "scripts" / path.name)
    script = str(clone / "scripts" / "set-owner.py")
    before = subprocess.run(
        [sys.executable, script, "--check"], capture_output=True, text=True, check=False
    )
    assert before.returncode == 1
    assert ".github/workflows/promote.yml" in before.stderr
    done = subprocess.run([sys.executable, script, "Acme-Corp"], capture_output=True, check=False)
    assert done.returncode == 0
    after = subprocess.run([sys.executable, script, "--check"], capture_output=True, check=False)
    assert after.returncode == 0
    promote = (clone / ".github" / "workflows" / "promote.yml").read_text()
    assert "uses: Acme-Corp/hcp-packer-action@v1" in promote
    assert (
        "ghcr.io/acme-corp/hcp-packer-action:v1"
        in (clone / "examples/ci/gitlab-ci.yml").read_text()
    )
    refused = subprocess.run([sys.executable, script, "OWNER"], capture_output=True, check=False)
    assert refused.returncode == 2
