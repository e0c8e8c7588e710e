"""`python -m hcp_action.emulator`: prints `export …` for eval, then serves until signalled."""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from hcp_action.emulator.server import Emulator


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
    parser.add_argument("--client-id")
    parser.add_argument("--client-secret")
    args = parser.parse_args(argv)
    if (args.client_id is None) != (args.client_secret is None):
        parser.error("--client-id and --client-secret go together")

    emulator = Emulator(
        host=args.host,
        port=args.port,
        tls=args.tls,
        state_file=args.state,
        client_id=args.client_id,
        client_secret=args.client_secret,
    )
    exports = "; ".join(f"export {k}={shlex.quote(v)}" for k, v in emulator.env().items())
    print(exports, flush=True)
    print(
        f"HCP Packer emulator serving on {emulator.url} (Ctrl-C to stop)",
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
