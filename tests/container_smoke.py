"""Run the built image as GitHub would (INPUT_* env, mounted workspace and file commands)
against the emulator on loopback; check its outputs. Used by .ci/container-smoke."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hcp_action.emulator import Emulator
from tests.helpers import JENKINS_TEMPLATE, SHA, parse_outputs


def run_container(
    image: str, env: dict[str, str], workspace: Path, files: Path
) -> subprocess.CompletedProcess[str]:
    entry = ["/usr/bin/tini", "--", "/opt/venv/bin/python", "/action/entrypoint.py"]
    return run_command(image, env, workspace, files, entry)


def run_command(
    image: str, env: dict[str, str], workspace: Path, files: Path, command: list[str]
) -> subprocess.CompletedProcess[str]:
    ctr = subprocess.run(
        ["buildah", "from", image], capture_output=True, text=True, check=True
    ).stdout.strip()
    try:
        args = [
            "buildah",
            "run",
            "--isolation",
            "chroot",
            "-v",
            f"{workspace}:/github/workspace",
            "-v",
            f"{files}:/github/file_commands",
            "--workingdir",
            "/github/workspace",
        ]
        for key, value in env.items():
            args += ["-e", f"{key}={value}"]
        return subprocess.run(
            [*args, ctr, "--", *command], capture_output=True, text=True, timeout=300, check=False
        )
    finally:
        subprocess.run(["buildah", "rm", ctr], capture_output=True, check=False)


def main(image: str) -> int:
    with tempfile.TemporaryDirectory() as raw, Emulator() as emulator:
        tmp = Path(raw)
        workspace, files = tmp / "workspace", tmp / "files"
        workspace.mkdir()
        files.mkdir()
        (workspace / "jenkins.pkr.hcl").write_text(JENKINS_TEMPLATE)
        (files / "output").touch()
        (files / "summary").touch()
        env = {
            **emulator.env(),
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": "/github/workspace",
            "GITHUB_SHA": SHA,
            "GITHUB_OUTPUT": "/github/file_commands/output",
            "GITHUB_STEP_SUMMARY": "/github/file_commands/summary",
            "HOME": "/github/home",
            "INPUT_COMMAND": "build",
            "INPUT_TEMPLATE": "jenkins.pkr.hcl",
            "INPUT_CHANNEL": "dev",
            "AWS_REGION": "us-west-2",
        }
        started = time.time()
        done = run_container(image, env, workspace, files)
        requests = emulator.registry_requests()
        print(done.stdout[-3000:])
        print(done.stderr[-2000:], file=sys.stderr)
        if done.returncode != 0:
            print(f"container smoke FAILED: exit {done.returncode}")
            return 1
        outputs = parse_outputs((files / "output").read_text())
        expected = {
            "bucket": "jenkins-ha-ami",
            "channel": "dev",
            "build-skipped": "false",
            "version-name": "v1",
        }
        wrong = {k: outputs.get(k) for k, v in expected.items() if outputs.get(k) != v}
        if wrong or not outputs.get("ami-id", "").startswith("ami-"):
            print(f"container smoke FAILED: unexpected outputs {wrong or outputs}")
            return 1
        first = min(r["time"] for r in requests)
        print(
            f"container smoke: start to first request {first - started:.2f} s; "
            f"{len(requests)} registry requests; ami-id {outputs['ami-id']}"
        )

        bad = run_container(image, {**env, "INPUT_CHANNEL": "latest"}, workspace, files)
        if bad.returncode != 2 or "::error title=Invalid input::" not in bad.stdout:
            print(f"container smoke FAILED: bad input gave exit {bad.returncode}")
            return 1
        cli = run_command(
            image,
            {k: v for k, v in env.items() if k != "GITHUB_ACTIONS"},
            workspace,
            files,
            [
                "hcp-packer-action",
                "lookup",
                "--bucket",
                "jenkins-ha-ami",
                "--channel",
                "dev",
                "--json",
            ],
        )
        if cli.returncode != 0 or json.loads(cli.stdout)["ami-id"] != outputs["ami-id"]:
            print(
                f"container smoke FAILED: the CLI lookup gave {cli.returncode}: "
                f"{cli.stdout}{cli.stderr[-2000:]}"
            )
            return 1
        print(
            "container smoke: PASSED (build to dev, outputs checked; bad input refused; "
            "CLI lookup agrees)"
        )
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
