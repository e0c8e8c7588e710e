"""Reads a version back until it is complete, with every build DONE and holding artifacts."""

from __future__ import annotations

import time
from collections.abc import Callable

import structlog

from hcp_action.errors import Aborted, NotFound, VersionFailed, WaitTimeout
from hcp_action.hcp.client import HcpPackerClient
from hcp_action.hcp.models import BuildStatus, Version, VersionStatus

log = structlog.get_logger(__name__)
FIRST_INTERVAL = 0.25
MAX_INTERVAL = 1.0  # completion must be noticed within a second
PROGRESS_EVERY = 5.0


def check_usable(version: Version) -> None:
    """A complete version we may hand out: builds all DONE and each with artifacts."""
    if not version.builds:
        raise VersionFailed(
            f"version {version.name} ({version.fingerprint}) has no builds",
            fix="check the template's build block lists its sources.",
        )
    bad = [
        f"{b.component_type} ({b.status.value})"
        for b in version.builds
        if b.status is not BuildStatus.DONE
    ]
    if bad:
        raise VersionFailed(
            f"version {version.fingerprint} has builds that are not done: " + ", ".join(bad)
        )
    empty = [b.component_type for b in version.builds if not b.artifacts]
    if empty:
        raise VersionFailed(
            f"version {version.fingerprint} has builds without artifacts: " + ", ".join(empty),
            fix="use a builder that publishes HCP Packer artifacts (e.g. amazon-ebs without "
            "skip_create_ami).",
        )


def wait_complete(
    client: HcpPackerClient,
    bucket: str,
    fingerprint: str,
    *,
    timeout: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> Version:
    deadline = clock() + timeout
    interval = FIRST_INTERVAL
    next_progress = PROGRESS_EVERY
    last: Version | None = None
    while True:
        try:
            version: Version | None = client.get_version(bucket, fingerprint)
        except (Aborted, NotFound):
            version = None
        if version is not None:
            last = version
            failed = [
                f"{b.component_type} ({b.status.value})"
                for b in version.builds
                if b.status in {BuildStatus.FAILED, BuildStatus.CANCELLED}
            ]
            if failed:
                raise VersionFailed(
                    f"the registry shows failed builds for version {fingerprint}: "
                    + ", ".join(failed),
                    fix="read the Packer log above, fix the build, and re-run the job: the "
                    "same fingerprint resumes the version.",
                )
            if version.status in {VersionStatus.FAILED, VersionStatus.CANCELLED}:
                raise VersionFailed(f"version {fingerprint} is {version.status.value}")
            if version.is_complete:
                check_usable(version)
                return version
        remaining = deadline - clock()
        if remaining <= 0:
            state = (
                "not in the registry"
                if last is None
                else f"{last.name} {last.status.value}; builds: "
                + (", ".join(f"{b.component_type} {b.status.value}" for b in last.builds) or "none")
            )
            raise WaitTimeout(
                f"version {fingerprint} did not complete within {timeout:g} s ({state})",
                fix="raise wait-timeout, or re-run the job to resume the version.",
            )
        waited = timeout - remaining
        if waited >= next_progress:  # a line every few seconds, for people watching
            log.info(
                "waiting for the registry",
                fingerprint=fingerprint,
                waited=round(waited),
                state=last.status.value if last else "not created",
            )
            next_progress += PROGRESS_EVERY
        sleep(min(interval, remaining))
        interval = min(interval * 1.5, MAX_INTERVAL)
