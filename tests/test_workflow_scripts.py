"""The shipped workflows as a user runs them: their `run:` scripts executed with the inputs
GitHub would give them (a fake `trivy` stands in for the scanner), and the calls into the
reusable workflows checked the way GitHub checks them (declared inputs and secrets, required
inputs present, the permissions the called jobs need granted by the caller)."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import ROOT, Harness, seed_ami
from tests.test_build import channel_fp

WORKFLOWS = ROOT / ".github" / "workflows"
BUILD = yaml.safe_load((WORKFLOWS / "build-image.yml").read_text())


def step(job: str, name_part: str) -> dict[str, Any]:
    steps = BUILD["jobs"][job]["steps"]
    found: dict[str, Any] = next(s for s in steps if name_part in s.get("name", ""))
    return found


def bash(script: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    if shutil.which("bash") is None:
        pytest.skip("SKIPPED: no bash to run the workflow's script with")
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", script],  # GitHub's default shell for run:
        env={"PATH": f"{cwd}:/usr/bin:/bin", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("channel", "protected", "refused"),
    [
        ("dev", "production,prod", False),
        ("production", "production,prod", True),
        ("prod", "production, prod", True),
        ("gold", "production,prod,gold", True),
        ("staging", "production,prod", False),
    ],
)
def test_build_workflow_refuses_protected_channels(
    tmp_path: Path, channel: str, protected: str, refused: bool
) -> None:
    done = bash(
        step("build", "protected")["run"],
        {"CHANNEL": channel, "PROTECTED": protected},
        tmp_path,
    )
    assert (done.returncode != 0) is refused, done.stdout + done.stderr
    if refused:
        assert "promote.yml" in done.stdout


def _fake_trivy(tmp_path: Path, report: dict[str, Any], code: int) -> None:
    script = tmp_path / "trivy"
    script.write_text(
        "#!/bin/sh\n"
        'while [ $# -gt 0 ]; do case "$1" in --output) out="$2"; shift;; esac; shift; done\n'
        f"cat > \"$out\" <<'JSON'\n{json.dumps(report)}\nJSON\n"
        f"exit {code}\n"
    )
    script.chmod(0o755)


@pytest.mark.parametrize(
    ("report", "trivy_exit", "passes", "says"),
    [
        ({"Metadata": {"OS": {"Family": "ubuntu", "Name": "24.04"}}, "Results": []}, 0, True, ""),
        (
            {
                "Metadata": {"OS": {"Family": "ubuntu"}},
                "Results": [
                    {
                        "Vulnerabilities": [
                            {"VulnerabilityID": "CVE-1", "PkgName": "x", "Severity": "HIGH"}
                        ]
                    }
                ],
            },
            1,
            False,
            "CVE-1",
        ),
        ({"Metadata": {}, "Results": []}, 0, False, "no operating system"),
    ],
)
def test_scan_step_fails_on_findings_and_on_no_os(
    tmp_path: Path, report: dict[str, Any], trivy_exit: int, passes: bool, says: str
) -> None:
    if shutil.which("jq") is None:
        pytest.skip("SKIPPED: jq (present on GitHub's runners) is not installed here")
    _fake_trivy(tmp_path, report, trivy_exit)
    script = step("scan", "trivy vm")["run"]
    assert "--ignore-unfixed" in script
    done = bash(script, {"AMI_ID": "ami-0123"}, tmp_path)
    assert (done.returncode == 0) is passes, done.stdout + done.stderr
    assert says in done.stdout


def test_a_failed_scan_revokes_the_version_and_assigns_nothing() -> None:
    jobs = BUILD["jobs"]
    revoke = jobs["revoke-unscanned"]
    assert "needs.scan.result == 'failure'" in revoke["if"]
    action = revoke["steps"][0]["with"]
    assert action["command"] == "revoke"
    assert action["version-fingerprint"] == "${{ needs.build.outputs.version-fingerprint }}"
    assert "needs.scan.result == 'success'" in jobs["assign"]["if"]


def _callers() -> list[tuple[str, dict[str, Any]]]:
    """Every job that calls a shipped reusable workflow: the example caller and the README's."""
    found: list[tuple[str, dict[str, Any]]] = []
    example = ROOT / "examples/jenkins-ha/.github/workflows/jenkins-ha-image.yml"
    for name, job in yaml.safe_load(example.read_text())["jobs"].items():
        found.append((f"example:{name}", job))
    readme = (ROOT / "README.md").read_text()
    for block in re.findall(r"```yaml\n(.*?)```", readme, flags=re.DOTALL):
        if "hcp-packer-action/.github/workflows/" not in block:
            continue
        doc = yaml.safe_load(block)
        for name, job in (doc.get("jobs") or {}).items():
            found.append((f"README:{name}", job))
    return [(n, j) for n, j in found if "/.github/workflows/" in str(j.get("uses", ""))]


def test_callers_pass_what_the_reusable_workflows_declare() -> None:
    callers = _callers()
    called = {Path(str(j["uses"]).split("@")[0]).name for _, j in callers}
    assert {"build-image.yml", "promote.yml", "rollback.yml"} <= called, called
    for name, job in callers:
        target = yaml.safe_load((WORKFLOWS / Path(str(job["uses"]).split("@")[0]).name).read_text())
        call = target[True]["workflow_call"]
        inputs, secrets = call.get("inputs") or {}, call.get("secrets") or {}
        given = job.get("with") or {}
        assert set(given) <= set(inputs), (name, set(given) - set(inputs))
        required = {k for k, v in inputs.items() if v.get("required")}
        assert required <= set(given), (name, required - set(given))
        passed = job.get("secrets") or {}
        if passed != "inherit":
            assert set(passed) <= set(secrets), (name, set(passed) - set(secrets))
        # A called job can only have the permissions its caller grants.
        needed: dict[str, str] = {}
        for called_job in target["jobs"].values():
            for scope, level in (called_job.get("permissions") or {}).items():
                if level == "write" or needed.get(scope) != "write":
                    needed[scope] = level
        granted = job.get("permissions") or {}
        for scope, level in needed.items():
            assert granted.get(scope) in ({"write"} if level == "write" else {"read", "write"}), (
                name,
                scope,
                level,
            )


def test_workflows_call_the_action_by_the_placeholder_the_release_replaces() -> None:
    for path in WORKFLOWS.glob("*.yml"):
        for uses in re.findall(r"uses:\s*(\S+hcp-packer-action\S*)", path.read_text()):
            assert uses.startswith("OWNER/hcp-packer-action"), (path.name, uses)


def _render(value: str, context: dict[str, str]) -> str:
    """GitHub's `${{ a.b.c }}` for the plain references these workflows use (and `||`)."""

    def one(match: re.Match[str]) -> str:
        for alternative in match.group(1).split("||"):
            found = context.get(alternative.strip(), "")
            if found:
                return found
        return ""

    return re.sub(r"\$\{\{\s*(.*?)\s*\}\}", one, value)


def _action_inputs(job: str, context: dict[str, str]) -> dict[str, str]:
    steps = [s for s in BUILD["jobs"][job]["steps"] if "hcp-packer-action" in s.get("uses", "")]
    assert len(steps) == 1
    return {k: _render(str(v), context) for k, v in steps[0]["with"].items()}


# The credentials reach the action only as the workflow passes them (inputs, secrets).
DROP = ("HCP_CLIENT_ID", "HCP_CLIENT_SECRET", "HCP_ORGANIZATION_ID", "HCP_PROJECT_ID")


def _caller_context(harness: Harness, extra: dict[str, str]) -> dict[str, str]:
    """What a caller of the shipped workflows gives them, as `${{ }}` references see it."""
    env = harness.env()
    return {
        "inputs.channel": "dev",
        "inputs.aws-region": "us-east-1",
        "inputs.hcp-organization-id": env["HCP_ORGANIZATION_ID"],
        "inputs.hcp-project-id": env["HCP_PROJECT_ID"],
        "secrets.HCP_CLIENT_ID": env["HCP_CLIENT_ID"],
        "secrets.HCP_CLIENT_SECRET": env["HCP_CLIENT_SECRET"],
        **extra,
    }


def test_jenkins_ha_pipeline_end_to_end(harness: Harness) -> None:
    """build-image.yml's jobs, in order, as the runner would run them for the Jenkins HA
    example: build (no channel) → scan fails → revoke; build again → scan passes → dev; then
    what Terraform would read by the pinned fingerprint is the AMI that was built."""
    shutil.copy(
        ROOT / "examples/jenkins-ha/packer/jenkins-ha.pkr.hcl", harness.workspace / "ha.pkr.hcl"
    )
    context = _caller_context(harness, {"inputs.template": "ha.pkr.hcl", "github.run_id": "4242"})

    def job(name: str, extra: dict[str, str] | None = None) -> Any:
        inputs = _action_inputs(name, context)
        run = harness.run(inputs | (extra or {}), {"PKR_VAR_aws_region": "us-east-1"}, drop=DROP)
        assert run.returncode == 0, run.stdout + run.stderr
        return run

    first = job("build", {"version-fingerprint": "ha-scan-fails"})
    assert "channel" not in first.outputs or not first.outputs["channel"]
    context |= {f"needs.build.outputs.{k}": v for k, v in first.outputs.items()}
    job("revoke-unscanned")  # the scan failed
    latest = channel_fp(harness.emulator, "jenkins-ha-ami", "latest")
    assert latest != "ha-scan-fails"  # nobody reading `latest` gets the unscanned image
    assert channel_fp(harness.emulator, "jenkins-ha-ami", "dev") is None

    second = job("build", {"version-fingerprint": "ha-scan-passes"})
    context |= {f"needs.build.outputs.{k}": v for k, v in second.outputs.items()}
    job("assign")  # the scan passed
    assert channel_fp(harness.emulator, "jenkins-ha-ami", "dev") == "ha-scan-passes"
    # Terraform, pinned to the built fingerprint, reads the same AMI the build reported.
    pinned = harness.run(
        {
            "command": "lookup",
            "bucket": "jenkins-ha-ami",
            "version-fingerprint": second.outputs["version-fingerprint"],
            "region": "us-east-1",
        }
    )
    assert pinned.outputs["ami-id"] == second.outputs["ami-id"]


REBUILD = yaml.safe_load((WORKFLOWS / "rebuild-children.yml").read_text())


def _plan(tmp_path: Path, children: str, templates: str) -> tuple[int, str, str]:
    """rebuild-children.yml's plan step, run as the runner runs it (bash, jq)."""
    if shutil.which("jq") is None:
        pytest.skip("SKIPPED: jq (present on GitHub's runners) is not installed here")
    script = next(s for s in REBUILD["jobs"]["status"]["steps"] if s.get("id") == "plan")["run"]
    output = tmp_path / "github-output"
    output.write_text("")
    done = bash(
        script,
        {"CHILDREN": children, "TEMPLATES": templates, "GITHUB_OUTPUT": str(output)},
        tmp_path,
    )
    matrix = output.read_text().removeprefix("matrix=").strip()
    return done.returncode, matrix, done.stdout


def test_rebuild_plan_matches_children_with_templates(tmp_path: Path) -> None:
    code, matrix, log = _plan(
        tmp_path,
        '["jenkins-ha-ami","gitlab-runner-ami"]',
        '{"jenkins-ha-ami": "packer/jenkins-ha"}',
    )
    assert code == 0, log
    assert json.loads(matrix) == [{"bucket": "jenkins-ha-ami", "template": "packer/jenkins-ha"}]
    assert (
        "::warning title=Out of date, not rebuilt::no template given for: gitlab-runner-ami" in log
    )
    code, matrix, _ = _plan(tmp_path, "[]", '{"jenkins-ha-ami": "packer/jenkins-ha"}')
    assert (code, matrix) == (0, "[]")
    # The rebuild job is skipped for an empty matrix (fromJSON of [] would fail the run).
    assert "needs.status.outputs.matrix != '[]'" in REBUILD["jobs"]["rebuild"]["if"]
    for bad in ('["packer/jenkins-ha"]', '{"jenkins-ha-ami": ""}', "not json"):
        code, _, log = _plan(tmp_path, '["jenkins-ha-ami"]', bad)
        assert code == 1, bad
        assert "::error title=Invalid input templates::" in log


def test_rebuild_children_end_to_end(harness: Harness) -> None:
    """rebuild-children.yml's jobs in order, as the runner would run them: base promoted →
    status finds jenkins-ha-ami out of date → the plan's matrix → build-image.yml's build and
    assign jobs for that entry → status finds nothing out of date."""
    from tests.test_status_find import CHILD_TEMPLATE, _promote_base  # noqa: PLC0415

    seed_ami(harness.emulator, "base-1", "production")
    (harness.workspace / "packer" / "jenkins-ha").mkdir(parents=True)
    (harness.workspace / "packer" / "jenkins-ha" / "jenkins.pkr.hcl").write_text(CHILD_TEMPLATE)
    context = _caller_context(harness, {"inputs.base-bucket": "base-ami"})
    status_step = REBUILD["jobs"]["status"]["steps"][0]

    def status() -> dict[str, str]:
        inputs = {k: _render(str(v), context) for k, v in status_step["with"].items()}
        run = harness.run(inputs, drop=DROP)
        assert run.returncode == 0, run.stdout + run.stderr
        return run.outputs

    def build_image(inputs: dict[str, str]) -> Any:
        """build-image.yml's build then assign job, with what the caller passed it."""
        build_context = context | {f"inputs.{k}": v for k, v in inputs.items()}
        built = harness.run(
            _action_inputs("build", build_context), {"PKR_VAR_aws_region": "us-east-1"}, drop=DROP
        )
        assert built.returncode == 0, built.stdout + built.stderr
        build_context |= {f"needs.build.outputs.{k}": v for k, v in built.outputs.items()}
        assigned = harness.run(_action_inputs("assign", build_context), drop=DROP)
        assert assigned.returncode == 0, assigned.stdout
        return built

    # The child's first build, through the same workflow and inputs as the rebuild below.
    first = build_image({"template": "packer/jenkins-ha", "bucket": "jenkins-ha-ami"})
    assert json.loads(status()["out-of-date-children"]) == []
    _promote_base(harness, "base-2")
    stale = status()["out-of-date-children"]
    assert json.loads(stale) == ["jenkins-ha-ami"]
    code, matrix, log = _plan(
        harness.tmp, stale, json.dumps({"jenkins-ha-ami": "packer/jenkins-ha"})
    )
    assert code == 0, log
    for entry in json.loads(matrix):
        called = REBUILD["jobs"]["rebuild"]["with"]
        rendered = {
            k: _render(str(v), context | {f"matrix.{m}": n for m, n in entry.items()})
            for k, v in called.items()
        }
        assert (rendered["template"], rendered["bucket"]) == ("packer/jenkins-ha", "jenkins-ha-ami")
        built = build_image(rendered)
        # Same commit, same inputs: a new version only because the base moved.
        assert built.outputs["build-skipped"] == "false"
        assert built.outputs["version-fingerprint"] != first.outputs["version-fingerprint"]
    assert json.loads(status()["out-of-date-children"]) == []
    assert (
        channel_fp(harness.emulator, "jenkins-ha-ami", "dev")
        != first.outputs["version-fingerprint"]
    )
