"""The single retry policy (tenacity): what is retried, how long we wait, when we stop."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import structlog
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
    wait_random_exponential,
)

from hcp_action.errors import InputError

log = structlog.get_logger(__name__)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})


class RetryAfterTooLong(Exception):
    """The server asks us to wait longer than the retry deadline allows: fail now."""

    def __init__(self, response: httpx.Response, seconds: float, remaining: float) -> None:
        super().__init__(
            f"the server asked to retry after {seconds:g} s (Retry-After), more than the "
            f"{max(remaining, 0):.0f} s left of the retry deadline"
        )
        self.response = response


class RetryableStatus(Exception):
    """A 429/5xx answer that a read may retry; carries the response for Retry-After."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.response = response


LIMITS = {
    "HCP_ACTION_HTTP_TIMEOUT": 600.0,
    "HCP_ACTION_RETRY_BASE": 60.0,
    "HCP_ACTION_RETRY_MAX_WAIT": 600.0,
    "HCP_ACTION_RETRY_DEADLINE": 3600.0,
    "HCP_ACTION_RETRY_ATTEMPTS": 1000.0,
}


@dataclass(frozen=True, slots=True)
class RetryConfig:
    timeout: float = 30.0
    base: float = 0.5
    max_wait: float = 10.0
    deadline: float = 120.0
    attempts: int = 8

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> RetryConfig:
        # Tests shrink these; users rarely need to. A value that is set must make sense: a
        # timeout of nan or -1 would make every request fail, or none ever end.
        def num(name: str, default: float) -> float:
            raw = environ.get(name, "").strip()
            if not raw:
                return default
            try:
                value = float(raw)
            except ValueError:
                value = math.nan
            if not math.isfinite(value) or not 0 < value <= LIMITS[name]:
                raise InputError(
                    f"{name} (environment)",
                    f"'{raw[:40]}' is not a number of seconds (or attempts) between 0 and "
                    f"{LIMITS[name]:g}",
                    fix=f"unset it (default {default:g}) or give e.g. {default:g}.",
                )
            return value

        d = cls()
        return cls(
            timeout=num("HCP_ACTION_HTTP_TIMEOUT", d.timeout),
            base=num("HCP_ACTION_RETRY_BASE", d.base),
            max_wait=num("HCP_ACTION_RETRY_MAX_WAIT", d.max_wait),
            deadline=num("HCP_ACTION_RETRY_DEADLINE", d.deadline),
            attempts=int(num("HCP_ACTION_RETRY_ATTEMPTS", d.attempts)),
        )

    @classmethod
    def default(cls) -> RetryConfig:
        return cls.from_environ(os.environ)


def _is_read_retryable(exc: BaseException) -> bool:
    return isinstance(exc, RetryableStatus | httpx.TransportError)


def _is_write_retryable(exc: BaseException) -> bool:
    # A write is repeated only when it certainly did not happen: never connected, or refused
    # by the rate limiter before any work.
    if isinstance(exc, RetryableStatus):
        return exc.response.status_code == 429
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)


def _retry_after(exc: BaseException | None) -> float:
    if isinstance(exc, RetryableStatus):
        raw = exc.response.headers.get("Retry-After", "")
        if raw.strip().isdigit():
            return float(raw.strip())
    return 0.0


def retrying(
    config: RetryConfig,
    *,
    write: bool,
    operation: str,
    sleep: Callable[[float], None] | None = None,
) -> Retrying:
    jitter = wait_random_exponential(multiplier=config.base, max=config.max_wait)

    def wait(state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        remaining = config.deadline - (state.seconds_since_start or 0.0)
        # Never sleep past the deadline: the whole call is bounded by deadline + one request.
        return max(0.0, min(max(jitter(state), _retry_after(exc)), remaining))

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        log.warning(
            "retrying",
            operation=operation,
            attempt=state.attempt_number,
            error=str(exc),
            wait=round(state.upcoming_sleep, 2),
        )

    kwargs: dict[str, Any] = {}
    if sleep is not None:
        kwargs["sleep"] = sleep
    return Retrying(
        retry=retry_if_exception(_is_write_retryable if write else _is_read_retryable),
        wait=wait,
        stop=stop_after_delay(config.deadline) | stop_after_attempt(config.attempts),
        before_sleep=before_sleep,
        reraise=True,
        **kwargs,
    )


def send(
    config: RetryConfig,
    *,
    write: bool,
    operation: str,
    request: Callable[[], httpx.Response],
) -> httpx.Response:
    """Send with the policy. Returns the last answer (even a 429/5xx once retries are spent);
    raises httpx.TransportError when the last attempt could not connect or timed out."""
    response: httpx.Response | None = None
    started = time.monotonic()
    try:
        for attempt in retrying(config, write=write, operation=operation):
            with attempt:
                response = request()
                if response.status_code in RETRYABLE_STATUS:
                    failure = RetryableStatus(response)
                    asked = _retry_after(failure)
                    remaining = config.deadline - (time.monotonic() - started)
                    if asked > remaining:
                        raise RetryAfterTooLong(response, asked, remaining)
                    raise failure
    except RetryableStatus as exc:
        return exc.response
    assert response is not None  # noqa: S101 - reraise=True: the loop either returned or raised
    return response
