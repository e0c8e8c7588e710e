"""`hcp-packer-action`: the action's commands for laptops, GitLab CI and Jenkins.

The options map onto the same INPUT_* mapping the action reads, so inputs are parsed and
validated by one code path (`inputs.parse`). Credentials and endpoints come from the same
HCP_* environment variables (and HCP_CRED_FILE) as the action and Packer.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from hcp_action import gitinfo

COMMANDS = ("build", "promote", "rollback", "revoke", "lookup")
READ_COMMANDS = ("status", "find")

EXAMPLES = {
    "build": """examples:
  hcp-packer-action build --template packer/jenkins-ha.pkr.hcl --channel dev
  hcp-packer-action build --template packer/ --var aws_region=eu-west-1 --json
  hcp-packer-action build --template packer/ --version-fingerprint release-2026-11 --dry-run""",
    "promote": """examples:
  hcp-packer-action promote --bucket jenkins-ha-ami --from-channel dev --channel staging
  hcp-packer-action promote --bucket jenkins-ha-ami --from-channel staging --channel production \\
      --version-fingerprint 0123456789ab-2b1f0e87bfe537269c2""",
    "rollback": """examples:
  hcp-packer-action rollback --bucket jenkins-ha-ami --channel production
  hcp-packer-action rollback --bucket jenkins-ha-ami --channel production \\
      --version-fingerprint 0123456789ab-2b1f0e87bfe537269c2""",
    "revoke": """examples:
  hcp-packer-action revoke --bucket jenkins-ha-ami --version-fingerprint FP --reason CVE-2026-1234
  hcp-packer-action revoke --bucket jenkins-ha-ami --channel production --reason CVE --force""",
    "lookup": """examples:
  hcp-packer-action lookup --bucket jenkins-ha-ami --channel production --region us-east-1
  hcp-packer-action lookup --bucket jenkins-ha-ami --channel dev --json | jq -r '."ami-id"'""",
    "status": """examples:
  hcp-packer-action status --bucket jenkins-ha-ami
  hcp-packer-action status --bucket base-ami --bucket jenkins-ha-ami
  hcp-packer-action status --bucket base-ami --json | jq -r '."out-of-date-children"[]'
  (several buckets: one table each; with --json one JSON object per line)""",
    "find": """examples:
  hcp-packer-action find ami-0123456789abcdef0
  hcp-packer-action find ami-0123456789abcdef0 --region eu-west-1 --json | jq '.revoked'
  hcp-packer-action find projects/acme/global/images/jenkins-v3 --platform gce""",
}
ENVIRONMENT = """environment:
  HCP_CLIENT_ID, HCP_CLIENT_SECRET   service principal (or HCP_CRED_FILE)
  HCP_ORGANIZATION_ID, HCP_PROJECT_ID  where the bucket lives (both required)
  HCP_API_ADDRESS, HCP_API_TLS, HCP_AUTH_URL, HCP_AUTH_TLS   endpoints (e.g. the emulator)
  NO_COLOR                           no colours even on a terminal
exit status: 0 success, 1 failure, 2 invalid input, 130 cancelled"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hcp-packer-action",
        description="Build images with Packer into HCP Packer; promote, roll back, revoke "
        "and look up versions on channels; show a bucket's status and ancestry; find which "
        "version an AMI belongs to.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="commands emulator and demo run the embedded HCP Packer emulator and the demo.\n"
        + ENVIRONMENT,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMANDS:
        p = sub.add_parser(
            name,
            help=f"{name} (see {name} --help)",
            formatter_class=argparse.RawDescriptionHelpFormatter,
            epilog=EXAMPLES[name] + "\n\n" + ENVIRONMENT,
        )
        p.add_argument("--bucket", help="HCP Packer bucket (build: default from the template)")
        p.add_argument("--channel", help="channel to change (build/promote/rollback) or to read")
        p.add_argument("--version-fingerprint", help="the version to build under or to select")
        p.add_argument("--region", help="region whose artifact is ami-id (default AWS_REGION)")
        p.add_argument("--component", help="the build (component_type) that fills ami-id")
        p.add_argument(
            "--json", action="store_true", help="print the outputs as one JSON object on stdout"
        )
        p.add_argument(
            "--dotenv",
            metavar="FILE",
            help="also write the outputs as NAME=VALUE lines (VERSION_FINGERPRINT=…, AMI_ID=…) "
            "for GitLab's dotenv reports or Jenkins' readProperties",
        )
        if name != "lookup":
            p.add_argument("--dry-run", action="store_true", help="read only; show the plan")
        if name == "build":
            p.add_argument("--template", default=".", help="template file or directory")
            p.add_argument("--working-directory", default=".", help="where Packer runs")
            p.add_argument(
                "--var",
                action="append",
                default=[],
                metavar="NAME=VALUE",
                help="a Packer variable (repeatable)",
            )
            p.add_argument(
                "--var-file",
                action="append",
                default=[],
                metavar="PATH",
                help="a Packer variable file (repeatable)",
            )
            p.add_argument("--wait-timeout", help="seconds to wait for the registry (600)")
        if name in {"build", "promote"}:
            p.add_argument(
                "--create-channel",
                action=argparse.BooleanOptionalAction,
                default=True,
                help="create a missing target channel (default: yes)",
            )
        if name == "promote":
            p.add_argument("--from-channel", help="source channel")
        if name == "revoke":
            p.add_argument("--reason", help="the revocation message")
            p.add_argument(
                "--force",
                action="store_true",
                help="revoke even while channels still hold the version",
            )
            p.add_argument(
                "--skip-descendants",
                action="store_true",
                help="do not let versions built from this one inherit the revocation",
            )
    for name, text in (
        ("status", "every channel of buckets, incomplete versions, ancestry (read-only)"),
        ("find", "which bucket/version/channels hold an artifact, e.g. an AMI (read-only)"),
    ):
        p = sub.add_parser(
            name,
            help=f"{text} (see {name} --help)",
            formatter_class=argparse.RawDescriptionHelpFormatter,
            epilog=EXAMPLES[name] + "\n\n" + ENVIRONMENT,
        )
        if name == "status":
            p.add_argument("--bucket", action="append", default=[], help="a bucket (repeatable)")
        else:
            p.add_argument("artifact_id", nargs="?", metavar="ARTIFACT_ID", help="e.g. an AMI ID")
            p.add_argument("--artifact-id", dest="artifact_id_option", help="same as ARTIFACT_ID")
            p.add_argument("--region", help="only this region (default: any)")
            p.add_argument("--platform", help="the artifact's platform (default: aws)")
        p.add_argument(
            "--json", action="store_true", help="print the outputs as one JSON object on stdout"
        )
        p.add_argument("--dotenv", metavar="FILE", help="also write the outputs as NAME=VALUE")
    for name, text in (
        ("emulator", "run the HCP Packer registry emulator"),
        ("demo", "run the demo: build to dev, then lookup, on the emulator"),
    ):
        sub.add_parser(name, help=text, add_help=False)
    return parser


def _workspace(cwd: Path) -> Path:
    """The repository's top level (fingerprints use its HEAD), else the current directory."""
    top = gitinfo.toplevel(cwd)
    return Path(top) if top else cwd


def to_environ(args: argparse.Namespace, base: Mapping[str, str], cwd: Path) -> dict[str, str]:
    """The INPUT_* mapping the action would receive for these options."""
    environ = {k: v for k, v in base.items() if not k.startswith("INPUT_")}
    workspace = _workspace(cwd)
    environ["GITHUB_WORKSPACE"] = str(workspace)

    def rel(path: str) -> str:
        # Paths are given relative to where the command runs; the action reads them relative
        # to the workspace (and refuses paths outside it).
        full = (cwd / path).resolve()
        return os.path.relpath(full, workspace)

    values: dict[str, str] = {"command": args.command}
    for option in (
        "bucket",
        "channel",
        "version_fingerprint",
        "region",
        "component",
        "from_channel",
        "reason",
        "wait_timeout",
        "platform",
    ):
        value = getattr(args, option, None)
        if value is not None:
            values[option.replace("_", "-")] = value
    if args.command == "find":
        values["artifact-id"] = args.artifact_id or args.artifact_id_option or ""
    if args.command == "build":
        values["template"] = rel(args.template)
        values["working-directory"] = rel(args.working_directory)
        values["variables"] = "\n".join(args.var)
        values["var-files"] = "\n".join(rel(p) for p in args.var_file)
    for flag in ("dry_run", "force", "create_channel", "skip_descendants"):
        if hasattr(args, flag):
            values[flag.replace("_", "-")] = "true" if getattr(args, flag) else "false"
    environ.update({f"INPUT_{k.upper()}": v for k, v in values.items()})
    return environ


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "emulator":
        from hcp_action.emulator.__main__ import main as emulator_main  # noqa: PLC0415

        return emulator_main(argv[1:])
    if argv and argv[0] == "demo":
        from hcp_action.demo import main as demo_main  # noqa: PLC0415

        return demo_main()
    parser = _parser()
    args = parser.parse_args(argv)
    for option in ("var", "var_file"):
        for value in getattr(args, option, None) or ():
            if "\n" in value or "\r" in value:
                # One option is one variable: joined into the multi-line input, a line break
                # would turn it into two (the second chosen by whoever wrote the value).
                parser.error(
                    f"--{option.replace('_', '-')} {value.split('=')[0]}=…: a value "
                    "cannot contain a line break; use a var file for multi-line values"
                )
    from hcp_action.__main__ import run  # noqa: PLC0415
    from hcp_action.console import Console  # noqa: PLC0415
    from hcp_action.errors import Cancelled  # noqa: PLC0415

    if args.command == "find" and args.artifact_id and args.artifact_id_option:
        parser.error("give the artifact id once: ARTIFACT_ID or --artifact-id")
    buckets = args.bucket if args.command == "status" else [getattr(args, "bucket", None)]
    if args.command == "status" and len(buckets) > 1 and args.dotenv:
        parser.error("--dotenv takes one bucket: one file cannot hold two buckets' outputs")
    code = 0
    for index, bucket in enumerate(buckets or [None]):
        args.bucket = bucket
        environ = to_environ(args, os.environ, Path.cwd())
        # stdout is the result alone, also inside a GitHub `run:` step (commands go to stderr).
        reporter = Console.for_terminal(environ, json_output=args.json)
        if args.dotenv:
            reporter.dotenv = Path(args.dotenv)
        if index and not args.json:
            print(flush=True)  # one table per bucket, a blank line between them
        status = run(environ, reporter, colors=reporter.colors)
        if status == Cancelled.exit_code:
            return status
        code = max(code, status)
    return code


if __name__ == "__main__":
    sys.exit(main())
