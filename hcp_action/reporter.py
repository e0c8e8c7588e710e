"""What the pipeline needs from whoever shows its progress and result: the GitHub runner
(`workflow.Workflow`) or a person or script at a terminal (`console.Console`)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Protocol

from hcp_action.errors import ActionError
from hcp_action.result import Result


class Reporter(Protocol):
    @property
    def masked(self) -> tuple[str, ...]: ...

    def add_mask(self, value: str) -> None: ...

    def error(self, message: str, *, title: str = "") -> None: ...

    def warning(self, message: str, *, title: str = "") -> None: ...

    def group(self, title: str) -> AbstractContextManager[None]: ...

    def untrusted(self) -> AbstractContextManager[str]: ...

    def relay(self, line: str) -> None: ...

    def report(self, result: Result) -> None: ...

    def report_failure(self, error: ActionError, command: str) -> None: ...
