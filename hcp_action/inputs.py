"""Every input of the contract, parsed once into a frozen object, before any network call.

Nothing below this module reads `INPUT_*`. Defaults live here (action.yml declares none but
github-token), so an empty input means its default.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from hcp_action.errors import InputError
from hcp_action.secret import Secret

# HCP's own rules: bucket and channel as Packer and the Terraform provider validate them,
# fingerprints as the registry documents them.
NAME_RE = re.compile(r"^[a-zA-Z0-9-]{3,36}$")
FINGERPRINT_RE = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,38}[A-Za-z0-9])?$")
REGION_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
COMPONENT_RE = re.compile(r"^[A-Za-z0-9._-]{1,200}$")
VAR_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]{0,127}$")
ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
# Segments of [A-Za-z0-9_-] only: the name goes into a URL path unescaped (as the SDK sends it),
# so '?', '#', '%' or '..' must never get through.
WIP_RE = re.compile(
    r"^iam/project/[A-Za-z0-9_-]+/service-principal/[A-Za-z0-9_-]+"
    r"/workload-identity-provider/[A-Za-z0-9_-]+$"
)
# find: an AMI ID for aws (8 or 17 hex digits); any other platform's id is opaque to us, so it is
# only kept printable (it travels in a JSON body, never in a URL).
AMI_RE = re.compile(r"^ami-(?:[0-9a-f]{8}|[0-9a-f]{17})$")
ARTIFACT_ID_RE = re.compile(r"^[!-~]{1,512}$")
PLATFORM_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
DIGITS_RE = re.compile(r"^[0-9]{1,6}$")  # str.isdigit() also accepts '²' and other digits
MANAGED_CHANNEL = "latest"
MAX_SINGLE_LINE = 1024
MAX_MULTILINE = 65536
MAX_WAIT_TIMEOUT = 6 * 3600


class Command(enum.StrEnum):
    BUILD = "build"
    PROMOTE = "promote"
    ROLLBACK = "rollback"
    REVOKE = "revoke"
    LOOKUP = "lookup"
    STATUS = "status"
    FIND = "find"


_TRUE = frozenset({"true", "True", "TRUE"})
_FALSE = frozenset({"false", "False", "FALSE"})
_MULTILINE = frozenset({"variables", "var-files"})

# Every input the action declares, with its default (None: no default, empty).
DECLARED: dict[str, str | None] = {
    "command": "build",
    "bucket": None,
    "channel": None,
    "from-channel": None,
    "version-fingerprint": None,
    "template": ".",
    "working-directory": ".",
    "variables": None,
    "var-files": None,
    "create-channel": "true",
    "wait-timeout": "600",
    "region": None,
    "component": None,
    "reason": None,
    "force": "false",
    "dry-run": "false",
    "skip-descendants": "false",
    "artifact-id": None,
    "platform": "aws",
    "github-token": None,
    "github-deployment": "false",
    "hcp-client-id": None,
    "hcp-client-secret": None,
    "hcp-organization-id": None,
    "hcp-project-id": None,
    "hcp-workload-identity-provider": None,
}


@dataclass(frozen=True, slots=True)
class Inputs:
    command: Command
    bucket: str | None
    channel: str | None
    from_channel: str | None
    version_fingerprint: str | None
    template: Path
    working_directory: Path
    variables: tuple[tuple[str, str], ...]
    var_files: tuple[Path, ...]
    create_channel: bool
    wait_timeout: int
    region: str | None
    component: str | None
    reason: str | None
    force: bool
    dry_run: bool
    skip_descendants: bool
    artifact_id: str | None
    platform: str
    github_deployment: bool
    organization_id: str
    project_id: str
    client_id: str | None
    client_secret: Secret | None = field(repr=False)
    github_token: Secret | None = field(repr=False)
    cred_file: Path | None
    workload_identity_provider: str | None
    workspace: Path
    # Raw template input, for messages and the fingerprint (relative to the workspace).
    template_input: str


def _raw(environ: Mapping[str, str], name: str) -> str:
    hyphen = environ.get(f"INPUT_{name.upper()}", "")
    under = environ.get(f"INPUT_{name.upper().replace('-', '_')}", "")
    if hyphen and under and hyphen != under:
        raise InputError(
            name,
            f"given twice with different values (as '{name}' and '{name.replace('-', '_')}')",
            fix="set only one spelling of the input.",
        )
    value = hyphen or under
    if name in _MULTILINE:
        limit = MAX_MULTILINE
    else:
        value = value.strip()
        limit = MAX_SINGLE_LINE
        if "\n" in value or "\r" in value:
            raise InputError(name, "must be a single line", fix="remove the line breaks.")
    if len(value) > limit:
        raise InputError(
            name, f"is {len(value)} characters long, more than {limit}", fix="shorten the value."
        )
    return value


def _get(environ: Mapping[str, str], name: str) -> str:
    return _raw(environ, name) or (DECLARED[name] or "")


def _bool(environ: Mapping[str, str], name: str) -> bool:
    value = _get(environ, name)
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise InputError(name, f"'{value}' is not a boolean", fix="use true or false.")


def _name(value: str, input_name: str, what: str) -> str:
    if not NAME_RE.fullmatch(value):
        raise InputError(
            input_name,
            f"'{value}' is not a valid {what} name",
            fix="use 3 to 36 characters: letters, digits and hyphens (HCP's rule).",
        )
    return value


def _optional(environ: Mapping[str, str], name: str) -> str | None:
    return _get(environ, name) or None


def check_fingerprint(value: str, input_name: str = "version-fingerprint") -> str:
    if not FINGERPRINT_RE.fullmatch(value):
        raise InputError(
            input_name,
            f"'{value}' is not a valid fingerprint",
            fix="use 1 to 40 letters, digits, '.', '_' or '-', starting and ending "
            "with a letter or digit.",
        )
    return value


def lines(raw: str) -> list[str]:
    """Split a multi-line input on \\n only (a trailing \\r dropped): str.splitlines() would also
    split on Unicode separators and turn one NAME=VALUE into two."""
    return [line.removesuffix("\r") for line in raw.split("\n")]


def _variables(raw: str) -> tuple[tuple[str, str], ...]:
    pairs: list[tuple[str, str]] = []
    for number, line in enumerate(lines(raw), 1):
        if not line.strip():
            continue
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not VAR_NAME_RE.fullmatch(name):
            raise InputError(
                "variables",
                f"line {number} is not NAME=VALUE",
                fix="write one Packer variable per line, e.g. 'aws_region=us-east-1'.",
            )
        pairs.append((name, value))
    return tuple(pairs)


def workspace_aliases(environ: Mapping[str, str]) -> tuple[str, ...]:
    """Other spellings of the workspace a value can carry into the container.

    The runner rewrites a value only when it *starts* with a host path (so a multi-line value
    keeps the host form on its later lines), and a job container's `/__w/…` paths are never
    rewritten. Ours: `/github/workspace`, `${{ github.workspace }}` on the host
    (`$RUNNER_WORKSPACE/<repository name>`), and `/__w/<repository name>/<repository name>`.
    """
    aliases = ["/github/workspace"]
    repo = environ.get("GITHUB_REPOSITORY", "").rpartition("/")[2]
    if repo and repo not in {".", ".."}:
        runner_workspace = environ.get("RUNNER_WORKSPACE", "").rstrip("/")
        if runner_workspace.startswith("/"):
            aliases.append(f"{runner_workspace}/{repo}")
        aliases.append(f"/__w/{repo}/{repo}")
    return tuple(aliases)


def in_workspace(raw: str, workspace: Path, aliases: tuple[str, ...]) -> Path:
    """`raw` as a path: relative to the workspace, or absolute in one of its spellings."""
    for alias in aliases:
        if raw == alias or raw.startswith(alias + "/"):
            return workspace / raw[len(alias) :].lstrip("/")
    return workspace / raw


def _under(workspace: Path, raw: str, input_name: str, aliases: tuple[str, ...] = ()) -> Path:
    path = in_workspace(raw, workspace, aliases).resolve()
    if not path.is_relative_to(workspace.resolve()):
        raise InputError(
            input_name,
            f"'{raw}' points outside the workspace",
            fix="give a path inside the repository.",
        )
    return path


def parse(environ: Mapping[str, str]) -> Inputs:
    """Parse and cross-check all inputs. Raises InputError; makes no network call."""
    command_raw = _get(environ, "command")
    try:
        command = Command(command_raw)
    except ValueError:
        raise InputError(
            "command",
            f"'{command_raw}' is not a command",
            fix="use one of: " + ", ".join(c.value for c in Command) + ".",
        ) from None
    workspace = Path(environ.get("GITHUB_WORKSPACE") or ".").resolve()

    bucket = _optional(environ, "bucket")
    if bucket is not None:
        _name(bucket, "bucket", "bucket")
    channel = _optional(environ, "channel")
    if channel is not None:
        _name(channel, "channel", "channel")
    from_channel = _optional(environ, "from-channel")
    if from_channel is not None:
        _name(from_channel, "from-channel", "channel")
    fingerprint = _optional(environ, "version-fingerprint")
    if fingerprint is not None:
        check_fingerprint(fingerprint)

    wait_raw = _get(environ, "wait-timeout")
    if not DIGITS_RE.fullmatch(wait_raw) or not 1 <= int(wait_raw) <= MAX_WAIT_TIMEOUT:
        raise InputError(
            "wait-timeout",
            f"'{wait_raw}' is not a whole number of seconds between 1 and {MAX_WAIT_TIMEOUT}",
            fix="e.g. wait-timeout: 600.",
        )

    # find searches only the region it is given: AWS_REGION names where the job runs, not where
    # an AMI was published.
    region = _optional(environ, "region") or (
        None if command is Command.FIND else environ.get("AWS_REGION") or None
    )
    region_input = "region" if _optional(environ, "region") else "AWS_REGION (environment)"
    if region is not None and not REGION_RE.fullmatch(region):
        raise InputError(region_input, f"'{region}' is not a region name", fix="e.g. us-east-1.")
    component = _optional(environ, "component")
    if component is not None and not COMPONENT_RE.fullmatch(component):
        raise InputError(
            "component",
            f"'{component}' is not a component type",
            fix="use <source type>.<source name>, e.g. amazon-ebs.jenkins.",
        )

    create_channel = _bool(environ, "create-channel")
    force = _bool(environ, "force")
    dry_run = _bool(environ, "dry-run")
    skip_descendants = _bool(environ, "skip-descendants")
    artifact_id = _optional(environ, "artifact-id")
    platform = _get(environ, "platform")
    if not PLATFORM_RE.fullmatch(platform):
        raise InputError(
            "platform",
            f"'{platform}' is not a platform name",
            fix="use the platform HCP Packer records for the builder: aws, azure, gce, …",
        )
    github_deployment = _bool(environ, "github-deployment")

    template_raw = _get(environ, "template")
    aliases = workspace_aliases(environ)
    template = _under(workspace, template_raw, "template", aliases)
    working_directory = _under(
        workspace, _get(environ, "working-directory"), "working-directory", aliases
    )
    variables = _variables(_get(environ, "variables"))
    var_files = tuple(
        _under(workspace, line.strip(), "var-files", aliases)
        for line in lines(_get(environ, "var-files"))
        if line.strip()
    )

    # Credentials: the input wins, the HCP_* environment is the fallback (as the Go SDK reads it).
    wip = _optional(environ, "hcp-workload-identity-provider")
    id_input = _optional(environ, "hcp-client-id")
    secret_input = _optional(environ, "hcp-client-secret")
    if wip and (id_input or secret_input):
        raise InputError(
            "hcp-workload-identity-provider",
            "cannot be combined with hcp-client-id/hcp-client-secret",
            fix="use OIDC or a client secret, not both.",
        )
    # Under OIDC the HCP_CLIENT_* environment is not a fallback: the explicit choice wins.
    env_id, env_secret = (
        ("", "")
        if wip
        else (environ.get("HCP_CLIENT_ID", ""), environ.get("HCP_CLIENT_SECRET", ""))
    )
    client_id = id_input or env_id or None
    secret_raw = secret_input or env_secret
    client_secret = Secret(secret_raw) if secret_raw else None
    org = _optional(environ, "hcp-organization-id") or environ.get("HCP_ORGANIZATION_ID", "")
    project = _optional(environ, "hcp-project-id") or environ.get("HCP_PROJECT_ID", "")
    cred_file_raw = environ.get("HCP_CRED_FILE") or None
    token_raw = _optional(environ, "github-token")
    github_token = Secret(token_raw) if token_raw else None

    inputs = Inputs(
        command=command,
        bucket=bucket,
        channel=channel,
        from_channel=from_channel,
        version_fingerprint=fingerprint,
        template=template,
        working_directory=working_directory,
        variables=variables,
        var_files=var_files,
        create_channel=create_channel,
        wait_timeout=int(wait_raw),
        region=region,
        component=component,
        reason=_optional(environ, "reason"),
        force=force,
        dry_run=dry_run,
        skip_descendants=skip_descendants,
        artifact_id=artifact_id,
        platform=platform,
        github_deployment=github_deployment,
        organization_id=org,
        project_id=project,
        client_id=client_id,
        client_secret=client_secret,
        github_token=github_token,
        cred_file=in_workspace(cred_file_raw, workspace, aliases) if cred_file_raw else None,
        workload_identity_provider=wip,
        workspace=workspace,
        template_input=template_raw,
    )
    _check_credentials(inputs)
    _check_command(inputs)
    return inputs


def _check_credentials(inputs: Inputs) -> None:
    for name, value in (
        ("hcp-organization-id", inputs.organization_id),
        ("hcp-project-id", inputs.project_id),
    ):
        if not value:
            raise InputError(
                name,
                "is required (the action does not guess: Packer's discovery silently picks "
                "the oldest project)",
                fix=f"set '{name}' or the {name.upper().replace('-', '_')} environment variable.",
            )
        if not ID_RE.fullmatch(value):
            raise InputError(
                name,
                f"'{value}' is not an HCP resource id",
                fix="copy the id from the HCP portal's settings page.",
            )
    if inputs.workload_identity_provider is not None:
        if not WIP_RE.fullmatch(inputs.workload_identity_provider):
            raise InputError(
                "hcp-workload-identity-provider",
                "is not a workload identity provider resource name",
                fix="use iam/project/<id>/service-principal/<name>/"
                "workload-identity-provider/<name>.",
            )
        return  # OIDC: the GitHub side is checked when credentials are resolved
    if inputs.client_secret and not inputs.client_id:
        raise InputError(
            "hcp-client-id",
            "is missing while hcp-client-secret is set",
            fix="set hcp-client-id to the service principal's client id.",
        )
    if inputs.client_id and not inputs.client_secret:
        raise InputError(
            "hcp-client-secret",
            "is missing while hcp-client-id is set",
            fix="pass the secret: hcp-client-secret: ${{ secrets.HCP_CLIENT_SECRET }}.",
        )
    if not inputs.client_id and inputs.cred_file is None:
        raise InputError(
            "hcp-client-id",
            "no HCP credentials were given",
            fix="set hcp-client-id and hcp-client-secret (from secrets), "
            "hcp-workload-identity-provider (OIDC), or HCP_CRED_FILE.",
        )
    if inputs.client_id is not None and not ID_RE.fullmatch(inputs.client_id):
        raise InputError(
            "hcp-client-id",
            "contains characters a client id never has",
            fix="copy the client id of the service principal key.",
        )
    if inputs.cred_file is not None and inputs.client_id is None and not inputs.cred_file.is_file():
        raise InputError(
            "HCP_CRED_FILE (environment)",
            f"'{inputs.cred_file}' is not a file",
            fix="point HCP_CRED_FILE at the credential file.",
        )


def _check_command(inputs: Inputs) -> None:
    if inputs.command is Command.BUILD:
        if inputs.channel == MANAGED_CHANNEL:
            raise InputError(
                "channel",
                "'latest' is managed by HCP Packer and cannot be a target",
                fix="use your own channel, e.g. dev.",
            )
        if not inputs.template.exists():
            raise InputError(
                "template",
                f"'{inputs.template_input}' does not exist",
                fix="give the path of a .pkr.hcl file or a directory holding them, "
                "relative to the repository.",
            )
        if not inputs.working_directory.is_dir():
            raise InputError(
                "working-directory",
                "is not a directory",
                fix="give a directory relative to the repository.",
            )
        for path in inputs.var_files:
            if not path.is_file():
                raise InputError(
                    "var-files",
                    f"'{path}' is not a readable file",
                    fix="list existing .pkrvars.hcl files, one per line.",
                )
    elif inputs.command is Command.FIND:
        _check_find(inputs)
    elif inputs.command is Command.STATUS:
        if inputs.bucket is None:
            raise InputError("bucket", "is required for status", fix="set bucket.")
    else:
        _check_channel_command(inputs)
    if inputs.github_deployment and inputs.github_token is None:
        raise InputError(
            "github-token",
            "is empty while github-deployment is true",
            fix="pass github-token: ${{ github.token }} and grant permissions: deployments: write.",
        )


def _check_channel_command(inputs: Inputs) -> None:
    command = inputs.command.value
    if inputs.bucket is None:
        raise InputError("bucket", f"is required for {command}", fix="set bucket.")
    if inputs.command in {Command.PROMOTE, Command.ROLLBACK}:
        if inputs.channel is None:
            raise InputError(
                "channel",
                f"is required for {command}: the channel to change",
                fix="set channel, e.g. staging.",
            )
        if inputs.channel == MANAGED_CHANNEL:
            raise InputError(
                "channel",
                "'latest' is managed by HCP Packer and cannot be a target",
                fix="use your own channel, e.g. production.",
            )
    if inputs.command is Command.PROMOTE:
        if inputs.from_channel is None and inputs.version_fingerprint is None:
            raise InputError(
                "from-channel",
                "promote needs from-channel or version-fingerprint",
                fix="set from-channel (e.g. dev) and/or version-fingerprint.",
            )
        if inputs.from_channel == inputs.channel:
            raise InputError(
                "from-channel",
                "is the same channel as the target",
                fix="promote from another channel, e.g. dev -> staging.",
            )
    elif inputs.command in {Command.LOOKUP, Command.REVOKE}:
        if inputs.channel is None and inputs.version_fingerprint is None:
            raise InputError(
                "channel", f"{command} needs channel or version-fingerprint", fix="set one of them."
            )
        if inputs.channel is not None and inputs.version_fingerprint is not None:
            raise InputError(
                "version-fingerprint",
                f"cannot be combined with channel for {command}",
                fix="set only one of them.",
            )


def _check_find(inputs: Inputs) -> None:
    value = inputs.artifact_id
    if value is None:
        raise InputError(
            "artifact-id",
            "is required for find",
            fix="set artifact-id to the image's id, e.g. an AMI ID (ami-0123456789abcdef0).",
        )
    if not ARTIFACT_ID_RE.fullmatch(value):
        raise InputError(
            "artifact-id",
            "contains spaces or control characters",
            fix="give the artifact's id exactly as the cloud shows it.",
        )
    if inputs.platform == "aws" and not AMI_RE.fullmatch(value):
        raise InputError(
            "artifact-id",
            f"'{value}' is not an AMI ID (ami- and 8 or 17 hexadecimal digits)",
            fix="give an AMI ID, or set platform to the builder's platform (e.g. azure, gce) "
            "for other ids.",
        )
