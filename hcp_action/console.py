"""Output for people and scripts outside GitHub Actions: no workflow commands, ever.

Human mode prints a short result on stdout (version, channel before → after, region → artifact
table); `--json` prints the action's outputs as one JSON object on stdout. Everything else
(logs, Packer's output, progress) goes to stderr. Colours only on a TTY, never with NO_COLOR.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from hcp_action import outputs, overview_text
from hcp_action.errors import ActionError
from hcp_action.result import Result
from hcp_action.workflow import Workflow

_RESET = "\033[0m"
_STYLES = {
    "bold": "\033[1m",
    "red": "\033[31m",
    "yellow": "\033[33m",
    "green": "\033[32m",
    "dim": "\033[2m",
}


_ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|.)?")
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(text: str) -> str:
    """Text without terminal control sequences or control characters (newlines and tabs kept)."""
    return _CONTROLS.sub("", _ESCAPES.sub("", text))


class Console:
    def __init__(
        self,
        *,
        stdout: TextIO,
        stderr: TextIO,
        json_output: bool,
        colors: bool,
        commands: Workflow | None = None,
    ) -> None:
        self._out = stdout
        self._err = stderr
        self.json_output = json_output
        self.colors = colors
        self._masked: list[str] = []
        # Inside a GitHub `run:` step: masks and annotations as workflow commands on stderr
        # (the runner reads both streams); stdout stays the result alone.
        self._commands = commands
        self.dotenv: Path | None = None  # --dotenv: outputs for the next job of another CI

    @classmethod
    def for_terminal(cls, environ: Mapping[str, str], *, json_output: bool = False) -> Console:
        colors = sys.stderr.isatty() and "NO_COLOR" not in environ and not json_output
        commands = None
        if environ.get("GITHUB_ACTIONS") == "true":
            commands = Workflow(output_file=None, summary_file=None, stream=sys.stderr)
        return cls(
            stdout=sys.stdout,
            stderr=sys.stderr,
            json_output=json_output,
            colors=colors,
            commands=commands,
        )

    # ---- the Reporter protocol ----------------------------------------------------------------
    @property
    def masked(self) -> tuple[str, ...]:
        return tuple(self._masked)

    def check_ready(self) -> None:
        """A terminal is always ready."""

    def add_mask(self, value: str) -> None:
        # Nothing to tell a terminal; remembered so that logs redact the value.
        if value and value not in self._masked:
            self._masked.append(value)
            if self._commands is not None:
                self._commands.add_mask(value)

    def _style(self, text: str, *styles: str) -> str:
        if not self.colors:
            return text
        return "".join(_STYLES[s] for s in styles) + text + _RESET

    def _redact(self, text: str) -> str:
        for value in self._masked:
            text = text.replace(value, "***")
        return plain(text)

    def error(self, message: str, *, title: str = "") -> None:
        if self._commands is not None:
            self._commands.error(self._redact(message), title=title)
            return
        head = self._style(f"error: {title}" if title else "error", "bold", "red")
        self._err.write(f"{head}: {self._redact(message)}\n")
        self._err.flush()

    def warning(self, message: str, *, title: str = "") -> None:
        if self._commands is not None:
            self._commands.warning(self._redact(message), title=title)
            return
        head = self._style(f"warning: {title}" if title else "warning", "yellow")
        self._err.write(f"{head}: {self._redact(message)}\n")
        self._err.flush()

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        self._err.write(self._style(f"==> {title}", "bold") + "\n")
        self._err.flush()
        yield

    @contextmanager
    def untrusted(self) -> Iterator[str]:
        if self._commands is not None:  # the runner parses stderr too: suspend commands there
            with self._commands.untrusted() as token:
                yield token
            return
        yield ""  # a terminal runs no workflow commands: nothing to suspend

    def relay(self, line: str) -> None:
        self._err.write(self._redact(line if line.endswith("\n") else line + "\n"))
        self._err.flush()

    def report(self, result: Result) -> None:
        if self.dotenv is not None:
            self._write_dotenv(outputs.render(result))
        values: dict[str, object] = dict(outputs.render(result))
        if self.json_output:
            for key in outputs.JSON_OUTPUTS:  # JSON text in the action; real JSON here
                if key in values:
                    values[key] = json.loads(str(values[key]))
            self._out.write(json.dumps(values, sort_keys=True) + "\n")
        else:
            self._out.write(self._human(result))
        self._out.flush()

    def report_failure(self, error: ActionError, command: str) -> None:
        self.error(error.render(), title=error.title)
        if self.json_output:
            failure = {
                "error": {
                    "command": command,
                    "title": error.title,
                    "message": self._redact(error.message),
                    "fix": self._redact(error.fix),
                    "exit_code": error.exit_code,
                }
            }
            self._out.write(json.dumps(failure, sort_keys=True) + "\n")
            self._out.flush()

    def _write_dotenv(self, values: Mapping[str, str]) -> None:
        assert self.dotenv is not None  # noqa: S101 - checked by the caller
        lines = [
            f"{name.upper().replace('-', '_')}={value}"
            for name, value in values.items()
            if "\n" not in value and "\r" not in value  # one line per variable, always
        ]
        self.dotenv.write_text("\n".join(lines) + "\n", encoding="utf-8")

    # ---- the human result ---------------------------------------------------------------------
    def _human(self, result: Result) -> str:
        if result.overview is not None:
            return self._styled(overview_text.status_lines(result.overview))
        if result.finding is not None:
            return self._styled(
                overview_text.find_lines(result.finding)
                + [f"  note         {n}" for n in result.notes]
            )
        title = f"{result.command}{' (dry run)' if result.dry_run else ''}: bucket {result.bucket}"
        lines = [title]
        version = result.version
        if version is not None:
            lines.append(f"  version      {version.name}  {version.fingerprint}  ({version.id})")
        else:
            lines.append(f"  fingerprint  {result.fingerprint} (not built yet)")
        if result.command == "build" and version is not None:
            lines.append(
                "  packer       "
                + ("skipped: the version was already complete" if result.build_skipped else "ran")
            )
        changes = ([result.assignment] if result.assignment else []) + list(result.moves)
        for a in changes:
            before = f"{a.before_name} {a.before}".strip() or "(none)"
            after = f"{a.after_name} {a.after}".strip() or "(none)"
            arrow = "→" if a.changed else "="
            note = " (created)" if a.created else "" if a.changed else " (unchanged)"
            lines.append(f"  channel      {a.channel}: {before} {arrow} {after}{note}")
        if result.channel and not changes:
            lines.append(f"  channel      {result.channel}")
        if result.selection is not None:
            sel = result.selection
            lines += ["", f"  {'REGION':<16} {'ARTIFACT':<24} COMPONENT"]
            for row in sel.artifacts:
                mark = " *" if (row.region, row.id) == (sel.region, sel.ami_id) else ""
                lines.append(f"  {row.region:<16} {row.id:<24} {row.component}{mark}")
            lines.append(f"  (* = ami-id, region {sel.region})")
        for item in result.plan:
            lines.append(f"  plan         {item}")
        lines += overview_text.descendant_lines(result)
        for note_text in result.notes:
            lines.append(f"  note         {note_text}")
        return self._styled(lines)

    def _styled(self, lines: list[str]) -> str:
        # Registry text reaches a terminal: no control sequence of its own gets through. Our
        # styles are applied after the data was cleaned.
        lines = [plain(line) for line in lines]
        lines[0] = self._style(lines[0], "bold")
        lines = [line.replace(" → ", f" {self._style('→', 'green')} ") for line in lines]
        lines = [
            line.replace("OUT OF DATE", self._style("OUT OF DATE", "bold", "yellow"))
            for line in lines
        ]
        return "\n".join(lines) + "\n"
