"""The version fingerprint we choose, so re-runs of a job reuse or resume the same version.

Recipe: the commit (the first set of GITHUB_SHA, CI_COMMIT_SHA, GIT_COMMIT, BUILDKITE_COMMIT,
CIRCLE_SHA1, else the workspace's git HEAD) and the build's inputs (template path, working
directory, variables in order, var-file paths and contents, and every PKR_VAR_* environment
variable, sorted, since Packer reads them as variables), and the version each parent channel
holds when the template reads its source image through hcp-packer-version/-artifact data
sources — so a child rebuilt after its base moved is a new version, not the old one reused. No
run id or attempt: "re-run failed jobs" must land on the same version. 32 characters:
`<12 of commit>-<19 of digest>`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from hcp_action import gitinfo
from hcp_action.errors import InputError
from hcp_action.inputs import Inputs

_SHA_RE = re.compile(r"^[0-9a-fA-F]{7,64}$")
# GitHub Actions, GitLab CI, Jenkins (git plugin), Buildkite, CircleCI.
COMMIT_VARIABLES = ("GITHUB_SHA", "CI_COMMIT_SHA", "GIT_COMMIT", "BUILDKITE_COMMIT", "CIRCLE_SHA1")


def commit_of(inputs: Inputs, environ: Mapping[str, str]) -> str:
    for name in COMMIT_VARIABLES:
        if environ.get(name):
            return environ[name].strip()
    return gitinfo.head(inputs.workspace)


def derive(
    inputs: Inputs, environ: Mapping[str, str], parents: Mapping[str, str] | None = None
) -> str:
    """`parents`: "bucket/channel" → the fingerprint that channel holds (read by the build)."""
    commit = commit_of(inputs, environ)
    if not _SHA_RE.fullmatch(commit):
        raise InputError(
            "version-fingerprint",
            "cannot be derived: none of " + ", ".join(COMMIT_VARIABLES) + " holds a commit "
            "and the workspace is not a git checkout",
            fix="set version-fingerprint explicitly, or run inside a git repository.",
        )
    digest = hashlib.sha256()

    def feed(label: str, data: bytes) -> None:
        # Length-prefixed so that no two different input sets can produce the same stream.
        digest.update(f"{label}:{len(data)}:".encode())
        digest.update(data)

    feed("template", str(inputs.template.relative_to(inputs.workspace)).encode())
    feed("working-directory", str(inputs.working_directory.relative_to(inputs.workspace)).encode())
    for name, value in inputs.variables:
        feed("var", f"{name}={value}".encode())
    for path in inputs.var_files:
        feed("var-file", str(path.relative_to(inputs.workspace)).encode())
        feed("var-file-content", path.read_bytes())
    for name in sorted(k for k in environ if k.startswith("PKR_VAR_")):
        feed("env-var", f"{name}={environ[name]}".encode())
    for name, held in sorted((parents or {}).items()):
        feed("parent", f"{name}={held}".encode())
    return f"{commit[:12].lower()}-{digest.hexdigest()[:19]}"
