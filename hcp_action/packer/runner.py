"""Runs `packer init` and `packer build` with the HCP environment injected, output relayed live.

Packer's own output is untrusted text: it is relayed inside ::stop-commands:: so a provisioner
printing `::add-mask::` or `::set-output` cannot act on the runner. Packer gets its own session
so that our SIGTERM reaches the process that cleans up.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import structlog

from hcp_action import interrupts
from hcp_action.errors import ActionError, Cancelled
from hcp_action.reporter import Reporter

log = structlog.get_logger(__name__)

# Variables that would change what Packer does behind our back, or that Packer (and every
# plugin and provisioner it runs) has no business holding: the runner's job token and OIDC
# request token, GITHUB_TOKEN, and the runner's file-command paths.
_DROP = frozenset(
    {
        "HCP_PACKER_REGISTRY",
        "GITHUB_TOKEN",
        "GITHUB_OUTPUT",
        "GITHUB_ENV",
        "GITHUB_PATH",
        "GITHUB_STATE",
        "GITHUB_STEP_SUMMARY",
    }
)
_DROP_PREFIXES = ("INPUT_", "ACTIONS_")


@dataclass(frozen=True, slots=True)
class PackerEnv:
    credentials: dict[str, str]  # HCP_CLIENT_ID/SECRET, or HCP_CRED_FILE
    organization_id: str
    project_id: str
    bucket: str
    fingerprint: str
    github_token: str | None


def packer_environment(base: Mapping[str, str], hcp: PackerEnv) -> dict[str, str]:
    env = {k: v for k, v in base.items() if not k.startswith(_DROP_PREFIXES) and k not in _DROP}
    for name in ("HCP_CLIENT_ID", "HCP_CLIENT_SECRET", "HCP_CRED_FILE"):
        env.pop(name, None)  # exactly one identity reaches Packer: ours
    env.update(hcp.credentials)
    env.update(
        {
            "HCP_ORGANIZATION_ID": hcp.organization_id,
            "HCP_PROJECT_ID": hcp.project_id,
            "HCP_PACKER_BUCKET_NAME": hcp.bucket,
            "HCP_PACKER_BUILD_FINGERPRINT": hcp.fingerprint,
            "CHECKPOINT_DISABLE": "1",
        }
    )
    if hcp.github_token:
        env["PACKER_GITHUB_API_TOKEN"] = hcp.github_token
    return env


def loggable(args: Sequence[str]) -> list[str]:
    """Packer's argv for the log: variable names only, values can be secrets."""
    shown: list[str] = []
    for i, arg in enumerate(args):
        is_value = i > 0 and args[i - 1] == "-var"
        shown.append(arg.partition("=")[0] + "=…" if is_value else arg)
    return shown


class PackerRunner:
    def __init__(self, *, workflow: Reporter, executable: str = "packer") -> None:
        self._workflow = workflow
        self._executable = executable
        self._process: subprocess.Popen[str] | None = None
        self.cancelled_by = ""

    def which(self) -> str:
        found = shutil.which(self._executable)
        if found is None:
            raise ActionError(
                f"'{self._executable}' was not found on PATH",
                fix="use the action's container image, or install Packer (hashicorp/setup-packer) "
                "before this step.",
            )
        return found

    def run(self, args: Sequence[str], *, env: Mapping[str, str], cwd: Path, title: str) -> int:
        executable = self.which()
        log.info("running packer", args=loggable(args), cwd=str(cwd))
        started = time.monotonic()
        with (
            self._workflow.group(title),
            self._workflow.untrusted(),
            interrupts.forwarding(self.cancel),
        ):
            process = subprocess.Popen(
                [executable, *args],
                cwd=cwd,
                env=dict(env),
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                errors="replace",
                bufsize=1,
                start_new_session=True,
            )
            self._process = process
            try:
                assert process.stdout is not None  # noqa: S101 - PIPE was asked for
                for line in process.stdout:
                    self._workflow.relay(line)
                code = process.wait()
            finally:
                self._process = None
        log.info(
            "packer exited",
            command=args[0],
            code=code,
            seconds=round(time.monotonic() - started, 3),
        )
        if self.cancelled_by:
            raise Cancelled(
                f"received {self.cancelled_by}; Packer was stopped (exit {code}) and cleaned up",
                fix="re-run the job: the same fingerprint resumes the version.",
            )
        return code

    def cancel(self, signal_name: str) -> bool:
        """Forward a cancellation: SIGTERM to Packer's PID (its wrapper ignores SIGINT), once.

        Returns False when no Packer is running (the caller then stops at once).
        """
        process = self._process
        if process is None or process.poll() is not None:
            return False
        if self.cancelled_by:
            return True  # already cancelling: a second SIGTERM must not cut its cleanup short
        self.cancelled_by = signal_name
        try:
            os.kill(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return False
        return True
