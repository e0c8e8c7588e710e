"""Shared test helpers: run the real entrypoint as a subprocess against a real emulator."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from hcp_action.emulator import Emulator

T = TypeVar("T")

ROOT = Path(__file__).resolve().parents[1]
ENTRYPOINT = ROOT / "entrypoint.py"
SHA = "0123456789abcdef0123456789abcdef01234567"

JENKINS_TEMPLATE = """
packer {
  required_plugins {
    amazon = { source = "github.com/hashicorp/amazon", version = ">= 1.3.0" }
  }
}

variable "aws_region" {
  type    = string
  default = "us-east-1"
}

hcp_packer_registry {
  bucket_name = "jenkins-ha-ami"
  description = "Jenkins HA controller image"
  bucket_labels = { "team" = "platform" }
  build_labels  = { "os" = "ubuntu-24.04" }
}

source "amazon-ebs" "jenkins" {
  region        = var.aws_region
  ami_regions   = ["us-west-2"]
  instance_type = "t3.small"
  ami_name      = "jenkins-ha-${formatdate("YYYYMMDDhhmm", timestamp())}"
  ssh_username  = "ubuntu"
}

build {
  sources = ["source.amazon-ebs.jenkins"]
}
"""

TWO_SOURCES_TEMPLATE = """
hcp_packer_registry {
  bucket_name = "multi-ami"
}
source "amazon-ebs" "a" {
  region = "us-east-1"
}
source "amazon-ebs" "b" {
  region = "us-east-1"
  ami_regions = ["eu-west-1"]
}
build {
  sources = ["source.amazon-ebs.a", "source.amazon-ebs.b"]
}
"""


@dataclass
class ActionRun:
    returncode: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str
    packer_calls: list[dict[str, Any]] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        return [line for line in self.stdout.splitlines() if line.startswith("::error")]

    def everything(self) -> str:
        """All the action printed or wrote, except the ::add-mask:: lines (never echoed)."""
        shown = [line for line in self.stdout.splitlines() if not line.startswith("::add-mask::")]
        return "\n".join([*shown, self.stderr, json.dumps(self.outputs), self.summary])


def parse_outputs(text: str) -> dict[str, str]:
    outputs: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        match = re.fullmatch(r"([A-Za-z0-9_-]+)<<(ghadelimiter_[0-9a-f]+)", lines[i])
        assert match, f"unexpected output line {lines[i]!r}"
        name, delimiter = match.groups()
        end = lines.index(delimiter, i + 1)
        outputs[name] = "\n".join(lines[i + 1 : end])
        i = end + 1
    return outputs


class Harness:
    """One workspace, one emulator, the simulator on PATH."""

    def __init__(self, tmp: Path, emulator: Emulator, sim_bin: Path | None) -> None:
        self.tmp = tmp
        self.emulator = emulator
        self.sim_bin = sim_bin
        self.workspace = tmp / "workspace"
        self.workspace.mkdir()
        self.home = tmp / "home"
        self.home.mkdir()
        self.sim_log = tmp / "packer-calls.jsonl"
        self.runs = 0
        (self.workspace / "jenkins.pkr.hcl").write_text(JENKINS_TEMPLATE)

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        path = os.environ.get("PATH", "")
        env = {
            "PATH": f"{self.sim_bin}{os.pathsep}{path}" if self.sim_bin else path,
            "HOME": str(self.home),
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_SHA": SHA,
            "PACKER_SIM_LOG": str(self.sim_log),
            "HCP_ACTION_RETRY_BASE": "0.01",
            "HCP_ACTION_RETRY_MAX_WAIT": "0.05",
            "HCP_ACTION_RETRY_DEADLINE": "5",
            "HCP_ACTION_HTTP_TIMEOUT": "5",
            "PYTHONPATH": str(ROOT),
            **self.emulator.env(),
        }
        env.update(extra or {})
        return env

    def secrets(self, env: dict[str, str]) -> list[str]:
        names = (
            "HCP_CLIENT_SECRET",
            "INPUT_HCP-CLIENT-SECRET",
            "INPUT_GITHUB-TOKEN",
            "ACTIONS_RUNTIME_TOKEN",
            "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
            "GITHUB_TOKEN",
        )
        values = [env[n] for n in names if env.get(n)]
        return [v for v in [*values, *self.emulator.tokens] if len(v) >= 8]

    def packer_calls(self) -> list[dict[str, Any]]:
        if not self.sim_log.exists():
            return []
        return [json.loads(line) for line in self.sim_log.read_text().splitlines()]

    def cli(
        self, args: list[str], env: dict[str, str], *, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        """The `hcp-packer-action` command once, from the workspace, with exactly `env`."""
        return subprocess.run(
            [sys.executable, "-m", "hcp_action.cli", *args],
            env=env,
            cwd=self.workspace,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def run_raw(
        self,
        inputs: dict[str, str],
        env: dict[str, str] | None = None,
        *,
        drop: tuple[str, ...] = (),
    ) -> subprocess.CompletedProcess[str]:
        """Run the entrypoint once (file commands in tmp unless `env` says otherwise); every
        run, whatever it tests, is scanned for every secret and token."""
        self.runs += 1
        out = self.tmp / f"output-{self.runs}"
        summary = self.tmp / f"summary-{self.runs}.md"
        out.touch()
        summary.touch()
        full = self.env({"GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary)})
        full.update(env or {})
        full.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
        for name in drop:
            full.pop(name, None)
        done = subprocess.run(
            [sys.executable, str(ENTRYPOINT)],
            env=full,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        shown = "\n".join(
            line for line in done.stdout.splitlines() if not line.startswith("::add-mask::")
        )
        files = [Path(full[k]) for k in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY") if k in full]
        written = "".join(p.read_text() for p in files if p.is_file())
        leaked = [s for s in self.secrets(full) if s in shown + done.stderr + written]
        assert not leaked, f"secret or token leaked: {[s[:6] + '…' for s in leaked]}"
        return done

    def run(
        self,
        inputs: dict[str, str],
        env: dict[str, str] | None = None,
        *,
        drop: tuple[str, ...] = (),
    ) -> ActionRun:
        before = len(self.packer_calls())
        done = self.run_raw(inputs, env, drop=drop)
        out = self.tmp / f"output-{self.runs}"
        summary = self.tmp / f"summary-{self.runs}.md"
        return ActionRun(
            returncode=done.returncode,
            stdout=done.stdout,
            stderr=done.stderr,
            outputs=parse_outputs(out.read_text()),
            summary=summary.read_text(),
            packer_calls=self.packer_calls()[before:],
        )


def seed(emulator: Emulator, fp: str, channel: str, bucket: str = "jenkins-ha-ami") -> None:
    """A complete version assigned to `channel`, made in-process with the emulator's rules."""
    emulator.seed(bucket, fp, channel)


BASE_AMI = "ami-0aaaaaaaaaaaaaaa1"


def seed_ami(
    emulator: Emulator,
    fp: str,
    channel: str,
    *,
    bucket: str = "base-ami",
    ami: str = BASE_AMI,
    component: str = "amazon-ebs.base",
) -> None:
    """A complete amazon-ebs version with one AMI in us-east-1 (platform aws, as Packer
    records it), e.g. the base image a child template reads through hcp-packer-artifact."""
    emulator.seed(bucket, fp, channel, component=component, artifacts=(("us-east-1", ami),))


def eventually(probe: Callable[[], T | None], *, within: float = 20.0) -> T:
    """Poll `probe` until it returns something (not None): for what HCP does asynchronously
    (descendants inheriting a revocation). Not a timing assertion: `within` is a generous
    bound, and the probe's answer is what the test checks."""
    deadline = time.monotonic() + within
    while True:
        found = probe()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing after {within} s")
        time.sleep(0.2)
