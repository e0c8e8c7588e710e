"""The only writer of GitHub workflow commands and file commands (outputs, summary)."""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

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
        token = secrets.token_hex(16)
        self._emit(f"::stop-commands::{token}")
        try:
            yield token
        finally:
            self._emit(f"::{token}::")

    def relay(self, line: str) -> None:
        self._stream.write(line if line.endswith("\n") else line + "\n")
        self._stream.flush()

    def set_outputs(self, outputs: Mapping[str, str]) -> None:
        if self._output_file is None:
            for name, value in outputs.items():
                self._emit(f"output {name}={value}")
            return
        chunks = []
        for name, value in outputs.items():
            # A random delimiter per value, checked against the value, so no value can
            # close its own heredoc and forge another output.
            delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
            while delimiter in value:
                delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
            chunks.append(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
        with self._output_file.open("a", encoding="utf-8") as handle:
            handle.write("".join(chunks))

    def add_summary(self, markdown: str) -> None:
        if self._summary_file is None:
            return
        with self._summary_file.open("a", encoding="utf-8") as handle:
            handle.write(markdown if markdown.endswith("\n") else markdown + "\n")

    def report(self, result: Result) -> None:
        from hcp_action import outputs, summary  # noqa: PLC0415 - avoids an import cycle

        self.set_outputs(outputs.render(result))
        self.add_summary(summary.render(result))

    def report_failure(self, error: ActionError, command: str) -> None:
        from hcp_action import summary  # noqa: PLC0415

        self.error(error.render(), title=error.title)
        self.add_summary(summary.render_failure(error, command))
