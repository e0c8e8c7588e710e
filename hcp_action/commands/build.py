"""`build`: pre-check the version, run Packer if needed, read it back, assign the channel."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import structlog

from hcp_action import channels, fingerprint, interrupts
from hcp_action.artifacts import select
from hcp_action.errors import (
    Aborted,
    ChannelError,
    InputError,
    NotFound,
    PackerFailed,
    VersionFailed,
)
from hcp_action.hcp.client import HcpPackerClient
from hcp_action.hcp.credentials import Credentials
from hcp_action.hcp.credfile import packer_credentials
from hcp_action.hcp.models import Channel, Version
from hcp_action.inputs import NAME_RE, Inputs
from hcp_action.packer import template
from hcp_action.packer.runner import PackerEnv, PackerRunner, packer_environment
from hcp_action.result import Result
from hcp_action.waiter import check_usable, wait_complete

log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class BuildPlan:
    bucket: str
    fingerprint: str
    info: template.TemplateInfo


def preflight(inputs: Inputs, environ: Mapping[str, str]) -> BuildPlan:
    """Everything that can be checked without the network."""
    info = template.read(inputs.template, workspace=inputs.workspace)
    if info.channels is not None:
        # Packer >= 1.15 moves these channels itself after every build: before the version is
        # complete, without our guards, and without failing when it cannot.
        raise InputError(
            "template",
            "its hcp_packer_registry block sets channels = ["
            + ", ".join(info.channels)
            + "]: Packer would move them itself, unguarded, before the version is complete",
            fix="remove 'channels' from the template and use the action's 'channel' input "
            "(assigned only after the version is verified).",
        )
    if info.build_count != 1:
        raise InputError(
            "template",
            f"has {info.build_count} build blocks; HCP Packer allows exactly one per template",
            fix="split the builds into separate templates (and buckets), or merge them into one "
            "build block with several sources.",
        )
    if not info.sources:
        raise InputError(
            "template",
            "its build block lists no known source",
            fix='add sources = ["source.<type>.<name>"] to the build block.',
        )
    bucket = inputs.bucket or info.bucket_name
    if bucket is None:
        why = (
            f"the template's bucket_name is an expression ({info.bucket_expression}), which "
            "the action does not evaluate"
            if info.bucket_expression
            else "the template has no hcp_packer_registry bucket_name"
        )
        raise InputError(
            "bucket",
            f"is empty and {why}",
            fix="set the bucket input, e.g. bucket: jenkins-ha-ami.",
        )
    if not NAME_RE.fullmatch(bucket):
        raise InputError(
            "bucket",
            f"the template's bucket_name '{bucket}' is not a valid name",
            fix="use 3 to 36 letters, digits and hyphens.",
        )
    chosen = inputs.version_fingerprint or fingerprint.derive(inputs, environ)
    return BuildPlan(bucket=bucket, fingerprint=chosen, info=info)


def _with_parents(
    inputs: Inputs, plan: BuildPlan, client: HcpPackerClient, environ: Mapping[str, str]
) -> BuildPlan:
    """The derived fingerprint, extended by what each parent channel the template reads holds
    now: the same commit built on a newer base image is another version."""
    held: dict[str, str] = {}
    for parent_bucket, parent_channel in plan.info.parent_channels:
        channel = channels.read_channel(client, parent_bucket, parent_channel)
        # Missing or empty: Packer's data source fails the build and says why.
        held[f"{parent_bucket}/{parent_channel}"] = channel.fingerprint if channel else ""
    chosen = fingerprint.derive(inputs, environ, held)
    log.info("fingerprint covers the parent images", parents=held, fingerprint=chosen)
    interrupts.set_resume_hint(
        f"re-run the job: the same fingerprint ({chosen}) resumes the version."
    )
    return replace(plan, fingerprint=chosen)


def _existing(client: HcpPackerClient, bucket: str, fp: str) -> Version | None:
    try:
        return client.get_version(bucket, fp)
    except (Aborted, NotFound):  # 10: no such version; 5: not even the bucket: both are "new"
        return None


def run(
    inputs: Inputs,
    plan: BuildPlan,
    *,
    client: HcpPackerClient,
    packer: PackerRunner,
    credentials: Credentials,
    environ: Mapping[str, str],
) -> Result:
    if not inputs.version_fingerprint and plan.info.parent_channels:
        plan = _with_parents(inputs, plan, client, environ)
    bucket, fp = plan.bucket, plan.fingerprint
    base = Result(
        command="build",
        bucket=bucket,
        channel=inputs.channel or "",
        fingerprint=fp,
        organization_id=inputs.organization_id,
        project_id=inputs.project_id,
        dry_run=inputs.dry_run,
    )
    existing = _existing(client, bucket, fp)
    if existing is not None and existing.is_revoked:
        raise VersionFailed(
            f"version {existing.name} for fingerprint {fp} is revoked",
            fix="build under a new fingerprint: set version-fingerprint, or change an input.",
        )

    before = None
    if inputs.channel:
        before = channels.read_channel(client, bucket, inputs.channel)
        if before is None and not inputs.create_channel:
            raise ChannelError(
                f"channel '{inputs.channel}' does not exist in bucket '{bucket}' and "
                "create-channel is false",
                fix="create the channel first, or set create-channel: true.",
            )

    complete = existing is not None and existing.is_complete
    plan_lines: list[str] = []
    if complete:
        assert existing is not None  # noqa: S101 - narrowed above
        log.info("version already complete; packer not run", fingerprint=fp, name=existing.name)
        check_usable(existing)
        version = existing
    elif inputs.dry_run:
        action = "resume" if existing is not None else "create"
        plan_lines.append(f"would run Packer to {action} version {fp} in bucket {bucket}")
        if inputs.channel:
            plan_lines.append(
                f"would then set {inputs.channel}: "
                f"{(before.fingerprint if before else '') or '(new)'} → {fp}"
            )
        return replace(base, resumed=existing is not None, plan=tuple(plan_lines))
    else:
        version = _run_packer(
            inputs,
            plan,
            client=client,
            packer=packer,
            credentials=credentials,
            environ=environ,
            resumed=existing is not None,
        )

    # Every check that can fail runs before the channel write.
    selection = select(version, region=inputs.region, component=inputs.component)
    assignment = None
    if inputs.channel:
        if inputs.dry_run:
            plan_lines.append(
                f"would set {inputs.channel}: "
                f"{(before.fingerprint if before else '') or '(new)'} → {fp}"
            )
        else:
            if not complete:
                before = _unchanged_since(client, bucket, inputs.channel, before)
            assignment = channels.assign(client, bucket, inputs.channel, before, version)
    return replace(
        base,
        version=version,
        selection=selection,
        assignment=assignment,
        build_skipped=complete,
        resumed=existing is not None and not complete,
        packer_ran=not complete,
        plan=tuple(plan_lines),
    )


def _unchanged_since(
    client: HcpPackerClient, bucket: str, channel: str, before: Channel | None
) -> Channel | None:
    """Packer ran for minutes: if someone rolled back or promoted meanwhile, writing now would
    silently undo that. Read the channel again and refuse to write over a change."""
    now = channels.read_channel(client, bucket, channel)
    then_fp = before.fingerprint if before else ""
    now_fp = now.fingerprint if now else ""
    if (now is None) != (before is None) or now_fp != then_fp:
        raise ChannelError(
            f"channel '{channel}' changed while Packer ran: it held '{then_fp or 'nothing'}' "
            f"before the build and holds '{now_fp or 'nothing'}' now; not overwritten",
            fix="someone promoted or rolled back meanwhile; check the change, then re-run the "
            "job (the version is complete and is reused) or promote it by hand.",
        )
    return now


def _run_packer(
    inputs: Inputs,
    plan: BuildPlan,
    *,
    client: HcpPackerClient,
    packer: PackerRunner,
    credentials: Credentials,
    environ: Mapping[str, str],
    resumed: bool,
) -> Version:
    with packer_credentials(
        credentials, environ, subject_token=client.workload_subject_token
    ) as credential_env:
        env = packer_environment(
            environ,
            PackerEnv(
                credentials=credential_env,
                organization_id=inputs.organization_id,
                project_id=inputs.project_id,
                bucket=plan.bucket,
                fingerprint=plan.fingerprint,
                github_token=inputs.github_token.reveal() if inputs.github_token else None,
            ),
        )
        _packer_init_build(inputs, plan, packer=packer, env=env, resumed=resumed)
    # Exit 0 proves nothing about the registry: read the version back.
    return wait_complete(client, plan.bucket, plan.fingerprint, timeout=inputs.wait_timeout)


def _packer_init_build(
    inputs: Inputs, plan: BuildPlan, *, packer: PackerRunner, env: dict[str, str], resumed: bool
) -> None:
    target = str(inputs.template)
    code = packer.run(["init", target], env=env, cwd=inputs.working_directory, title="packer init")
    if code != 0:
        raise PackerFailed(
            f"packer init exited {code}",
            fix="read the log above; plugin downloads need network access (a "
            "github-token avoids GitHub's rate limit).",
        )
    args = ["build", "-color=false"]
    for name, value in inputs.variables:
        args += ["-var", f"{name}={value}"]
    for path in inputs.var_files:
        args += ["-var-file", str(path)]
    verb = "resume" if resumed else "build"
    code = packer.run(
        [*args, target],
        env=env,
        cwd=inputs.working_directory,
        title=f"packer build ({verb} {plan.fingerprint})",
    )
    if code != 0:
        raise PackerFailed(
            f"packer build exited {code}; no channel was changed",
            fix=f"read the log above; re-running the job resumes version {plan.fingerprint}.",
        )
