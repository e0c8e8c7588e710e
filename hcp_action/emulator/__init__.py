"""An HCP Packer registry emulator on loopback: real HTTP, real state, spec-shaped JSON.

Never imported by the action's production code paths; tests, the demo and the simulator use it.
"""

from hcp_action.emulator.server import Emulator, Fault

__all__ = ["Emulator", "Fault"]
