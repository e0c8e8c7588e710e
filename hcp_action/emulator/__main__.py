"""`python -m hcp_action.emulator`: prints `export …` for eval, then serves until signalled."""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import stat
import sys
import threading
from pathlib import Path
from types import FrameType

from hcp_action.emulator.server import Emulator, StateFileError


def _stdout_is_pipe() -> bool:
    try:
        return stat.S_ISFIFO(os.fstat(sys.stdout.fileno()).st_mode)
    except (OSError, ValueError):
        return False


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m hcp_action.emulator", description="HCP Packer registry emulator"
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve API and auth over TLS with a throwaway self-signed certificate",
    )
    parser.add_argument("--state", type=Path, help="JSON file holding the registry state")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--detach",
        action="store_true",
        default=None,
        help="serve from a detached process (default when stdout is a pipe)",
    )
    mode.add_argument(
        "--foreground",
        dest="detach",
        action="store_false",
        help="serve from this process even when stdout is a pipe",
    )
    parser.add_argument("--client-id")
    parser.add_argument("--client-secret")
    parser.add_argument(
        "--inherit-delay",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="descendants inherit a revocation this long after it (HCP: asynchronously; "
        "0 = at once; default 1)",
    )
    args = parser.parse_args(argv)
    if (args.client_id is None) != (args.client_secret is None):
        parser.error("--client-id and --client-secret go together")

    try:
        emulator = Emulator(
            host=args.host,
            port=args.port,
            tls=args.tls,
            state_file=args.state,
            client_id=args.client_id,
            client_secret=args.client_secret,
            inherit_delay=args.inherit_delay,
        )
    except StateFileError as exc:
        print(f"hcp_action.emulator: {exc}", file=sys.stderr)
        return 2
    exports = "; ".join(f"export {k}={shlex.quote(v)}" for k, v in emulator.env().items())
    detach = args.detach if args.detach is not None else _stdout_is_pipe()
    if detach:
        # `eval "$(python -m hcp_action.emulator | head -n 1)"` returns only once every process
        # of the pipeline has exited: the server carries on in a detached child.
        child = os.fork()
        if child:
            print(f"{exports}; export HCP_EMULATOR_PID={child}", flush=True)
            os._exit(0)
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
    else:
        print(f"{exports}; export HCP_EMULATOR_PID={os.getpid()}", flush=True)
    print(
        f"HCP Packer emulator serving on {emulator.url} (pid {os.getpid()}; SIGTERM or "
        "Ctrl-C stops it)",
        file=sys.stderr,
        flush=True,
    )

    stop = threading.Event()

    def on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    emulator.start()
    stop.wait()
    emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
