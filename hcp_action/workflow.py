"""The only writer of GitHub workflow commands and file commands (outputs, summary)."""

from __future__ import annotations

import secrets
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from hcp_action.errors import HostProblem, InputError

if TYPE_CHECKING:
    from hcp_action.errors import ActionError
    from hcp_action.result import Result


def _escape_data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(value: str) -> str:
    return _escape_data(value).replace(":", "%3A").replace(",", "%2C")


class Workflow:
    """Talks to the runner: stdout commands, GITHUB_OUTPUT, GITHUB_STEP_SUMMARY."""

    def __init__(
        self,
        *,
        output_file: Path | None,
        summary_file: Path | None,
        stream: TextIO | None = None,
    ) -> None:
        self._output_file = output_file
        self._summary_file = summary_file
        self._stream = stream or sys.stdout
        self._masked: list[str] = []
        self._stop_token = ""  # set while ::stop-commands:: is in force
        # A cancellation is reported from another thread while Packer's output is relayed.
        self._lock = threading.RLock()

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Workflow:
        out = environ.get("GITHUB_OUTPUT")
        summary = environ.get("GITHUB_STEP_SUMMARY")
        return cls(
            output_file=Path(out) if out else None,
            summary_file=Path(summary) if summary else None,
        )

    @property
    def masked(self) -> tuple[str, ...]:
        return tuple(self._masked)

    def _emit(self, line: str) -> None:
        with self._lock:
            if self._stop_token:
                # A command of ours while Packer's output is relayed (a cancellation report):
                # resume command processing for this line, then stop it again with a new token.
                token, self._stop_token = self._stop_token, secrets.token_hex(16)
                line = f"::{token}::\n{line}\n::stop-commands::{self._stop_token}"
            self._stream.write(line + "\n")
            self._stream.flush()

    def add_mask(self, value: str) -> None:
        # Masks must reach the runner before anything else could print the value.
        if value and value not in self._masked:
            self._masked.append(value)
            self._emit(f"::add-mask::{_escape_data(value)}")

    def error(self, message: str, *, title: str = "") -> None:
        props = f" title={_escape_property(title)}" if title else ""
        self._emit(f"::error{props}::{_escape_data(message)}")

    def warning(self, message: str, *, title: str = "") -> None:
        props = f" title={_escape_property(title)}" if title else ""
        self._emit(f"::warning{props}::{_escape_data(message)}")

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        self._emit(f"::group::{_escape_data(title)}")
        try:
            yield
        finally:
            self._emit("::endgroup::")

    @contextmanager
    def untrusted(self) -> Iterator[str]:
        """Suspend command parsing so text we relay (Packer's output) cannot act on the runner."""
        with self._lock:
            token = secrets.token_hex(16)
            self._emit(f"::stop-commands::{token}")
            self._stop_token = token
        try:
            yield token
        finally:
            with self._lock:
                token, self._stop_token = self._stop_token, ""
                self._emit(f"::{token}::")

    def relay(self, line: str) -> None:
        with self._lock:
            self._stream.write(line if line.endswith("\n") else line + "\n")
            self._stream.flush()

    def check_ready(self) -> None:
        """Inside GitHub Actions the outputs file is the only place outputs may go: printing
        them would put values (and workflow-command text) in the log."""
        if self._output_file is None:
            raise InputError(
                "GITHUB_OUTPUT (environment)",
                "is not set although GITHUB_ACTIONS is true, so outputs cannot be written",
                fix="run the action as a workflow step, or unset GITHUB_ACTIONS to use the CLI's "
                "plain output.",
            )

    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        if self._output_file is None:
            raise InputError("GITHUB_OUTPUT (environment)", "is not set", fix="see above.")
        chunks = []
        for name, value in outputs.items():
            # A random delimiter per value, checked against the value, so no value can
            # close its own heredoc and forge another output.
            delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
            while delimiter in value:
                delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
            chunks.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
        try:
            with self._output_file.open("a", encoding="utf-8") as handle:
                handle.write("".join(chunks))
        except OSError as exc:
            raise HostProblem(
                f"cannot write the step outputs to GITHUB_OUTPUT ({exc.strerror or exc})",
                fix="the runner creates this file for each step; check the runner's disk and "
                "that nothing earlier in the job changed GITHUB_OUTPUT.",
            ) from None

    def add_summary(self, markdown: str) -> None:
        if self._summary_file is None:
            return
        try:
            with self._summary_file.open("a", encoding="utf-8") as handle:
                handle.write(markdown if markdown.endswith("\n") else markdown + "\n")
        except OSError as exc:
            # The summary is a convenience; the annotation and outputs carry the result.
            self.warning(f"cannot write the job summary ({exc.strerror or exc})")

    def report(self, result: Result) -> None:
        from hcp_action import outputs, summary  # noqa: PLC0415 - avoids an import cycle

        self.set_outputs(outputs.render(result))
        self.add_summary(summary.render(result))

    def report_failure(self, error: ActionError, command: str) -> None:
        from hcp_action import summary  # noqa: PLC0415

        self.error(error.render(), title=error.title)
        self.add_summary(summary.render_failure(error, command))
