"""action.yml is valid for GitHub, matches the contract, and the README documents it truly."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from hcp_action.inputs import DECLARED
from hcp_action.outputs import OUTPUT_NAMES
from tests.helpers import ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
README = (ROOT / "README.md").read_text()


def _table_names(heading: str) -> list[str]:
    section = README.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `([a-z-]+)` \|", section, flags=re.MULTILINE)


def test_action_yml_is_valid_against_github_schema() -> None:
    exe = shutil.which("check-jsonschema") or str(Path(sys.executable).parent / "check-jsonschema")
    done = subprocess.run(
        [exe, "--builtin-schema", "vendor.github-actions", str(ROOT / "action.yml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_action_yml_declares_the_contract() -> None:
    assert set(ACTION["inputs"]) == set(DECLARED)
    assert set(ACTION["outputs"]) == set(OUTPUT_NAMES)
    assert ACTION["runs"]["using"] == "docker"
    # Defaults live in the code: only github-token has one in action.yml.
    with_default = [name for name, spec in ACTION["inputs"].items() if "default" in spec]
    assert with_default == ["github-token"]
    for spec in [*ACTION["inputs"].values(), *ACTION["outputs"].values()]:
        assert spec["description"].strip()


def test_readme_tables_match_action_yml() -> None:
    assert _table_names("Inputs") == list(ACTION["inputs"])
    assert _table_names("Outputs") == list(ACTION["outputs"])


def test_readme_commands_are_the_real_ones() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    test_command = [line for line in ci.splitlines() if "pytest" in line][-1].strip()
    assert test_command in README
    assert "python -m hcp_action.demo" in README
    assert "bash .ci/run" in README


def test_vendored_spec_matches_shared_copy() -> None:
    """tests/data keeps CI independent of shared/; it must not drift from the source copy."""
    from tests.spec import SPEC_PATH  # noqa: PLC0415

    vendored = ROOT / "tests" / "data" / "packer-2023-01-01.json"
    if not SPEC_PATH.exists():
        pytest.skip(f"SKIPPED: {SPEC_PATH} is absent, drift of the vendored spec not checked")
    assert vendored.read_bytes() == SPEC_PATH.read_bytes()


DOCKERFILE = (ROOT / "Dockerfile").read_text()


def test_no_dockerfile_stage_needs_a_git_ignored_file() -> None:
    """The legacy builder builds every stage: a COPY of an ignored file (absent in a clean
    clone) would break every build there (contract v2, "How GitHub runs the container")."""
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("SKIPPED: not a git checkout, .gitignore not checked against the Dockerfile")
    sources = []
    for line in DOCKERFILE.splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(w.startswith("--from") for w in words):
            sources += [w for w in words[1:-1] if not w.startswith("--")]
    assert sources, "no COPY found"
    ignored = subprocess.run(
        ["git", "check-ignore", "--no-index", *sources],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    assert ignored == []
    missing = [s for s in sources if not (ROOT / s).exists()]
    assert missing == []


def test_image_is_multi_arch_ready_and_labelled() -> None:
    # ARG TARGETARCH with a default overrides the value BuildKit sets for each platform.
    assert re.search(r"^ARG TARGETARCH\s*$", DOCKERFILE, flags=re.MULTILINE)
    assert "PYTHONSAFEPATH=1" in DOCKERFILE
    for label in ("source", "revision", "version"):
        assert f"org.opencontainers.image.{label}=" in DOCKERFILE
