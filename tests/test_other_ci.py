"""The GitLab CI and Jenkins examples, run as those systems run them: their scripts executed by
a shell with only their own CI variables (no GITHUB_*, no git checkout, the CI/CD variables as
environment), the installed `hcp-packer-action` on PATH, against the emulator and the Packer
simulator. The promotion must move the version the pipeline built, even after `dev` moved on."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from tests.helpers import ROOT, Harness, seed
from tests.test_build import channel_fp

EXAMPLES = ROOT / "examples" / "ci"
CLI_DIR = Path(sys.executable).parent  # the installed console scripts
COMMIT = "5a1b2c3d4e5f60718293a4b5c6d7e8f901234567"
BUCKET = "jenkins-ha-ami"


def project(harness: Harness) -> Path:
    repo = harness.tmp / "project"
    (repo / "packer").mkdir(parents=True)
    shutil.copy(ROOT / "examples/jenkins-ha/packer/jenkins-ha.pkr.hcl", repo / "packer")
    return repo


def ci_env(harness: Harness, own: dict[str, str]) -> dict[str, str]:
    """What the CI system gives a job: its variables and the project's CI/CD variables."""
    emulator = harness.emulator.env()
    assert harness.sim_bin is not None
    return {
        "PATH": f"{harness.sim_bin}:{CLI_DIR}:/usr/bin:/bin",
        "HOME": str(harness.home),
        "CI": "true",
        **{k: v for k, v in emulator.items() if k.startswith("HCP_")},
        "PACKER_SIM_LOG": str(harness.sim_log),
        **own,
    }


def sh(line: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["/bin/sh", "-ec", line],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, f"{line}\n{done.stdout}\n{done.stderr}"
    return done


def dotenv(path: Path) -> dict[str, str]:
    return dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)


def test_gitlab_example_builds_and_promotes_what_it_built(harness: Harness) -> None:
    pipeline = yaml.safe_load((EXAMPLES / "gitlab-ci.yml").read_text())
    repo = project(harness)
    own = {
        "GITLAB_CI": "true",
        "CI_COMMIT_SHA": COMMIT,
        "CI_PROJECT_DIR": str(repo),
        **pipeline["variables"],
    }
    env = ci_env(harness, own)
    assert not any(k.startswith("GITHUB_") for k in env)
    for line in pipeline["build-image"]["script"]:
        sh(line, env, repo)
    report = pipeline["build-image"]["artifacts"]["reports"]["dotenv"]
    built = dotenv(repo / report)
    assert built["VERSION_FINGERPRINT"].startswith(COMMIT[:12])  # from CI_COMMIT_SHA
    assert channel_fp(harness.emulator, BUCKET, "dev") == built["VERSION_FINGERPRINT"]
    seed(harness.emulator, "someone-elses-build", "dev")  # dev moves on before the click
    promote_env = {**env, **built}  # GitLab passes the dotenv report to the job that needs it
    assert pipeline["promote-production"]["needs"] == ["build-image"]
    for line in pipeline["promote-production"]["script"]:
        sh(line, promote_env, repo)
    assert channel_fp(harness.emulator, BUCKET, "production") == built["VERSION_FINGERPRINT"]


def test_jenkins_example_builds_and_promotes_what_it_built(harness: Harness) -> None:
    text = (EXAMPLES / "Jenkinsfile").read_text()
    lines = re.findall(r"sh '([^']+)'", text)
    assert len(lines) == 2
    repo = project(harness)
    own = {
        "JENKINS_URL": "https://jenkins.example/",
        "GIT_COMMIT": COMMIT,
        "WORKSPACE": str(repo),
        "BUCKET": re.search(r"BUCKET\s*=\s*'([^']+)'", text).group(1),  # type: ignore[union-attr]
    }
    env = ci_env(harness, own)
    assert not any(k.startswith("GITHUB_") for k in env)
    sh(lines[0], env, repo)
    # What the pipeline's script block does: readFile('build.env') → VERSION_FINGERPRINT.
    fingerprint = dotenv(repo / "build.env")["VERSION_FINGERPRINT"]
    assert fingerprint.startswith(COMMIT[:12])  # from GIT_COMMIT
    seed(harness.emulator, "a-later-build", "dev")
    sh(lines[1], {**env, "VERSION_FINGERPRINT": fingerprint}, repo)
    assert channel_fp(harness.emulator, BUCKET, "production") == fingerprint


def test_readme_shows_the_examples_verbatim() -> None:
    readme = (ROOT / "README.md").read_text()
    for name in ("gitlab-ci.yml", "Jenkinsfile"):
        assert (EXAMPLES / name).read_text() in readme, name
