from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from hcp_action.emulator import Emulator
from hcp_action.packer.simulator import install_shim
from tests.helpers import Harness

CLIENT_ID = "test-client-id"


@pytest.fixture(scope="session")
def client_secret() -> str:
    return f"s3cret-{secrets.token_hex(12)}"


@pytest.fixture
def emulator(client_secret: str) -> Iterator[Emulator]:
    # TLS, as the simulator (like real Packer) accepts only an https auth URL.
    with Emulator(tls=True, client_id=CLIENT_ID, client_secret=client_secret) as emu:
        yield emu


@pytest.fixture(scope="session")
def sim_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("sim-bin")
    install_shim(directory)
    return directory


@pytest.fixture
def harness(tmp_path: Path, emulator: Emulator, sim_bin: Path) -> Harness:
    return Harness(tmp_path, emulator, sim_bin)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests import test_fault_matrix, test_hostile  # noqa: PLC0415

    for line in [*test_fault_matrix.report(), *test_hostile.report()]:
        terminalreporter.write_line(line)
