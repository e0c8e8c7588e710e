"""`python -m hcp_action.demo`: the main job on the embedded default, with no HCP account.

Starts the emulator and runs the action's entrypoint as GitHub would, printing what each step
wrote. With the Packer simulator (no real Packer installed) it plays a two-level image chain:
`base-ami` built to production; `jenkins-ha-ami` built from base-ami's production channel (through
Packer's hcp-packer-version/-artifact data sources) to dev, then looked up; a new base built and
promoted to production; `status` of base-ami then shows jenkins-ha-ami out of date and hands the
rebuild matrix over; `find` tells which version the Jenkins AMI is. With real Packer (which would
need AWS for those amazon-ebs builds) it builds a null-builder template to dev and looks it up.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from hcp_action.emulator import Emulator
from hcp_action.packer.simulator import install_shim

TEMPLATE = """\
packer {
  required_version = ">= 1.14.2"
}

hcp_packer_registry {
  bucket_name = "jenkins-ha-ami"
  description = "Jenkins HA controller image (demo, null builder)"
  bucket_labels = { "team" = "platform" }
  build_labels  = { "os" = "ubuntu-24.04" }
}

source "null" "jenkins" {
  communicator = "none"
}

build {
  sources = ["source.null.jenkins"]
}
"""

BASE_TEMPLATE = """\
packer {
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.3.0"
    }
  }
}

variable "patch_level" {
  type    = string
  default = "1"
}

hcp_packer_registry {
  bucket_name = "base-ami"
  description = "Hardened Ubuntu 24.04 base image (demo)"
}

source "amazon-ebs" "base" {
  region        = "us-east-1"
  source_ami    = "ami-0fedcba9876543210"
  instance_type = "t3.small"
  ssh_username  = "ubuntu"
  ami_name      = "base-${var.patch_level}-{{timestamp}}"
}

build {
  sources = ["source.amazon-ebs.base"]
}
"""

# The child reads the base's production channel; because its source AMI *is* the artifact the
# hcp-packer-artifact data source returned, Packer names the parent version in the registry.
CHILD_TEMPLATE = """\
packer {
  required_plugins {
    amazon = {
      source  = "github.com/hashicorp/amazon"
      version = ">= 1.3.0"
    }
  }
}

hcp_packer_registry {
  bucket_name = "jenkins-ha-ami"
  description = "Jenkins HA controller image, built on base-ami's production image (demo)"
}

data "hcp-packer-version" "base" {
  bucket_name  = "base-ami"
  channel_name = "production"
}

data "hcp-packer-artifact" "base" {
  bucket_name         = "base-ami"
  version_fingerprint = data.hcp-packer-version.base.fingerprint
  platform            = "aws"
  region              = "us-east-1"
}

source "amazon-ebs" "jenkins" {
  region        = "us-east-1"
  ami_regions   = ["us-west-2"]
  source_ami    = data.hcp-packer-artifact.base.external_identifier
  instance_type = "t3.medium"
  ssh_username  = "ubuntu"
  ami_name      = "jenkins-ha-{{timestamp}}"
}

build {
  sources = ["source.amazon-ebs.jenkins"]
}
"""

ROOT = Path(__file__).resolve().parents[1]


def _real_packer() -> str | None:
    found = shutil.which("packer")
    if found is None:
        return None
    head = Path(found).read_bytes()[:200]
    return None if b"hcp-packer-action's Packer simulator" in head else found


def _commit() -> str:
    done = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else "0" * 40


def _outputs(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    lines = text.splitlines()
    while lines:
        name, _, delimiter = lines.pop(0).partition("<<")
        end = lines.index(delimiter)
        values[name] = "\n".join(lines[:end])
        del lines[: end + 1]
    return values


def _step(
    name: str,
    inputs: dict[str, str],
    base: dict[str, str],
    tmp: Path,
    emulator: Emulator,
    *,
    summary_shown: bool = True,
) -> tuple[int, dict[str, str]]:
    out, summary = tmp / f"{name}.out", tmp / f"{name}.md"
    out.touch()
    summary.touch()
    env = {**base, "GITHUB_OUTPUT": str(out), "GITHUB_STEP_SUMMARY": str(summary)}
    env.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
    before = len(emulator.registry_requests())
    print(
        f"\n===== step: {name} ({', '.join(f'{k}={v}' for k, v in inputs.items())}) =====",
        flush=True,
    )
    started = time.monotonic()
    code = subprocess.run([sys.executable, "-m", "hcp_action"], env=env, check=False).returncode
    elapsed = time.monotonic() - started
    requests = emulator.registry_requests()[before:]
    own = sum(1 for r in requests if r.get("agent", "").startswith("hcp-packer-action"))
    print(
        f"\n----- {name}: exit {code}, {elapsed:.2f} s; registry requests: {own} by the "
        f"action, {len(requests) - own} by Packer -----"
    )
    print("outputs ($GITHUB_OUTPUT):")
    written = _outputs(out.read_text())
    for key, value in written.items():
        print(f"  {key} = {value}")
    if summary_shown:
        print("\njob summary ($GITHUB_STEP_SUMMARY):")
        print(summary.read_text().rstrip())
    return code, written


def _null_builder(base: dict[str, str], tmp: Path, workspace: Path, emulator: Emulator) -> int:
    """Real Packer: a null-builder build to dev, then lookup (no cloud account needed)."""
    (workspace / "jenkins.pkr.hcl").write_text(TEMPLATE)
    code, _ = _step(
        "build",
        {"command": "build", "template": "jenkins.pkr.hcl", "channel": "dev"},
        base,
        tmp,
        emulator,
    )
    if code == 0:
        code, _ = _step(
            "lookup",
            {"command": "lookup", "bucket": "jenkins-ha-ami", "channel": "dev"},
            base,
            tmp,
            emulator,
        )
    print(
        "\n(The two-level image chain — status, find, the rebuild matrix — needs amazon-ebs "
        "builds, i.e. AWS, with real Packer; without packer on PATH the demo plays it with the "
        "simulator.)"
    )
    return code


def _chain(base: dict[str, str], tmp: Path, workspace: Path, emulator: Emulator) -> int:
    """The simulator: base → child chain, base promoted, status shows the child out of date."""
    for directory, text in (("base", BASE_TEMPLATE), ("jenkins", CHILD_TEMPLATE)):
        (workspace / directory).mkdir()
        (workspace / directory / "image.pkr.hcl").write_text(text)
    steps: list[tuple[str, dict[str, str], bool]] = [
        ("build base-ami v1 to production", {"template": "base", "channel": "production"}, False),
        (
            "build jenkins-ha-ami from base-ami production",
            {"template": "jenkins", "channel": "dev"},
            True,
        ),
        ("lookup", {"command": "lookup", "bucket": "jenkins-ha-ami", "channel": "dev"}, False),
        (
            "build base-ami v2 (patch_level=2) to dev",
            {"template": "base", "channel": "dev", "variables": "patch_level=2"},
            False,
        ),
        (
            "promote base-ami dev -> production",
            {
                "command": "promote",
                "bucket": "base-ami",
                "from-channel": "dev",
                "channel": "production",
            },
            False,
        ),
        ("status base-ami", {"command": "status", "bucket": "base-ami"}, True),
    ]
    ami = ""
    for name, inputs, shown in steps:
        code, written = _step(name, inputs, base, tmp, emulator, summary_shown=shown)
        if code != 0:
            return code
        ami = written.get("ami-id", ami) if name == "lookup" else ami
        stale = written.get("out-of-date-children")
    print(
        f"\nRebuild matrix: out-of-date-children = {stale}. The shipped workflow "
        "rebuild-children.yml runs the build workflow once per entry (strategy.matrix)."
    )
    code, _ = _step("find", {"command": "find", "artifact-id": ami}, base, tmp, emulator)
    return code


def main() -> int:
    started = time.monotonic()
    real = _real_packer()
    with (
        tempfile.TemporaryDirectory(prefix="hcp-demo-") as raw,
        Emulator(tls=True) as emulator,  # Packer (and the simulator) need an https auth URL
    ):
        tmp = Path(raw)
        workspace = tmp / "workspace"
        workspace.mkdir()
        (tmp / "home").mkdir()
        path = os.environ.get("PATH", "")
        if real is None:
            path = f"{install_shim(tmp / 'bin')}".rsplit("/", 1)[0] + os.pathsep + path
            print(
                "Packer: not installed here, so the demo uses the SIMULATED Packer "
                "(hcp_action.packer.simulator), which replays Packer's HCP calls."
            )
        else:
            print(f"Packer: real Packer at {real}; the emulator serves TLS for it.")
        print(f"Emulator: {emulator.url} (an HCP Packer registry on loopback, no account needed)")
        base = {
            "PATH": path,
            "HOME": str(tmp / "home"),
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_SHA": _commit(),
            "PYTHONPATH": str(ROOT),
            **emulator.env(),
        }
        play = _chain if real is None else _null_builder
        code = play(base, tmp, workspace, emulator)
    print(f"\nDemo finished in {time.monotonic() - started:.2f} s with exit {code}.")
    return code


if __name__ == "__main__":
    sys.exit(main())
