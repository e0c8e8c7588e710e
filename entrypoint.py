"""Container entrypoint: `python entrypoint.py` runs the action with the runner's environment."""

import sys

from hcp_action.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
