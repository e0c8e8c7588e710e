"""SIGINT/SIGTERM, the way the Actions runner sends them to a container action.

The runner signals the `docker` client (forwarded to PID 1, then to us), waits 7.5 s, sends
SIGTERM, waits 2.5 s and kills the client; after that nothing we print reaches the user. So:

- while Packer runs, the first signal forwards SIGTERM to Packer and the cancellation is
  reported at once (annotation + summary); we then keep waiting for Packer's cleanup, which
  deletes cloud resources, and later signals do not abandon it;
- while a registry write is in flight, the signal is held until the write has finished (or was
  read back), and the report says what the write did;
- otherwise the run stops at once with `Cancelled`.

Signals are process-wide, so is this state; `installed()` scopes it to one run.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType

import structlog

from hcp_action.errors import Cancelled

log = structlog.get_logger(__name__)

# Asked while Packer runs: forward the signal; True if Packer was there to receive it.
Forward = Callable[[str], bool]
# Called once, at the first signal, with the error to report now.
EarlyReport = Callable[[Cancelled], None]


@dataclass
class WriteOutcome:
    """Filled in by a shielded write so a late signal can say what happened."""

    done: str = ""


@dataclass
class _State:
    forward: Forward | None = None
    early_report: EarlyReport | None = None
    resume_hint: str = ""
    received: str = ""
    reported: bool = False
    shield_depth: int = 0
    pending: bool = False
    writes: list[str] = field(default_factory=list)
    threads: list[threading.Thread] = field(default_factory=list)


_state = _State()


def reported() -> bool:
    """True once the cancellation has been reported early (the entrypoint must not repeat it)."""
    return _state.reported


def _cancelled(name: str) -> Cancelled:
    done = "; ".join(_state.writes)
    what = f" Registry writes completed before it took effect: {done}." if done else ""
    return Cancelled(
        f"received {name}; the run was cancelled.{what}",
        fix=_state.resume_hint or "re-run the job.",
        changes=tuple(_state.writes),
    )


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    name = signal.Signals(signum).name
    first = not _state.received
    if first:
        _state.received = name
    forward = _state.forward
    if forward is not None and (not first or forward(name)):
        if first:
            # Decided here, not in the thread, so the entrypoint never reports it twice.
            _state.reported = _state.early_report is not None
            _later(_report_early, name)
        else:
            _later(
                log.warning, "still waiting for packer's cleanup; not abandoning it", signal=name
            )
        return
    if _state.shield_depth:
        _state.pending = True
        _later(log.warning, "signal held until the registry write in flight ends", signal=name)
        return
    raise _cancelled(_state.received)


def _later(function: Callable[..., object], *args: object, **kwargs: object) -> None:
    """Run outside the handler: a handler that writes to a stream the interrupted code was
    writing to fails (reentrant call) or deadlocks on the logger's lock."""
    thread = threading.Thread(target=function, args=args, kwargs=kwargs, name="on-signal")
    _state.threads.append(thread)
    thread.start()


def _report_early(name: str) -> None:
    log.warning("cancelling: SIGTERM sent to packer; waiting for its cleanup", signal=name)
    if _state.early_report is None:
        return
    cancelled = Cancelled(
        f"received {name}; Packer was sent SIGTERM and is cleaning up its instances. No channel "
        "was changed; the registry keeps the version incomplete.",
        fix=_state.resume_hint or "re-run the job.",
    )
    _state.early_report(cancelled)


@contextmanager
def installed(early_report: EarlyReport | None) -> Iterator[None]:
    """Handle SIGINT and SIGTERM for the duration of one run."""
    global _state  # noqa: PLW0603 - signal state is process-wide by nature
    _state = _State(early_report=early_report)
    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        for thread in _state.threads:
            thread.join()


def set_resume_hint(text: str) -> None:
    _state.resume_hint = text


@contextmanager
def forwarding(forward: Forward) -> Iterator[None]:
    """While Packer runs: signals go to it (see the module docstring)."""
    _state.forward = forward
    try:
        yield
    finally:
        _state.forward = None


@contextmanager
def shielded(what: str) -> Iterator[WriteOutcome]:
    """Run a registry write to its end even if a signal arrives; then honour the signal."""
    outcome = WriteOutcome()
    _state.shield_depth += 1
    try:
        yield outcome
        if outcome.done:
            _state.writes.append(outcome.done)
    finally:
        _state.shield_depth -= 1
    if _state.pending and _state.shield_depth == 0:
        _state.pending = False
        log.warning("cancelling after the registry write", write=what)
        raise _cancelled(_state.received)
