"""One HTTP exchange, bounded: the whole answer (connect to last byte) within a deadline, and no
body larger than a cap.

httpx's timeouts apply to each socket operation, so a server that drips one byte at a time
never times out; and it would read a body of any size into memory. The exchange therefore runs
in a worker thread that the caller waits for at most `deadline` seconds (then it is abandoned
and stops at its next chunk), and the body is read chunk by chunk against the cap.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import httpx

MAX_BODY = 16 * 1024 * 1024
_DROP = frozenset({"content-encoding", "content-length", "transfer-encoding"})


class BodyTooLarge(Exception):
    def __init__(self, size: int, cap: int) -> None:
        super().__init__(f"the answer is larger than {cap // (1024 * 1024)} MiB ({size}+ bytes)")


@dataclass
class _Exchange:
    done: threading.Event = field(default_factory=threading.Event)
    abandoned: threading.Event = field(default_factory=threading.Event)
    response: httpx.Response | None = None
    error: BaseException | None = None


def _read(response: httpx.Response, exchange: _Exchange, cap: int) -> bytes | None:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > cap:
        raise BodyTooLarge(int(declared), cap)
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_bytes():
        if exchange.abandoned.is_set():
            return None
        size += len(chunk)
        if size > cap:
            raise BodyTooLarge(size, cap)
        chunks.append(chunk)
    return b"".join(chunks)


def fetch(
    client: httpx.Client,
    request: httpx.Request,
    *,
    deadline: float,
    cap: int = MAX_BODY,
    auth: Any = None,
) -> httpx.Response:
    """Send `request` and read its answer in full, or raise httpx.ReadTimeout at `deadline`."""
    exchange = _Exchange()

    def work() -> None:
        try:
            kwargs: dict[str, Any] = {"stream": True}
            if auth is not None:
                kwargs["auth"] = auth
            streamed = client.send(request, **kwargs)
            try:
                body = _read(streamed, exchange, cap)
            finally:
                streamed.close()
            if body is not None:
                headers = [(k, v) for k, v in streamed.headers.items() if k.lower() not in _DROP]
                exchange.response = httpx.Response(
                    streamed.status_code, headers=headers, content=body, request=streamed.request
                )
        except BaseException as exc:  # handed to the waiting thread
            exchange.error = exc
        finally:
            exchange.done.set()

    threading.Thread(target=work, name="hcp-request", daemon=True).start()
    if not exchange.done.wait(deadline):
        exchange.abandoned.set()
        raise httpx.ReadTimeout(
            f"no complete answer within {deadline:g} s (HCP_ACTION_HTTP_TIMEOUT)", request=request
        )
    if exchange.error is not None:
        raise exchange.error
    assert exchange.response is not None  # noqa: S101 - set whenever no error was
    return exchange.response
