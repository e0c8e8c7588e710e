"""The command-line tool end to end against the emulator: every command, human and --json
output, the action's bad-input cases, and no workflow command outside GitHub Actions."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from hcp_action.cli import _parser
from hcp_action.outputs import VERSION_OUTPUTS
from tests.helpers import ROOT, Harness, seed, seed_ami
from tests.test_inputs import CASES

BUCKET = "jenkins-ha-ami"
WORKFLOW_COMMAND = re.compile(r"^\s*::[a-z-]+")  # the runner acts only on a line start


@dataclass
class CliRun:
    returncode: int
    stdout: str
    stderr: str


def cli(
    harness: Harness, *args: str, env: dict[str, str] | None = None, drop: tuple[str, ...] = ()
) -> CliRun:
    full = harness.env(env)
    full.pop("GITHUB_ACTIONS")  # a laptop, GitLab or Jenkins: not GitHub Actions
    output = harness.tmp / "github-output"
    full["GITHUB_OUTPUT"] = str(output)  # must stay untouched outside GitHub Actions
    for name in drop:
        full.pop(name, None)
    done = harness.cli(list(args), full)
    run = CliRun(done.returncode, done.stdout, done.stderr)
    for text in (run.stdout, run.stderr):
        for line in text.splitlines():
            assert not WORKFLOW_COMMAND.search(line), line
        for secret in harness.secrets(full):
            assert secret not in text
    assert not output.exists()
    return run


def test_build_promote_rollback_lookup_revoke_human(harness: Harness) -> None:
    built = cli(harness, "build", "--template", "jenkins.pkr.hcl", "--channel", "dev")
    assert built.returncode == 0, built.stderr
    assert "channel      dev: (none) → v1" in built.stdout
    assert "us-west-2" in built.stdout
    assert "==> packer build" in built.stderr  # Packer's output goes to stderr
    second = cli(
        harness,
        "build",
        "--template",
        "jenkins.pkr.hcl",
        "--channel",
        "dev",
        "--version-fingerprint",
        "second-1",
    )
    assert "dev: v1" in second.stdout
    assert "→ v2 second-1" in second.stdout
    promoted = cli(
        harness, "promote", "--bucket", BUCKET, "--from-channel", "dev", "--channel", "production"
    )
    assert promoted.returncode == 0, promoted.stderr
    assert "production: (none) → v2 second-1 (created)" in promoted.stdout
    rolled = cli(harness, "rollback", "--bucket", BUCKET, "--channel", "dev")
    assert rolled.returncode == 0, rolled.stderr
    assert "dev: v2 second-1 → v1" in rolled.stdout
    looked = cli(
        harness, "lookup", "--bucket", BUCKET, "--channel", "production", "--region", "us-west-2"
    )
    starred = [line for line in looked.stdout.splitlines() if line.endswith(" *")]
    assert len(starred) == 1
    assert starred[0].strip().startswith("us-west-2")
    assert "(* = ami-id, region us-west-2)" in looked.stdout
    revoked = cli(
        harness,
        "revoke",
        "--bucket",
        BUCKET,
        "--version-fingerprint",
        "second-1",
        "--reason",
        "CVE-1",
        "--force",
    )
    assert revoked.returncode == 0, revoked.stderr
    assert "production: v2 second-1 → (none)" in revoked.stdout


def test_json_output_is_the_action_outputs(harness: Harness) -> None:
    built = cli(harness, "build", "--template", "jenkins.pkr.hcl", "--channel", "dev", "--json")
    assert built.returncode == 0, built.stderr
    values = json.loads(built.stdout)
    assert set(values) == set(VERSION_OUTPUTS)
    assert values["ami-id"] == values["ami-ids"]["us-east-1"]
    assert values["artifacts"][0]["component"] == "amazon-ebs.jenkins"
    seed(harness.emulator, "older", "staging")
    for command, extra in (
        ("promote", ["--from-channel", "dev", "--channel", "staging"]),
        ("lookup", ["--channel", "staging"]),
        ("rollback", ["--channel", "staging", "--dry-run"]),
    ):
        run = cli(harness, command, "--bucket", BUCKET, *extra, "--json")
        assert run.returncode == 0, run.stderr
        assert json.loads(run.stdout)["bucket"] == BUCKET  # one JSON object on stdout
    revoked = cli(
        harness,
        "revoke",
        "--bucket",
        BUCKET,
        "--version-fingerprint",
        "older",
        "--reason",
        "test",
        "--json",
    )
    assert revoked.returncode == 0, revoked.stderr
    assert json.loads(revoked.stdout)["version-fingerprint"] == "older"
    failed = cli(harness, "lookup", "--bucket", BUCKET, "--channel", "nope", "--json")
    assert failed.returncode == 1
    error = json.loads(failed.stdout)["error"]
    assert error["exit_code"] == 1
    assert "nope" in error["message"]


def _args_for(inputs: dict[str, str]) -> list[str] | None:
    """The CLI spelling of an action input set; None when it has no CLI form."""
    command = inputs.get("command", "build")
    if command not in {"build", "promote", "rollback", "revoke", "lookup"}:
        return None
    args = [command]
    for key, value in inputs.items():
        if key == "command" or "_" in key:
            return None  # underscore spellings and conflicts are an action-only concern
        if key in {"dry-run", "force", "create-channel", "github-deployment"}:
            return None  # flags: a bad boolean cannot be written on the command line
        if key in {"hcp-client-id", "hcp-client-secret", "hcp-workload-identity-provider"}:
            return None  # credentials come from the environment
        if key in {"variables", "var-files"}:
            option = "--var" if key == "variables" else "--var-file"
            for line in value.splitlines():
                args += [option, line]
            continue
        args += [f"--{key}", value]
    return args


CLI_CASES = [
    (name, _args_for(i), e, d, n) for name, i, e, d, n, _ in CASES if _args_for(i) is not None
]


@pytest.mark.parametrize(
    ("args", "env", "drop", "names"),
    [pytest.param(a, e, d, n, id=name) for name, a, e, d, n in CLI_CASES],
)
def test_bad_input_like_the_action(
    harness: Harness, args: list[str], env: dict[str, str], drop: tuple[str, ...], names: str
) -> None:
    run = cli(harness, *args, env=env, drop=drop)
    assert run.returncode == 2, run.stdout + run.stderr
    assert f"error: Invalid input: input {names}" in run.stderr
    assert harness.emulator.registry_requests() == []


def test_enough_bad_input_cases_reach_the_cli() -> None:
    assert len(CLI_CASES) >= 25


def test_unknown_command_and_help() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "hcp_action.cli", "deploy"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "invalid choice" in done.stderr
    for command in ("build", "promote", "rollback", "revoke", "lookup"):
        text = subprocess.run(
            [sys.executable, "-m", "hcp_action.cli", command, "--help"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        assert "examples:" in text
        assert f"hcp-packer-action {command}" in text


def test_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "hcp-packer-action"
    if not script.exists():
        pytest.skip(f"SKIPPED: {script} not installed (run pip install -e .)")
    done = subprocess.run([str(script), "--help"], capture_output=True, text=True, check=False)
    assert done.returncode == 0
    assert "promote" in done.stdout


def _invocations(text: str) -> list[list[str]]:
    pattern = (
        r"hcp-packer-action ((?:build|promote|rollback|revoke|lookup|status|find)\s[^'\n>|`]*)"
    )
    return [shlex.split(m.group(1)) for m in re.finditer(pattern, text)]


def test_ci_examples_use_real_options() -> None:
    """The GitLab and Jenkins examples call the tool with options it has (the parser checks);
    the GitLab file also validates against GitLab's CI schema."""
    calls = []
    for name in ("gitlab-ci.yml", "Jenkinsfile"):
        calls += _invocations((ROOT / "examples" / "ci" / name).read_text())
    calls += _invocations((ROOT / "README.md").read_text())
    assert len(calls) >= 6
    parser = _parser()
    for argv in calls:
        parser.parse_args(argv)  # exits (fails the test) on an unknown option
    exe = Path(sys.executable).parent / "check-jsonschema"
    done = subprocess.run(
        [
            str(exe),
            "--builtin-schema",
            "vendor.gitlab-ci",
            str(ROOT / "examples" / "ci" / "gitlab-ci.yml"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_json_inside_a_github_run_step_is_one_document(harness: Harness) -> None:
    """`hcp-packer-action … --json > build.json` in a `run:` step: stdout holds the JSON alone;
    the masks (workflow commands) go to stderr, which the runner also reads."""
    seed(harness.emulator, "fp-run-step", "dev")
    full = harness.env({"GITHUB_OUTPUT": str(harness.tmp / "github-output")})
    assert full["GITHUB_ACTIONS"] == "true"
    done = harness.cli(["lookup", "--bucket", BUCKET, "--channel", "dev", "--json"], full)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)  # exactly one JSON document, nothing else
    assert document["version-fingerprint"] == "fp-run-step"
    for secret in harness.secrets(full):
        assert secret not in done.stdout
    masks = [line for line in done.stderr.splitlines() if line.startswith("::add-mask::")]
    assert f"::add-mask::{full['HCP_CLIENT_SECRET']}" in masks
    assert len(masks) >= 2  # the client secret and the token the moment it existed
    bad = harness.cli(["lookup", "--bucket", BUCKET, "--json"], full)
    assert bad.returncode == 2
    assert json.loads(bad.stdout)["error"]["exit_code"] == 2
    assert any(line.startswith("::error") for line in bad.stderr.splitlines())


def test_a_var_with_a_line_break_is_refused(harness: Harness) -> None:
    """`--var NAME=VALUE` is one variable: a line break would smuggle in a second."""
    run = cli(
        harness,
        "build",
        "--template",
        "jenkins.pkr.hcl",
        "--var",
        "ami_name=x\naws_region=attacker-1",
    )
    assert run.returncode == 2
    assert "line break" in run.stderr
    assert "attacker-1" not in run.stderr
    assert harness.emulator.registry_requests() == []


def test_status_and_find_human_json_and_several_buckets(harness: Harness) -> None:
    seed_ami(harness.emulator, "base-1", "production")
    seed(harness.emulator, "fp-1", "production")
    human = cli(harness, "status", "--bucket", BUCKET, "--bucket", "base-ami")
    assert human.returncode == 0, human.stderr
    tables = human.stdout.split("\n\n" + "status: bucket ")
    assert len(tables) == 2  # one table per bucket, a blank line between
    assert human.stdout.startswith(f"status: bucket {BUCKET} (1 version)")
    assert re.search(r"^  production\s+v1\s+fp-1\s", human.stdout, flags=re.MULTILINE)
    assert "out-of-date children: none" in human.stdout
    lines = cli(harness, "status", "--bucket", BUCKET, "--bucket", "base-ami", "--json")
    docs = [json.loads(line) for line in lines.stdout.splitlines()]  # JSON Lines
    assert [d["bucket"] for d in docs] == [BUCKET, "base-ami"]
    assert docs[1]["channels"] == {"latest": "base-1", "production": "base-1"}
    assert docs[1]["out-of-date-children"] == []
    assert docs[1]["status"]["channels"][0]["name"] == "latest"
    # One bucket unknown: the other is still shown, and the exit is 1.
    mixed = cli(harness, "status", "--bucket", "nope-bucket", "--bucket", BUCKET)
    assert mixed.returncode == 1
    assert f"status: bucket {BUCKET}" in mixed.stdout
    assert "bucket 'nope-bucket' does not exist" in mixed.stderr

    found = cli(harness, "find", "ami-0aaaaaaaaaaaaaaa1")
    assert found.returncode == 0, found.stderr
    assert "find: ami-0aaaaaaaaaaaaaaa1 (aws) is in bucket base-ami" in found.stdout
    assert re.search(r"channels\s+latest, production", found.stdout)
    as_json = json.loads(
        cli(harness, "find", "--artifact-id", "ami-0aaaaaaaaaaaaaaa1", "--json").stdout
    )
    assert as_json["channels"] == ["latest", "production"]
    assert as_json["revoked"] == "false"
    missing = cli(harness, "find", "ami-0bbbbbbbbbbbbbbb1", "--region", "eu-west-1")
    assert missing.returncode == 1
    assert "in region eu-west-1" in missing.stderr
    bad = cli(harness, "find", "i-0123")
    assert bad.returncode == 2
    assert "input 'artifact-id'" in bad.stderr
