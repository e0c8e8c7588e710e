"""The action's entry: parse inputs, wire collaborators, run one command, decide the exit code.

This is the only place that turns errors into annotations and exit codes.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

import structlog

from hcp_action import __version__, deployments, interrupts, ownership
from hcp_action import log as logging_setup
from hcp_action.deployments import Change
from hcp_action.errors import (
    ActionError,
    Cancelled,
    ChannelError,
    HostProblem,
    Unexpected,
)
from hcp_action.inputs import Command, Inputs, parse
from hcp_action.reporter import Reporter
from hcp_action.result import Result
from hcp_action.workflow import Workflow

logger = structlog.get_logger("hcp_action")

ISSUES_URL = "https://github.com/OWNER/hcp-packer-action/issues"

_SECRET_SOURCES = (
    "INPUT_HCP-CLIENT-SECRET",
    "INPUT_HCP_CLIENT_SECRET",
    "HCP_CLIENT_SECRET",
    "INPUT_GITHUB-TOKEN",
    "INPUT_GITHUB_TOKEN",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
)


def _command_name(environ: Mapping[str, str]) -> str:
    return (environ.get("INPUT_COMMAND") or "build").strip()[:32] or "build"


def run(environ: Mapping[str, str], workflow: Reporter, *, colors: bool = False) -> int:
    # Mask what we were handed before any line of ours can print it.
    for name in _SECRET_SOURCES:
        workflow.add_mask(environ.get(name, "").strip())
    debug = environ.get("RUNNER_DEBUG") == "1"
    logging_setup.configure(lambda: workflow.masked, debug=debug, colors=colors)
    command = _command_name(environ)

    def early_report(cancelled: Cancelled) -> None:
        workflow.report_failure(cancelled, command)
        # Now too, not only at exit: the runner may kill the client before Packer's cleanup
        # ends, and on a runner that tears the container down then, exit never comes.
        _hand_back(environ)

    try:
        with interrupts.installed(early_report):
            try:
                workflow.check_ready()
                inputs = parse(environ)
                result = _dispatch(inputs, environ, workflow)
                workflow.report(result)
            finally:
                _hand_back(environ)
    except Cancelled as exc:
        if interrupts.reported():
            logger.warning("packer's cleanup finished; the step ends cancelled")
        else:
            workflow.report_failure(exc, command)
        return exc.exit_code
    except ActionError as exc:
        workflow.report_failure(exc, command)
        return exc.exit_code
    except KeyboardInterrupt:
        cancelled = Cancelled("the run was interrupted")
        workflow.report_failure(cancelled, command)
        return cancelled.exit_code
    except Exception as exc:  # the last resort: never a bare traceback
        error = _unexpected(exc)
        if debug:
            logger.exception("unexpected error", exc_info=exc)
        workflow.report_failure(error, command)
        return error.exit_code
    return 0


def _unexpected(exc: Exception) -> ActionError:
    if isinstance(exc, OSError):
        where = f" on '{exc.filename}'" if exc.filename else ""
        return HostProblem(
            f"{type(exc).__name__}{where}: {exc.strerror or exc}",
            fix="check that the path exists and is writable by the step (container actions "
            "run as root; RUNNER_TEMP is not mounted on runners older than 2.331).",
        )
    return Unexpected(
        f"{type(exc).__name__}: {str(exc)[:300]}",
        fix=f"please report this at {ISSUES_URL} with the step's log (hcp-packer-action "
        f"{__version__}; set RUNNER_DEBUG=1 for the traceback).",
    )


def _hand_back(environ: Mapping[str, str]) -> None:
    if environ.get("GITHUB_ACTIONS") != "true" or not environ.get("GITHUB_WORKSPACE"):
        return
    home = environ.get("HOME")
    ownership.hand_back(Path(environ["GITHUB_WORKSPACE"]), [Path(home)] if home else [])


def _dispatch(inputs: Inputs, environ: Mapping[str, str], workflow: Reporter) -> Result:
    # Imports here keep start-up small for the paths that do not need them.
    from hcp_action.commands import (  # noqa: PLC0415
        build,
        find,
        lookup,
        promote,
        revoke,
        rollback,
        status,
    )
    from hcp_action.hcp import credentials as creds  # noqa: PLC0415
    from hcp_action.hcp.client import HcpPackerClient  # noqa: PLC0415
    from hcp_action.hcp.endpoints import Endpoints  # noqa: PLC0415
    from hcp_action.hcp.retry import RetryConfig  # noqa: PLC0415
    from hcp_action.packer.runner import PackerRunner  # noqa: PLC0415

    if environ.get("HCP_ACTION_TEST_CRASH") == "1":
        # Test-only switch: the one way to drive the last-resort handler through the real
        # entrypoint, since every known failure has its own error.
        raise RuntimeError("HCP_ACTION_TEST_CRASH=1: a deliberate bug for the crash-report test")
    endpoints = Endpoints.from_environ(environ)
    credentials = creds.resolve(inputs, environ)
    if isinstance(credentials, creds.ServicePrincipal):
        workflow.add_mask(credentials.client_secret.reveal())
    else:
        for value in credentials.secrets():
            workflow.add_mask(value)
    plan = build.preflight(inputs, environ) if inputs.command is Command.BUILD else None

    packer = PackerRunner(workflow=workflow)
    if plan is not None:
        packer.which()  # fail before the first request if Packer is missing
        interrupts.set_resume_hint(
            f"re-run the job: the same fingerprint ({plan.fingerprint}) resumes the version."
        )

    with HcpPackerClient(
        endpoints=endpoints,
        credentials=credentials,
        organization_id=inputs.organization_id,
        project_id=inputs.project_id,
        retry=RetryConfig.from_environ(environ),
        on_token=workflow.add_mask,
    ) as client:
        try:
            if plan is not None:
                result = build.run(
                    inputs,
                    plan,
                    client=client,
                    packer=packer,
                    credentials=credentials,
                    environ=environ,
                )
            elif inputs.command is Command.PROMOTE:
                result = promote.run(inputs, client=client)
            elif inputs.command is Command.ROLLBACK:
                result = rollback.run(inputs, client=client)
            elif inputs.command is Command.REVOKE:
                result = revoke.run(inputs, client=client, run_url=_run_url(environ))
            elif inputs.command is Command.STATUS:
                result = status.run(inputs, client=client)
            elif inputs.command is Command.FIND:
                result = find.run(inputs, client=client)
            else:
                result = lookup.run(inputs, client=client)
        except ChannelError as exc:
            if inputs.github_deployment and exc.channel:
                _record(inputs, environ, workflow, [_failed_change(inputs, exc)])
            raise
    if inputs.github_deployment:
        _record(inputs, environ, workflow, _changes(result))
    return result


def _run_url(environ: Mapping[str, str]) -> str:
    server, repo, run = (
        environ.get(k, "") for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    )
    return f"{server}/{repo}/actions/runs/{run}" if server and repo and run else ""


def _changes(result: Result) -> list[Change]:
    a = result.assignment
    if a is None or not a.changed or result.version is None:
        return []  # no-ops and HCP's own moves get no deployment
    return [
        Change(
            bucket=result.bucket,
            channel=a.channel,
            fingerprint=a.after,
            version_name=a.after_name,
            selection=result.selection,
            success=True,
            description=f"{result.command}: {a.channel} {a.before_name or '(new)'} -> "
            f"{a.after_name}",
        )
    ]


def _failed_change(inputs: Inputs, exc: ChannelError) -> Change:
    return Change(
        bucket=inputs.bucket or "",
        channel=exc.channel,
        fingerprint=exc.fingerprint,
        version_name="",
        selection=None,
        success=False,
        description=f"{inputs.command.value} failed: {exc.message}",
    )


def _record(
    inputs: Inputs, environ: Mapping[str, str], workflow: Reporter, changes: list[Change]
) -> None:
    token = inputs.github_token.reveal() if inputs.github_token else ""
    count = deployments.record(changes, token=token, environ=environ, workflow=workflow)
    logger.info("deployments recorded", count=count)


def reporter_for(environ: Mapping[str, str], *, json_output: bool = False) -> Reporter:
    """The action talks to the runner (workflow commands, outputs file) inside GitHub Actions,
    plain text elsewhere (the CLI makes its own Console)."""
    if environ.get("GITHUB_ACTIONS") == "true":
        return Workflow.from_environ(environ)
    from hcp_action.console import Console  # noqa: PLC0415

    return Console.for_terminal(environ, json_output=json_output)


def main() -> int:
    reporter = reporter_for(os.environ)
    return run(os.environ, reporter, colors=getattr(reporter, "colors", False))


if __name__ == "__main__":
    sys.exit(main())
