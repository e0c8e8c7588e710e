"""Run the built image the way the GitHub Actions runner does, and judge only what it would see.

Recipe and sources: ../shared/docs/github-actions.md, "How the runner runs a Docker action"
(actions/runner v2.336.0) and "Running the image the way the runner does" (H1-H4):

- host layout: `$W/_temp/{_github_home,_github_workflow,_runner_file_commands}`, `$W/$R/$R`;
- environment in the runner's order (user env, INPUT_* for *every* declared input, HOME,
  GITHUB_*, RUNNER_*, ACTIONS_*), then prefix-only path translation of every value, then
  GITHUB_ACTIONS/CI;
- mounts home, workflow, file_commands, workspace, and `/github/runner_temp` only for runners
  ≥ 2.331; workdir /github/workspace; root; the image's own ENTRYPOINT, read from its config;
- cancellation: SIGINT to the container's PID 1 (tini), 7.5 s, SIGTERM, 2.5 s, kill the client.
  What the runner "saw" is what reached its pipes before the client ended, and the outputs and
  summary files at that moment.

The emulator and the fake GitHub listen on a non-loopback address (the container is on
Docker's bridge network on GitHub; here buildah shares the host's network, so loopback would
work and hide that mistake: the harness refuses loopback endpoints).

    python -m tests.runner_harness IMAGE        (run by .ci/runner-harness)
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hcp_action.emulator import Emulator
from tests.fake_github import FakeGitHub
from tests.helpers import JENKINS_TEMPLATE, SHA, parse_outputs

ROOT = Path(__file__).resolve().parents[1]
REPO = "acme/jenkins-images"
REPO_NAME = REPO.split("/")[1]
RUNNER_UID, RUNNER_GID = 1001, 118  # the hosted runner's `runner` user; self-hosted alike
SIGINT_GRACE, SIGTERM_GRACE = 7.5, 2.5  # ProcessInvoker.cs
WIP = "iam/project/p1/service-principal/sp1/workload-identity-provider/github"
FILE_COMMANDS = ("set_output", "step_summary", "set_env", "add_path", "save_state")


def host_address() -> str:
    """An address of this machine that is not loopback (what a bridged container would use)."""
    candidates = subprocess.run(
        ["hostname", "-I"], capture_output=True, text=True, check=False
    ).stdout.split()
    for raw in candidates:
        address = ipaddress.ip_address(raw)
        if address.version == 4 and not address.is_loopback:
            return raw
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("192.0.2.1", 9))  # no packet is sent for a UDP connect
        return str(probe.getsockname()[0])


def declared_inputs() -> dict[str, str]:
    """Every input of action.yml with the value the runner gives it when unset."""
    meta = yaml.safe_load((ROOT / "action.yml").read_text())
    values = {}
    for name, spec in meta["inputs"].items():
        default = str(spec.get("default") or "")
        values[name] = "ghs_fake_job_token_0123456789" if "github.token" in default else default
    return values


def image_entrypoint(image: str) -> list[str]:
    """The ENTRYPOINT from the image's own config (the runner passes no --entrypoint)."""
    raw = subprocess.run(
        ["buildah", "inspect", "--type", "image", image],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    entry = json.loads(raw)["OCIv1"]["config"].get("Entrypoint")
    assert isinstance(entry, list), f"image has no ENTRYPOINT: {entry!r}"
    assert entry, "image has an empty ENTRYPOINT"
    return [str(part) for part in entry]


@dataclass
class Layout:
    """H1: the runner's host directories for one step."""

    root: Path
    new_runner: bool = True

    def __post_init__(self) -> None:
        self.temp = self.root / "_temp"
        self.home = self.temp / "_github_home"
        self.workflow = self.temp / "_github_workflow"
        self.file_commands = self.temp / "_runner_file_commands"
        self.runner_workspace = self.root / REPO_NAME
        self.workspace = self.runner_workspace / REPO_NAME
        for directory in (self.home, self.workflow, self.file_commands, self.workspace):
            directory.mkdir(parents=True, exist_ok=True)
        (self.workflow / "event.json").write_text("{}")
        guid = uuid.uuid4()
        self.files = {name: self.file_commands / f"{name}_{guid}" for name in FILE_COMMANDS}
        for path in self.files.values():
            path.touch()
        (self.workspace / "jenkins.pkr.hcl").write_text(JENKINS_TEMPLATE)
        # The runner's user owns what it created; the container runs as root.
        for path in (self.root, *self.root.rglob("*")):
            os.chown(path, RUNNER_UID, RUNNER_GID)

    def mounts(self) -> list[tuple[Path, str]]:
        pairs = [
            (self.home, "/github/home"),
            (self.workflow, "/github/workflow"),
            (self.file_commands, "/github/file_commands"),
            (self.workspace, "/github/workspace"),
        ]
        if self.new_runner:
            pairs.insert(0, (self.temp, "/github/runner_temp"))
        return pairs

    def translations(self) -> list[tuple[str, str]]:
        """R5: the most recently added mapping is tried first."""
        pairs = [
            (str(self.workspace), "/github/workspace"),
            (str(self.file_commands), "/github/file_commands"),
            (str(self.workflow), "/github/workflow"),
            (str(self.home), "/github/home"),
        ]
        if self.new_runner:
            pairs.append((str(self.temp), "/github/runner_temp"))
        return list(reversed(pairs))

    def translate(self, value: str) -> str:
        for host, container in self.translations():
            if value == host or value.startswith(host + "/"):
                return container + value[len(host) :]
        return value

    def read(self, name: str) -> str:
        return self.files[name].read_text()


def runner_environment(
    layout: Layout,
    inputs: dict[str, str],
    user_env: dict[str, str],
    *,
    id_token: tuple[str, str] | None = None,
) -> dict[str, str]:
    """H2: the environment in the runner's order, every value translated."""
    env: dict[str, str] = dict(user_env)  # 1. env context (workflow/job/step env, GITHUB_ENV)
    declared = declared_inputs()
    unknown = set(inputs) - set(declared)
    assert not unknown, f"inputs not declared in action.yml: {unknown}"
    for name, default in declared.items():  # 3. every declared input
        env[f"INPUT_{name.upper()}"] = inputs.get(name, default)
    env["HOME"] = str(layout.home)  # 4.
    env.update(  # 5. the github context allowlist
        {
            "GITHUB_WORKSPACE": str(layout.workspace),
            "GITHUB_EVENT_PATH": str(layout.workflow / "event.json"),
            "GITHUB_OUTPUT": str(layout.files["set_output"]),
            "GITHUB_STEP_SUMMARY": str(layout.files["step_summary"]),
            "GITHUB_ENV": str(layout.files["set_env"]),
            "GITHUB_PATH": str(layout.files["add_path"]),
            "GITHUB_STATE": str(layout.files["save_state"]),
            "GITHUB_SHA": SHA,
            "GITHUB_REPOSITORY": REPO,
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_API_URL": "https://api.github.com",
            "GITHUB_RUN_ID": "4242",
            "GITHUB_RUN_ATTEMPT": "1",
        }
    )
    env.update(  # 6. the runner context
        {
            "RUNNER_TEMP": str(layout.temp),
            "RUNNER_WORKSPACE": str(layout.runner_workspace),
            "RUNNER_TOOL_CACHE": "/opt/hostedtoolcache",
            "RUNNER_OS": "Linux",
            "RUNNER_ARCH": "X64",
        }
    )
    env.update(  # 7. runtime variables
        {
            "ACTIONS_RUNTIME_URL": "https://pipelines.actions.example/",
            "ACTIONS_RUNTIME_TOKEN": "actions-runtime-token-0123456789",
        }
    )
    if id_token is not None:  # only with `permissions: id-token: write`
        env["ACTIONS_ID_TOKEN_REQUEST_URL"], env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = id_token
    env = {key: layout.translate(value) for key, value in env.items()}  # R5, every value
    env["GITHUB_ACTIONS"] = "true"
    env.setdefault("CI", "true")
    return env


@dataclass
class Seen:
    """What the runner received: lines (with arrival time) until the client ended."""

    lines: list[tuple[float, str, str]] = field(default_factory=list)  # (time, stream, text)
    exit_code: int | None = None
    killed: bool = False
    outputs: str = ""
    summary: str = ""
    signalled_at: float = 0.0

    def text(self) -> str:
        return "\n".join(line for _, _, line in self.lines)

    def errors(self) -> list[tuple[float, str]]:
        return [(t, line) for t, _, line in self.lines if line.startswith("::error")]


def _pump(stream: object, name: str, seen: Seen) -> None:
    for line in stream:  # type: ignore[attr-defined]
        seen.lines.append((time.monotonic(), name, line.rstrip("\n")))


def _tini_of(client: int) -> int | None:
    """H4: the container's init (tini), a descendant of the `buildah run` client."""
    parents: dict[int, int] = {}
    commands: dict[int, str] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            commands[int(entry.name)] = (entry / "cmdline").read_bytes().split(b"\0")[0].decode()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    for pid, command in commands.items():
        if not command.endswith("/tini"):
            continue
        ancestor = parents.get(pid, 0)
        while ancestor > 1:
            if ancestor == client:
                return pid
            ancestor = parents.get(ancestor, 0)
    return None


def run_step(
    image: str,
    layout: Layout,
    env: dict[str, str],
    *,
    command: list[str] | None = None,
    cancel_when: Callable[[], bool] | None = None,
) -> Seen:
    """H3 + H4: buildah run with the runner's mounts, workdir, user and entrypoint."""
    ctr = subprocess.run(
        ["buildah", "from", image], capture_output=True, text=True, check=True
    ).stdout.strip()
    args = ["buildah", "run", "--isolation", "chroot", "--workingdir", "/github/workspace"]
    for host, container in layout.mounts():
        args += ["-v", f"{host}:{container}"]
    for key, value in env.items():
        # The runner passes `-e KEY` (value from the client's env); buildah needs KEY=VALUE.
        args += ["-e", f"{key}={value}"]
    args += [ctr, "--", *(command or image_entrypoint(image))]
    seen = Seen()
    try:
        client = subprocess.Popen(
            args,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        pumps = [
            threading.Thread(target=_pump, args=(client.stdout, "out", seen), daemon=True),
            threading.Thread(target=_pump, args=(client.stderr, "err", seen), daemon=True),
        ]
        for pump in pumps:
            pump.start()
        if cancel_when is None:
            seen.exit_code = client.wait(timeout=300)
        else:
            deadline = time.monotonic() + 120
            while not cancel_when():
                assert time.monotonic() < deadline, "the moment to cancel never came"
                assert client.poll() is None, "the step ended before it could be cancelled"
                time.sleep(0.05)
            seen.exit_code, seen.killed = _cancel_like_the_runner(client, seen)
        for pump in pumps:
            pump.join(2 if seen.killed else 30)
        # ProcessFiles runs as soon as the handler returns.
        seen.outputs = layout.read("set_output")
        seen.summary = layout.read("step_summary")
        return seen
    finally:
        subprocess.run(["buildah", "rm", ctr], capture_output=True, check=False)


def _cancel_like_the_runner(client: subprocess.Popen[str], seen: Seen) -> tuple[int | None, bool]:
    tini = _tini_of(client.pid)
    assert tini is not None, "cannot find the container's tini"
    seen.signalled_at = time.monotonic()
    os.kill(tini, signal.SIGINT)
    try:
        return client.wait(timeout=SIGINT_GRACE), False
    except subprocess.TimeoutExpired:
        pass
    with contextlib.suppress(ProcessLookupError):
        os.kill(tini, signal.SIGTERM)
    try:
        return client.wait(timeout=SIGTERM_GRACE), False
    except subprocess.TimeoutExpired:
        # What the runner does; from here on nothing the action says reaches the user.
        end = time.monotonic()
        client.kill()
        client.wait()
        seen.lines = [entry for entry in seen.lines if entry[0] <= end]
        return None, True


# ---- scenarios -------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    passed: bool
    detail: str
    seconds: float


class Harness:
    def __init__(self, image: str, tmp: Path, emulator: Emulator, github: FakeGitHub) -> None:
        self.image = image
        self.tmp = tmp
        self.emulator = emulator
        self.github = github
        self.results: list[Result] = []
        self.notes: list[str] = []
        self.builds = 0

    def layout(self, name: str, *, new_runner: bool = True) -> Layout:
        return Layout(self.tmp / name, new_runner=new_runner)

    def hcp_env(self) -> dict[str, str]:
        env = self.emulator.env()
        for key in ("HCP_API_ADDRESS", "HCP_AUTH_URL"):
            host = env[key].split("://")[-1].rsplit(":", 1)[0]
            assert not ipaddress.ip_address(host).is_loopback, f"{key} is loopback: {env[key]}"
        env.pop("HCP_CLIENT_SECRET")  # passed as an input, as users do
        return env

    def secrets(self) -> list[str]:
        values = [
            self.emulator.client_secret or "",
            self.github.oidc_request_token,
            "actions-runtime-token-0123456789",
            "ghs_fake_job_token_0123456789",
            *self.emulator.tokens,
            *self.github.issued_jwts,
        ]
        return [v for v in values if len(v) >= 8]

    def check_common(self, seen: Seen, layout: Layout) -> list[str]:
        problems = []
        everything = "\n".join(
            [
                *(line for _, _, line in seen.lines if not line.startswith("::add-mask::")),
                seen.outputs,
                seen.summary,
            ]
        )
        leaked = [s[:6] + "…" for s in self.secrets() if s in everything]
        if leaked:
            problems.append(f"secrets in the log/outputs/summary: {leaked}")
        if "Traceback" in everything:
            problems.append("a traceback reached the log")
        if not seen.summary.strip():
            problems.append("no job summary")
        root_owned = [
            str(p.relative_to(layout.root))
            for base in (layout.workspace, layout.home)
            for p in base.rglob("*")
            if p.lstat().st_uid == 0
        ]
        if root_owned:
            problems.append(f"root-owned files left for the runner: {root_owned[:5]}")
        leftovers = [p.name for p in layout.temp.glob("hcp-packer-action-*")]
        if leftovers:
            problems.append(f"temporary files outlived the step: {leftovers}")
        return problems

    def packer_env_names(self, layout: Layout) -> set[str]:
        log = layout.home / "packer-sim.jsonl"
        names: set[str] = set()
        for line in log.read_text().splitlines() if log.exists() else []:
            names.update(json.loads(line).get("env_names", []))
        return names

    def scenario(self, name: str, body: Callable[[], list[str]]) -> None:
        started = time.monotonic()
        try:
            problems = body()
        except AssertionError as exc:
            problems = [f"harness: {exc}"]
        detail = "; ".join(problems) if problems else "ok"
        self.results.append(Result(name, not problems, detail, time.monotonic() - started))
        print(f"runner harness: {'PASS' if not problems else 'FAIL'} {name}: {detail}", flush=True)

    # -- the scenarios ------------------------------------------------------------------------

    def build_inputs(self, **extra: str) -> dict[str, str]:
        self.builds += 1
        return {
            "command": "build",
            "template": "jenkins.pkr.hcl",
            "channel": "dev",
            # A new version per scenario: a complete one would be reused without Packer.
            "version-fingerprint": f"harness-{self.builds}-{uuid.uuid4().hex[:8]}",
            "hcp-client-secret": self.emulator.client_secret or "",
            **extra,
        }

    def user_env(self, layout: Layout, **extra: str) -> dict[str, str]:
        return {
            **self.hcp_env(),
            "AWS_REGION": "us-west-2",
            # The simulator's own log, in the home mount so the host can read it.
            "PACKER_SIM_LOG": str(layout.home / "packer-sim.jsonl"),
            **extra,
        }

    def new_runner_build(self) -> list[str]:
        layout = self.layout("new-build")
        env = runner_environment(layout, self.build_inputs(), self.user_env(layout))
        seen = run_step(self.image, layout, env)
        problems = self.check_common(seen, layout)
        if seen.exit_code != 0:
            return [f"exit {seen.exit_code}: {seen.text()[-1500:]}", *problems]
        outputs = parse_outputs(seen.outputs)
        if not outputs.get("ami-id", "").startswith("ami-") or outputs.get("channel") != "dev":
            problems.append(f"outputs: {outputs}")
        names = self.packer_env_names(layout)
        forbidden = {
            n
            for n in names
            if n.startswith(("INPUT_", "ACTIONS_"))
            or n in {"GITHUB_TOKEN", "GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_STEP_SUMMARY"}
        }
        if not names:
            problems.append("Packer's environment was not recorded")
        if forbidden:
            problems.append(f"Packer inherited {sorted(forbidden)}")
        return problems

    def old_runner_oidc(self) -> list[str]:
        layout = self.layout("old-oidc", new_runner=False)
        inputs = self.build_inputs(
            **{"hcp-client-secret": "", "hcp-workload-identity-provider": WIP}
        )
        user = self.user_env(layout)
        user.pop("HCP_CLIENT_ID")
        token = (f"{self.github.url}/_apis/token?api-version=2.0", self.github.oidc_request_token)
        env = runner_environment(layout, inputs, user, id_token=token)
        if env["RUNNER_TEMP"] != str(layout.temp):
            return ["harness: old runner's RUNNER_TEMP was translated"]
        seen = run_step(self.image, layout, env)
        problems = self.check_common(seen, layout)
        if seen.exit_code != 0:
            problems.insert(0, f"exit {seen.exit_code}: {seen.text()[-1500:]}")
        exchanges = [
            r for r in self.emulator.registry_requests() if r["path"].endswith("/exchange-token")
        ]
        if len(exchanges) < 2:
            problems.append(f"{len(exchanges)} token exchanges (the action's and Packer's)")
        return problems

    def job_container_paths(self) -> list[str]:
        """A job with `container:`: hcp-auth-action ran in the job container and exported its
        `/__w/…` path; var-files are written with ${{ github.workspace }} on several lines."""
        layout = self.layout("job-container")
        for name in ("a", "b"):
            path = layout.workspace / f"{name}.pkrvars.hcl"
            path.write_text('aws_region = "us-east-1"\n')
            os.chown(path, RUNNER_UID, RUNNER_GID)
        cred = layout.workspace / "gha-creds-0123456789abcdef.json"
        cred.write_text(
            json.dumps(
                {
                    "scheme": "service_principal_creds",
                    "oauth": {
                        "client_id": self.emulator.client_id,
                        "client_secret": self.emulator.client_secret,
                    },
                }
            )
        )
        os.chown(cred, RUNNER_UID, RUNNER_GID)
        cred.chmod(0o640)
        host_ws = str(layout.workspace)  # ${{ github.workspace }} as the expression gives it
        inputs = self.build_inputs(
            **{
                "hcp-client-secret": "",
                "var-files": f"{host_ws}/a.pkrvars.hcl\n{host_ws}/b.pkrvars.hcl",
            }
        )
        user = self.user_env(layout, HCP_CRED_FILE=f"/__w/{REPO_NAME}/{REPO_NAME}/{cred.name}")
        user.pop("HCP_CLIENT_ID")
        env = runner_environment(layout, inputs, user)
        if not env["INPUT_VAR-FILES"].split("\n")[1].startswith(host_ws):
            return ["harness: the second var-files line was translated"]
        seen = run_step(self.image, layout, env)
        problems = self.check_common(seen, layout)
        if seen.exit_code != 0:
            problems.insert(0, f"exit {seen.exit_code}: {seen.text()[-1500:]}")
        return problems

    def bad_input(self) -> list[str]:
        layout = self.layout("bad-input")
        env = runner_environment(layout, self.build_inputs(channel="latest"), self.user_env(layout))
        before = len(self.emulator.registry_requests())
        seen = run_step(self.image, layout, env)
        problems = self.check_common(seen, layout)
        errors = seen.errors()
        if seen.exit_code != 2 or len(errors) != 1 or "channel" not in errors[0][1]:
            problems.append(f"exit {seen.exit_code}, errors {errors}")
        if len(self.emulator.registry_requests()) != before:
            problems.append("bad input reached the network")
        return problems

    def cancel(self, cleanup: float) -> list[str]:
        layout = self.layout(f"cancel-{cleanup:g}")
        user = self.user_env(layout, PACKER_SIM_SLEEP="60", PACKER_SIM_CLEANUP=f"{cleanup:g}")
        env = runner_environment(layout, self.build_inputs(), user)
        fingerprint_seen = len(self.emulator.registry_requests())

        def building() -> bool:
            return any(
                (r["body"] or {}).get("status") == "BUILD_RUNNING"
                for r in self.emulator.registry_requests()[fingerprint_seen:]
            )

        seen = run_step(self.image, layout, env, cancel_when=building)
        problems = self.check_common(seen, layout)
        errors = seen.errors()
        if len(errors) != 1 or "Cancelled" not in errors[0][1]:
            problems.append(f"the runner saw errors {[e for _, e in errors]}")
        else:
            delay = errors[0][0] - seen.signalled_at
            self.notes.append(
                f"cleanup {cleanup:g} s: ::error reached the runner {delay:.3f} s after SIGINT; "
                f"client {'killed at 10 s' if seen.killed else f'exited {seen.exit_code}'}"
            )
            if delay > 1.0:
                problems.append(f"::error came {delay:.2f} s after the signal (budget 1 s)")
        if "Cancelled" not in seen.summary:
            problems.append("no cancellation summary when the runner read it")
        if seen.outputs.strip():
            problems.append("outputs were written for a cancelled build")
        if not seen.killed and seen.exit_code != 130:
            problems.append(f"exit {seen.exit_code}, not 130")
        if cleanup > SIGINT_GRACE + SIGTERM_GRACE and not seen.killed:
            problems.append("the slow cleanup did not outlast the runner (harness too kind?)")
        cancelled = [
            r
            for r in self.emulator.registry_requests()[fingerprint_seen:]
            if (r["body"] or {}).get("status") == "BUILD_CANCELLED"
        ]
        if not cancelled:
            problems.append("Packer never marked the build CANCELLED")
        return problems

    def read_commands(self) -> list[str]:
        """`status` and `find` as workflow steps in the image: outputs (JSON text) written,
        a summary, nothing changed in the registry."""
        ami = "ami-0123456789abcdef0"
        self.emulator.seed(
            "status-ami",
            "status-1",
            "production",
            component="amazon-ebs.s",
            artifacts=(("us-east-1", ami),),
        )
        # The outputs exactly as the action writes them (compact JSON text).
        expected = [
            (
                {"command": "status", "bucket": "status-ami"},
                {
                    "channels": '{"latest":"status-1","production":"status-1"}',
                    "out-of-date-children": "[]",
                },
            ),
            (
                {"command": "find", "artifact-id": ami},
                {"bucket": "status-ami", "channels": '["latest","production"]', "revoked": "false"},
            ),
        ]
        problems: list[str] = []
        for given, wanted in expected:
            layout = self.layout(f"read-{given['command']}")
            inputs = {**given, "hcp-client-secret": self.emulator.client_secret or ""}
            env = runner_environment(layout, inputs, self.user_env(layout))
            writes = len(self.emulator.writes())
            seen = run_step(self.image, layout, env)
            problems += self.check_common(seen, layout)
            if seen.exit_code != 0:
                problems.append(f"{given['command']}: exit {seen.exit_code}: {seen.text()[-800:]}")
                continue
            outputs = parse_outputs(seen.outputs)
            problems += [
                f"{given['command']}: {key} = {outputs.get(key)!r}, expected {value!r}"
                for key, value in wanted.items()
                if outputs.get(key) != value
            ]
            if len(self.emulator.writes()) != writes:
                problems.append(f"{given['command']} wrote to the registry")
        return problems

    def cli_not_shadowed(self) -> list[str]:
        """`hcp-packer-action` inside the image must run the image's code, not a directory
        called hcp_action/ in the user's workspace (PYTHONSAFEPATH)."""
        layout = self.layout("cli")
        trap = layout.workspace / "hcp_action"
        trap.mkdir()
        (trap / "__init__.py").write_text("raise SystemExit('SHADOWED by the workspace')\n")
        (trap / "cli.py").write_text("raise SystemExit('SHADOWED by the workspace')\n")
        self.emulator.seed("jenkins-ha-ami", "cli-fingerprint-1", "staging")
        env = {
            **self.hcp_env(),
            "HCP_CLIENT_SECRET": self.emulator.client_secret or "",
            "GITHUB_WORKSPACE": "/github/workspace",
            "HOME": "/github/home",
        }
        command = [
            "hcp-packer-action",
            "lookup",
            "--bucket",
            "jenkins-ha-ami",
            "--channel",
            "staging",
            "--json",
        ]
        seen = run_step(self.image, layout, env, command=command)
        out = "\n".join(line for _, stream, line in seen.lines if stream == "out")
        if seen.exit_code != 0 or "SHADOWED" in seen.text():
            return [f"exit {seen.exit_code}: {seen.text()[-800:]}"]
        if json.loads(out).get("version-fingerprint") != "cli-fingerprint-1":
            return [f"unexpected CLI output {out[:300]}"]
        return []


def main(image: str) -> int:
    if shutil.which("buildah") is None:
        print("::error::runner harness FAILED: buildah is not installed")
        return 1
    address = host_address()
    with (
        tempfile.TemporaryDirectory(prefix="runner-harness-") as raw,
        Emulator(
            host=address, tls=True, client_id="harness-client", client_secret="harness-s3cret-xyz"
        ) as emulator,
        FakeGitHub(host=address) as github,
    ):
        harness = Harness(image, Path(raw), emulator, github)
        started = time.monotonic()
        harness.scenario(
            "runner >= 2.331, normal job, client secret: build to dev", harness.new_runner_build
        )
        harness.scenario(
            "runner < 2.331 (RUNNER_TEMP not mounted), OIDC build", harness.old_runner_oidc
        )
        harness.scenario(
            "job container: HCP_CRED_FILE /__w/..., var-files host form on line 2",
            harness.job_container_paths,
        )
        harness.scenario("bad input: one ::error, a summary, no request", harness.bad_input)
        harness.scenario("cancel, Packer cleanup 1 s", lambda: harness.cancel(1.0))
        harness.scenario(
            "cancel, Packer cleanup 15 s (runner kills the client)", lambda: harness.cancel(15.0)
        )
        harness.scenario("CLI in the image not shadowed by the workspace", harness.cli_not_shadowed)
        harness.scenario("status and find as workflow steps (read-only)", harness.read_commands)
        total = time.monotonic() - started
    print()
    print("| scenario | result | seconds |")
    print("|---|---|---|")
    for result in harness.results:
        print(
            f"| {result.name} | {'PASS' if result.passed else 'FAIL: ' + result.detail} | "
            f"{result.seconds:.1f} |"
        )
    for note in harness.notes:
        print(f"runner harness: {note}")
    failed = [r for r in harness.results if not r.passed]
    print(
        f"runner harness: {len(harness.results) - len(failed)}/{len(harness.results)} passed "
        f"in {total:.0f} s (emulator at {address}, not loopback)"
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
