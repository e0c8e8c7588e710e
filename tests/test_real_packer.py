"""End to end with stock Packer (the CI job that installs it); skipped loudly elsewhere."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from hcp_action.demo import TEMPLATE
from hcp_action.emulator import Emulator
from tests.helpers import Harness

REAL = os.environ.get("HCP_TEST_REAL_PACKER") == "1"
pytestmark = pytest.mark.skipif(
    not REAL,
    reason="SKIPPED: real Packer end-to-end runs only with HCP_TEST_REAL_PACKER=1 "
    "(the ci.yml job that installs stock Packer); here the simulator covers the flow",
)


def test_build_and_lookup_with_stock_packer(tmp_path: Path) -> None:
    packer = shutil.which("packer")
    assert packer is not None, "HCP_TEST_REAL_PACKER=1 but no packer on PATH"
    assert b"Packer simulator" not in Path(packer).read_bytes()[:200]
    # Packer's SDK only accepts an https auth URL: the emulator serves TLS.
    with Emulator(tls=True) as emulator:
        harness = Harness(tmp_path, emulator, None)
        (harness.workspace / "null.pkr.hcl").write_text(TEMPLATE)
        build = harness.run({"template": "null.pkr.hcl", "channel": "dev"})
        assert build.returncode == 0, build.stdout + build.stderr
        assert build.outputs["ami-id"] == "Null"
        assert build.outputs["version-name"] == "v1"
        again = harness.run({"template": "null.pkr.hcl", "channel": "dev"})
        assert again.outputs["build-skipped"] == "true"
        lookup = harness.run({"command": "lookup", "bucket": "jenkins-ha-ami", "channel": "dev"})
        assert lookup.outputs["version-fingerprint"] == build.outputs["version-fingerprint"]
