"""What the Actions runner really hands a container action (docs/github-actions.md R2-R5, H2):
RUNNER_TEMP that may not exist, paths in their host and job-container forms, runner tokens
that Packer must not inherit, root-owned files on self-hosted runners, unusable file commands.
Process-level; tests/runner_harness.py runs the same cases in the built image."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from tests.fake_github import FakeGitHub
from tests.helpers import Harness
from tests.test_oidc import WIP, oidc_env

REPO = "acme/jenkins-images"
RUNNER_WORKSPACE = "/home/runner/work/jenkins-images"


def spy_packer(harness: Harness, body: str) -> dict[str, str]:
    """A `packer` in front of the simulator that first runs `body` (sh), as real Packer's
    plugins and provisioners would see the environment."""
    spy = harness.tmp / "spy"
    spy.mkdir(exist_ok=True)
    script = spy / "packer"
    script.write_text(f'#!/bin/sh\n{body}\nexec "{harness.sim_bin}/packer" "$@"\n')
    script.chmod(0o755)
    return {"PATH": f"{spy}:{harness.env()['PATH']}"}


def test_oidc_without_a_mounted_runner_temp(harness: Harness) -> None:
    """Runners < 2.331 pass the host's RUNNER_TEMP unmounted: the credential file goes to a
    private 0700 directory instead, and is gone after the step (R2, R4)."""
    with FakeGitHub() as github:
        env = oidc_env(github, harness.tmp)
        env["RUNNER_TEMP"] = "/home/runner/work/_temp"  # a host path, absent here
        seen = harness.tmp / "seen"
        env.update(
            spy_packer(
                harness,
                f'if [ "$1" = build ]; then d=$(dirname "$HCP_CRED_FILE"); '
                f'echo "$HCP_CRED_FILE $(stat -c %a "$d") $(stat -c %a "$HCP_CRED_FILE")" '
                f'> "{seen}"; fi',
            )
        )
        run = harness.run(
            {"template": "jenkins.pkr.hcl", "hcp-workload-identity-provider": WIP},
            env,
            drop=("HCP_CLIENT_ID", "HCP_CLIENT_SECRET"),
        )
    assert run.returncode == 0, run.stdout + run.stderr
    path, dir_mode, file_mode = seen.read_text().split()
    assert not path.startswith("/home/runner")
    assert (dir_mode, file_mode) == ("700", "600")
    assert not Path(path).exists()
    assert not Path(path).parent.exists()


def test_path_forms_the_runner_leaves_untranslated(harness: Harness) -> None:
    """The runner rewrites only a value's first line, and never `/__w/…` (R5, R8)."""
    ws = harness.workspace
    for name in ("a", "b", "c"):
        (ws / f"{name}.pkrvars.hcl").write_text(f'# {name}\naws_region = "us-east-1"\n')
    cred = ws / "gha-creds-0123456789abcdef.json"
    client = harness.env()
    cred.write_text(
        json.dumps(
            {
                "scheme": "service_principal_creds",
                "oauth": {
                    "client_id": client["HCP_CLIENT_ID"],
                    "client_secret": client["HCP_CLIENT_SECRET"],
                },
            }
        )
    )
    var_files = "\n".join(
        [
            "/github/workspace/a.pkrvars.hcl",  # the first line, translated by the runner
            f"{RUNNER_WORKSPACE}/jenkins-images/b.pkrvars.hcl",  # ${{ github.workspace }}/…
            "/__w/jenkins-images/jenkins-images/c.pkrvars.hcl",  # from a job container
        ]
    )
    env = {
        "GITHUB_REPOSITORY": REPO,
        "RUNNER_WORKSPACE": RUNNER_WORKSPACE,
        "HCP_CRED_FILE": f"/__w/jenkins-images/jenkins-images/{cred.name}",
    }
    run = harness.run(
        {
            "template": f"{RUNNER_WORKSPACE}/jenkins-images/jenkins.pkr.hcl",
            "var-files": var_files,
        },
        env,
        drop=("HCP_CLIENT_ID", "HCP_CLIENT_SECRET"),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    argv = run.packer_calls[1]["argv"]
    files = [argv[i + 1] for i, a in enumerate(argv) if a == "-var-file"]
    assert files == [str(ws / f"{n}.pkrvars.hcl") for n in ("a", "b", "c")]
    assert argv[-1] == str(ws / "jenkins.pkr.hcl")
    # The file was read (no other credentials were given); its identity reached Packer.
    assert run.packer_calls[1]["has_client_secret"]


@pytest.mark.parametrize(
    "value",
    [
        f"{RUNNER_WORKSPACE}/jenkins-images/../../../../etc/passwd",
        "/__w/jenkins-images/jenkins-images/../../../etc/passwd",
        "/github/workspace/../../etc/passwd",
    ],
)
def test_every_form_stays_inside_the_workspace(harness: Harness, value: str) -> None:
    run = harness.run(
        {"template": "jenkins.pkr.hcl", "var-files": f"x.pkrvars.hcl\n{value}"},
        {"GITHUB_REPOSITORY": REPO, "RUNNER_WORKSPACE": RUNNER_WORKSPACE},
    )
    assert run.returncode == 2
    assert len(run.errors) == 1
    assert "var-files" in run.errors[0]
    assert harness.emulator.registry_requests() == []


def test_packer_does_not_inherit_runner_tokens(harness: Harness) -> None:
    """Packer and every plugin it starts get the runner's environment minus INPUT_*,
    ACTIONS_* (job and OIDC request tokens), GITHUB_TOKEN and the file-command paths."""
    names = harness.tmp / "packer-env"
    env = {
        "ACTIONS_RUNTIME_TOKEN": "runtime-token-value-123",
        "ACTIONS_RUNTIME_URL": "https://pipelines.example/",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "request-token-value-456",
        "ACTIONS_ID_TOKEN_REQUEST_URL": "https://token.example/?api-version=2.0",
        "GITHUB_TOKEN": "ghs_user_exported_token_789",
        "GITHUB_ENV": str(harness.tmp / "env"),
        "GITHUB_PATH": str(harness.tmp / "path"),
        "GITHUB_STATE": str(harness.tmp / "state"),
        "GITHUB_REPOSITORY": REPO,
        "GITHUB_RUN_ID": "42",
        **spy_packer(harness, f'env | cut -d= -f1 | sort > "{names}"'),
    }
    run = harness.run({"template": "jenkins.pkr.hcl", "github-token": "ghs_input_token"}, env)
    assert run.returncode == 0, run.stdout + run.stderr
    seen = set(names.read_text().split())
    leaked = {
        n
        for n in seen
        if n.startswith(("INPUT_", "ACTIONS_"))
        or n
        in {
            "GITHUB_TOKEN",
            "GITHUB_OUTPUT",
            "GITHUB_ENV",
            "GITHUB_PATH",
            "GITHUB_STATE",
            "GITHUB_STEP_SUMMARY",
        }
    }
    assert leaked == set()
    # CI metadata Packer records stays; plugins may use the token given for downloads.
    assert {"GITHUB_SHA", "GITHUB_REPOSITORY", "GITHUB_RUN_ID", "PACKER_GITHUB_API_TOKEN"} <= seen


@pytest.mark.skipif(os.geteuid() != 0, reason="SKIPPED: hand-back needs root, as in the runner")
def test_files_are_handed_back_to_the_workspace_owner(harness: Harness) -> None:
    """Self-hosted runners run as a user; the container as root. Files the step created in the
    workspace and in HOME (Packer's plugins) end up owned by the workspace's owner."""
    uid, gid = 1001, 1002
    for root in (harness.workspace, harness.home):
        for path in (root, *root.rglob("*")):
            os.chown(path, uid, gid)
    env = spy_packer(harness, "mkdir -p packer_cache && echo x > packer_cache/iso.part")
    run = harness.run({"template": "jenkins.pkr.hcl"}, env)
    assert run.returncode == 0, run.stdout + run.stderr
    plugins = list((harness.home / ".config/packer/plugins").rglob("*"))
    assert plugins, "packer init installed no plugin under HOME"
    created = [*plugins, *harness.workspace.rglob("*")]
    assert harness.workspace / "packer_cache" / "iso.part" in created
    wrong = [p for p in created if (p.lstat().st_uid, p.lstat().st_gid) != (uid, gid)]
    assert wrong == []


def test_unwritable_outputs_file_is_an_error_not_a_traceback(harness: Harness) -> None:
    (harness.tmp / "outdir").mkdir()
    harness.emulator.seed("jenkins-ha-ami", "fp-out", "dev")
    full = {"GITHUB_OUTPUT": str(harness.tmp / "outdir")}
    done = harness.run_raw(
        {"command": "lookup", "bucket": "jenkins-ha-ami", "channel": "dev"}, full
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    errors = [line for line in done.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1
    assert "GITHUB_OUTPUT" in errors[0]


def test_github_actions_without_outputs_file_prints_no_outputs(harness: Harness) -> None:
    harness.emulator.seed("jenkins-ha-ami", "fp-no-output", "dev")
    done = harness.run_raw(
        {"command": "lookup", "bucket": "jenkins-ha-ami", "channel": "dev"},
        {},
        drop=("GITHUB_OUTPUT",),
    )
    assert done.returncode == 2
    assert "fp-no-output" not in done.stdout
    assert "GITHUB_OUTPUT" in done.stdout
    assert harness.emulator.registry_requests() == []


def test_an_unexpected_error_is_one_annotation_not_a_traceback(harness: Harness) -> None:
    """The last resort (contract v2): any bug becomes one ::error with "please report", a
    summary and exit 1; the traceback only with RUNNER_DEBUG=1; a JSON error under --json."""
    crash = {"HCP_ACTION_TEST_CRASH": "1"}
    run = harness.run({"template": "jenkins.pkr.hcl"}, crash)
    assert run.returncode == 1
    assert len(run.errors) == 1
    assert "please report" in run.errors[0]
    assert "RuntimeError" in run.errors[0]
    assert "Traceback" not in run.stdout + run.stderr
    assert "unexpected error" in run.summary
    debug = harness.run({"template": "jenkins.pkr.hcl"}, {**crash, "RUNNER_DEBUG": "1"})
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr
    full = harness.env(crash)
    full.pop("GITHUB_ACTIONS")
    cli = harness.cli(
        ["lookup", "--bucket", "jenkins-ha-ami", "--channel", "dev", "--json"], full, timeout=60
    )
    assert cli.returncode == 1
    error = json.loads(cli.stdout)["error"]
    assert "please report" in error["fix"]
    assert "Traceback" not in cli.stderr
