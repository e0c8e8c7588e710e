"""`python -m hcp_action.demo`: the main job on the embedded default, with no HCP account.

Starts the emulator, writes a null-builder template for bucket jenkins-ha-ami, runs the action's
entrypoint as GitHub would (`build` to channel dev, then `lookup`), and prints what it wrote.
Uses real Packer if it is installed, otherwise the simulator, and says which.
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
    name: str, inputs: dict[str, str], base: dict[str, str], tmp: Path, emulator: Emulator
) -> int:
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
    for key, value in _outputs(out.read_text()).items():
        print(f"  {key} = {value}")
    print("\njob summary ($GITHUB_STEP_SUMMARY):")
    print(summary.read_text().rstrip())
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
        (workspace / "jenkins.pkr.hcl").write_text(TEMPLATE)
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
        code = _step(
            "build",
            {"command": "build", "template": "jenkins.pkr.hcl", "channel": "dev"},
            base,
            tmp,
            emulator,
        )
        if code == 0:
            code = _step(
                "lookup",
                {"command": "lookup", "bucket": "jenkins-ha-ami", "channel": "dev"},
                base,
                tmp,
                emulator,
            )
    print(f"\nDemo finished in {time.monotonic() - started:.2f} s with exit {code}.")
    return code


if __name__ == "__main__":
    sys.exit(main())
