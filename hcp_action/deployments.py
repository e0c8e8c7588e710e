"""Optional GitHub Deployment records (PyGithub), one per channel this run changed.

A record, never a gate: any failure to record (403, 5xx, a hang, garbage, no network) is one
warning with the fix, never a failed promotion, and the step keeps its outputs and summary.
PyGithub is imported only here (≈0.3 s), only when github-deployment is true.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import structlog

from hcp_action.artifacts import Selection
from hcp_action.reporter import Reporter

log = structlog.get_logger(__name__)
PRODUCTION_NAMES = frozenset({"production", "prod"})
PERMISSION_FIX = """the job's token may not create deployments. Add to the job:
  permissions:
    contents: read
    deployments: write"""


@dataclass(frozen=True, slots=True)
class Change:
    bucket: str
    channel: str
    fingerprint: str
    version_name: str
    selection: Selection | None
    success: bool
    description: str


def record(
    changes: list[Change], *, token: str, environ: Mapping[str, str], workflow: Reporter
) -> int:
    """Create one deployment (and its status) per change; returns how many were recorded."""
    if not changes:
        return 0
    repository = environ.get("GITHUB_REPOSITORY", "")
    sha = environ.get("GITHUB_SHA", "")
    if not repository or not sha:
        workflow.warning(
            "github-deployment: GITHUB_REPOSITORY or GITHUB_SHA is not set; "
            "no deployment recorded.",
            title="Deployment not recorded",
        )
        return 0
    from github import Auth, Github, GithubException  # noqa: PLC0415

    api = environ.get("GITHUB_API_URL") or "https://api.github.com"
    server = environ.get("GITHUB_SERVER_URL") or "https://github.com"
    run_id = environ.get("GITHUB_RUN_ID", "")
    run_url = f"{server}/{repository}/actions/runs/{run_id}" if run_id else ""
    done = 0
    timeout = _timeout(environ)
    gh = Github(auth=Auth.Token(token), base_url=api, retry=None, timeout=timeout)
    try:
        repo = gh.get_repo(repository, lazy=True)
        for change in changes:
            environment = f"{change.bucket}/{change.channel}"
            payload = {
                "fingerprint": change.fingerprint,
                "version_name": change.version_name,
                "artifacts": change.selection.ami_ids if change.selection else {},
            }
            try:
                deployment = repo.create_deployment(
                    ref=sha,
                    task="deploy:hcp-packer",
                    auto_merge=False,
                    required_contexts=[],
                    payload=payload,
                    environment=environment,
                    description=change.description[:140],
                    transient_environment=False,
                    production_environment=change.channel in PRODUCTION_NAMES,
                )
                deployment.create_status(
                    "success" if change.success else "failure",
                    target_url=run_url,
                    description=change.description[:140],
                    environment=environment,
                    auto_inactive=change.success,
                )
            except GithubException as exc:
                status = exc.status
                fix = PERMISSION_FIX if status in {401, 403, 404} else "see the GitHub status page."
                _warn(workflow, f"GitHub answered {status} while recording {environment}", fix)
                break
            except Exception as exc:  # a record must never fail the step
                _warn(
                    workflow,
                    f"recording {environment} failed ({type(exc).__name__}: {str(exc)[:200]})",
                    f"check that GITHUB_API_URL ({api}) is reachable within {timeout} s.",
                )
                break
            done += 1
    finally:
        gh.close()
    return done


def _timeout(environ: Mapping[str, str]) -> int:
    """Seconds for each GitHub API call (HCP_ACTION_GITHUB_TIMEOUT, 1-120, default 15)."""
    raw = environ.get("HCP_ACTION_GITHUB_TIMEOUT") or "15"
    value = int(raw) if raw.isascii() and raw.isdigit() else 15
    return value if 1 <= value <= 120 else 15


def _warn(workflow: Reporter, what: str, fix: str) -> None:
    workflow.warning(
        f"github-deployment: {what}; the channel change itself succeeded and no further "
        f"deployment is recorded for this run. Fix: {fix}",
        title="Deployment not recorded",
    )
    log.warning("deployment not recorded", reason=what)
