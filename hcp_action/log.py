"""structlog, configured once: readable lines on stderr, masked values redacted before rendering."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Iterable, MutableMapping
from typing import Any

import structlog

REDACTED = "***"


def _redactor(secrets: Callable[[], Iterable[str]]) -> structlog.types.Processor:
    def redact(
        _logger: Any, _name: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        values = [s for s in secrets() if s]
        if not values:
            return event
        for key, value in list(event.items()):
            text = value if isinstance(value, str) else None
            if text is None and isinstance(value, list | tuple | dict):
                text = repr(value)
            if text is not None and any(s in text for s in values):
                for s in values:
                    text = text.replace(s, REDACTED)
                event[key] = text
        return event

    return redact


def configure(
    secrets: Callable[[], Iterable[str]], *, debug: bool = False, colors: bool = False
) -> None:
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="%H:%M:%S", utc=True),
            _redactor(secrets),
            structlog.dev.ConsoleRenderer(colors=colors),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.DEBUG if debug else logging.INFO
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
