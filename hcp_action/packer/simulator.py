"""A stand-in for the `packer` binary, for tests and for the demo where real Packer is absent.

It reads the environment real Packer reads and replays Packer's documented HCP call sequence
(docs/packer-hcp.md §1): token, bucket upsert, GetVersion → code 10 → CreateVersion, builds per
source, RUNNING, DONE with artifacts (or FAILED/CANCELLED), the real "is complete" error.

Knobs (environment):
  PACKER_SIM_LOG=FILE      append one JSON line per invocation (argv, cwd, HCP env, no secrets)
  PACKER_SIM_SLEEP=SEC     how long each build "runs"
  PACKER_SIM_ECHO=TEXT     printed by each build, as a provisioner's output would be
  PACKER_SIM_HEARTBEAT=SEC  RUNNING heartbeat interval (real Packer: 120 s)
  PACKER_SIM_CLEANUP=SEC   how long cleanup takes after a cancellation (a cloud builder
                           terminating its instance takes tens of seconds)
  PACKER_SIM_FAIL=MODE     init | build (builder error, exit 1) | incomplete (exit 0, builds left
                           RUNNING) | no-artifacts (builder ok, nothing HCP can take, exit 1)
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import sys
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn
from urllib.parse import quote, urlsplit

import httpx

from hcp_action import gitinfo
from hcp_action.errors import InputError
from hcp_action.packer.template import Source, TemplateInfo, literal, read

VERSION = "1.16.0"
AGENT = f"packer/{VERSION} (hcp-packer-action simulator)"
_NAME_RE = re.compile(r"^[a-zA-Z0-9-]{3,36}$")
_VAR_REF = re.compile(r"^\$\{var\.([A-Za-z0-9_-]+)\}$")


class SimError(Exception):
    pass


def say(message: str, *, machine: bool, target: str = "", kind: str = "ui,say") -> None:
    if machine:
        escaped = message.replace(",", "%!(PACKER_COMMA)").replace("\n", "\\n")
        print(f"{int(time.time())},{target},{kind},{escaped}", flush=True)
    else:
        print(message, flush=True)


def _log_invocation(argv: list[str], env: Mapping[str, str]) -> None:
    path = env.get("PACKER_SIM_LOG")
    if not path:
        return
    keys = (
        "HCP_PACKER_BUCKET_NAME",
        "HCP_PACKER_BUILD_FINGERPRINT",
        "HCP_ORGANIZATION_ID",
        "HCP_PROJECT_ID",
        "HCP_API_ADDRESS",
        "HCP_AUTH_URL",
        "CHECKPOINT_DISABLE",
        "HCP_PACKER_REGISTRY",
        "HCP_CRED_FILE",
    )
    record = {
        "argv": argv,
        "cwd": str(Path.cwd()),
        "time": time.time(),
        "env": {k: env[k] for k in keys if k in env},
        "env_names": sorted(env),  # names only: which variables Packer inherited
        "has_client_secret": bool(env.get("HCP_CLIENT_SECRET")),
        "has_github_token": bool(env.get("PACKER_GITHUB_API_TOKEN")),
    }
    with Path(path).open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(record) + "\n")


# hcp-sdk-go auth/workload/url.go: GET with context.WithTimeout(ctx, time.Second), no retry.
URL_SOURCE_TIMEOUT = 1.0


def _subject_token(workload: dict[str, Any]) -> str:
    """hcp-sdk-go auth/workload: exactly one source; json needs a pointer, value refuses one;
    a url body is not trimmed, a file is."""
    kinds = [k for k in ("file", "token", "env", "url", "aws") if workload.get(k)]
    if len(kinds) != 1:
        raise SimError("failed to get credential source: exactly one source must be set")
    source = workload[kinds[0]]
    format_type = source.get("format_type") or "value"
    pointer = source.get("subject_cred_pointer") or ""
    if format_type == "value" and pointer:
        raise SimError("subject credential pointer must not be set for format type value")
    if format_type == "json" and not pointer:
        raise SimError("subject credential pointer must be set for format type json")
    if kinds[0] == "url":
        try:
            answer = httpx.get(
                source["url"], headers=source.get("headers") or {}, timeout=URL_SOURCE_TIMEOUT
            )
        except httpx.TimeoutException:
            raise SimError(
                f'failed to get token from url source: Get "{source["url"].split("?")[0]}": '
                "context deadline exceeded"
            ) from None
        if answer.status_code != httpx.codes.OK:
            raise SimError(f"failed to get token from url source: status {answer.status_code}")
        text = answer.text
    elif kinds[0] == "file":
        text = Path(source["path"]).read_text(encoding="utf-8").strip()
    elif kinds[0] == "env":
        text = os.environ.get(source.get("var", ""), "")
    elif kinds[0] == "token":
        text = source["token"]
    else:
        raise SimError("aws workload sources are not simulated")
    if format_type == "json":
        value: Any = json.loads(text)
        for key in pointer.lstrip("/").split("/"):
            value = value[key]
        if not isinstance(value, str):
            raise SimError("subject credential pointer does not point at a string")
        text = value
    return str(text)


class Hcp:
    """Just enough of hcp-sdk-go: endpoints from HCP_*, a token from client credentials or an
    HCP_CRED_FILE (service principal, or workload identity with a url/file/token/env source).
    As the SDK: the auth URL must be https (config/hcp.go validate), the workload exchange is
    always https (auth/workload/provider.go), no retry anywhere."""

    def __init__(self, env: Mapping[str, str]) -> None:
        address = env.get("HCP_API_ADDRESS", "api.cloud.hashicorp.com:443")
        scheme = "http" if env.get("HCP_API_TLS") == "disabled" else "https"
        auth = urlsplit(env.get("HCP_AUTH_URL") or "https://auth.idp.hashicorp.com")
        if not auth.hostname:
            raise SimError(f"{_CLIENT_ERROR}the auth URL has to be non-empty")
        if auth.scheme != "https":
            raise SimError(f"{_CLIENT_ERROR}the auth URL has to use https at its scheme")
        self.org = env["HCP_ORGANIZATION_ID"]
        self.project = env["HCP_PROJECT_ID"]
        verify = env.get("HCP_API_TLS") != "insecure"
        self.http = httpx.Client(
            base_url=f"{scheme}://{address}",
            verify=verify,
            timeout=30,
            headers={"X-HCP-Source-Channel": f"packer/{VERSION} simulated", "User-Agent": AGENT},
        )
        client_id, secret = env.get("HCP_CLIENT_ID", ""), env.get("HCP_CLIENT_SECRET", "")
        workload: dict[str, Any] = {}
        if not (client_id and secret):
            cred = _cred_file(env)
            if cred.get("scheme") == "workload":
                workload = cred.get("workload") or {}
            else:
                oauth = cred.get("oauth") or {}
                client_id, secret = oauth.get("client_id", ""), oauth.get("client_secret", "")
        if workload:
            provider = workload.get("provider_resource_name") or ""
            if not provider:
                raise SimError("workload identity provider resource name must be set")
            # Always https, whatever HCP_API_TLS says, with the API's TLS verification.
            token = httpx.post(
                f"https://{address}/2019-12-10/{provider}/exchange-token",
                json={"jwt_token": _subject_token(workload)},
                verify=verify,
                timeout=10,
                headers={"User-Agent": AGENT},
            )
            if token.status_code != httpx.codes.OK:
                raise SimError(
                    f"{_TOKEN_ERROR}exchange token status code {token.status_code}: {token.text}"
                )
        else:
            token = httpx.post(
                f"https://{auth.netloc}/oauth2/token",
                auth=(quote(client_id, safe=""), quote(secret, safe="")),
                data={
                    "grant_type": "client_credentials",
                    "audience": "https://api.hashicorp.cloud",
                },
                verify=env.get("HCP_AUTH_TLS") != "insecure",
                timeout=30,
                headers={"User-Agent": AGENT},
            )
            if token.status_code != httpx.codes.OK:
                raise SimError(f"{_TOKEN_ERROR}oauth2: cannot fetch token: {token.status_code}")
        self.http.headers["Authorization"] = f"Bearer {token.json()['access_token']}"
        self.base = f"/packer/2023-01-01/organizations/{self.org}/projects/{self.project}"
        self.lock = threading.Lock()

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
        with self.lock:  # builds run concurrently; one client, as the SDK shares one
            response = self.http.request(method, self.base + path, json=body)
        data = response.json() if response.content else {}
        return response.status_code, data

    def must(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        code, data = self.call(method, path, body)
        if code != httpx.codes.OK:  # a 2xx other than 200 is an error too (the SDK's rule)
            raise SimError(f"HCP: {method} {path}: [{code}] {json.dumps(data)}")
        return data


_CLIENT_ERROR = "HCP: populating version failed: failed to create HCP client: invalid config: "
_TOKEN_ERROR = "HCP: populating version failed: failed to get token: "  # noqa: S105 - text


def _cred_file(env: Mapping[str, str]) -> dict[str, Any]:
    default = Path(env.get("HOME", "~"), ".config/hcp/cred_file.json")
    path = Path(env.get("HCP_CRED_FILE") or default)
    try:
        data = json.loads(path.expanduser().read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise SimError(f"{_CLIENT_ERROR}failed to read credential file: {exc}") from None
    if not isinstance(data, dict):
        raise SimError(f"{_CLIENT_ERROR}credential file is not a JSON object")
    return data


def _parse_build_args(args: list[str]) -> tuple[dict[str, str], list[Path], bool, Path]:
    variables: dict[str, str] = {}
    var_files: list[Path] = []
    machine = False
    rest: list[str] = []
    it = iter(args)
    for arg in it:
        if arg == "-machine-readable":
            machine = True
        elif arg in {"-var", "-var-file"}:
            value = next(it, "")
            if arg == "-var":
                name, _, val = value.partition("=")
                variables[name] = val
            else:
                var_files.append(Path(value))
        elif arg.startswith("-var="):
            name, _, val = arg[5:].partition("=")
            variables[name] = val
        elif arg.startswith("-var-file="):
            var_files.append(Path(arg[10:]))
        elif arg.startswith("-"):
            continue  # -color=false, -force, -on-error=…: accepted, no effect here
        else:
            rest.append(arg)
    if len(rest) != 1:
        raise SimError("build requires exactly one template path")
    return variables, var_files, machine, Path(rest[0])


def _resolve(value: Any, variables: Mapping[str, Any]) -> list[str]:
    """Literal strings, lists of them, or `${var.x}`, resolved as far as the simulator can."""
    if isinstance(value, list):
        return [s for v in value for s in _resolve(v, variables)]
    text = literal(value)
    if text is not None:
        return [text]
    match = _VAR_REF.fullmatch(str(value))
    if match and match.group(1) in variables:
        return _resolve(variables[match.group(1)], variables)
    return []


def _artifacts(source: Source, variables: Mapping[str, Any]) -> tuple[str, list[dict[str, str]]]:
    if source.type == "null":
        return "null", [{"external_identifier": "Null", "region": "null"}]
    if source.type == "amazon-ebs":
        regions = _resolve(source.body.get("region"), variables) or ["us-east-1"]
        for extra in _resolve(source.body.get("ami_regions"), variables):
            if extra not in regions:
                regions.append(extra)
        return "aws", [
            {"external_identifier": f"ami-{secrets.token_hex(9)[:17]}", "region": r}
            for r in regions
        ]
    if source.type == "file":
        target = (_resolve(source.body.get("target"), variables) or ["artifact"])[0]
        return "packer.file", [
            {"external_identifier": Path(target).name, "region": str(Path(target).parent)}
        ]
    region = (_resolve(source.body.get("region"), variables) or ["global"])[0]
    return source.type, [
        {"external_identifier": f"{source.type}-{secrets.token_hex(6)}", "region": region}
    ]


def _variables(
    info: TemplateInfo, cli: dict[str, str], files: list[Path], env: Mapping[str, str]
) -> dict[str, Any]:
    import hcl2  # noqa: PLC0415

    values: dict[str, Any] = dict(info.variable_defaults)
    values.update({k[8:]: f'"{v}"' for k, v in env.items() if k.startswith("PKR_VAR_")})
    for file in files:
        with file.open(encoding="utf-8") as handle:
            values.update(dict(hcl2.load(handle).items()))
    values.update({k: f'"{v}"' for k, v in cli.items()})
    return values


def _metadata(env: Mapping[str, str], variables: Mapping[str, str], template: Path) -> Any:
    """types.metadata_store.go Gather: packer{version,plugins,options,os}, vcs, cicd; absent
    parts are JSON null. CI order: Jenkins, GitHub, GitLab."""
    cicd: dict[str, Any] | None = None
    if env.get("JENKINS_URL"):
        cicd = {"type": "jenkins", "details": {"JENKINS_URL": env["JENKINS_URL"]}}
    elif env.get("GITHUB_ACTIONS"):
        keys = ("REPOSITORY", "REPOSITORY_ID", "SHA", "REF", "ACTOR", "ACTOR_ID")
        details = {f"GITHUB_{k}": env.get(f"GITHUB_{k}", "") for k in keys}
        details |= {f"GITHUB_{k}": env.get(f"GITHUB_{k}", "") for k in ("EVENT_NAME", "JOB")}
        details["GITHUB_WORKFLOW_URL"] = (
            f"{env.get('GITHUB_SERVER_URL', '')}/{env.get('GITHUB_REPOSITORY', '')}"
            f"/actions/runs/{env.get('GITHUB_RUN_ID', '')}"
        )
        cicd = {"type": "github-actions", "details": details}
    elif env.get("GITLAB_CI"):
        cicd = {"type": "gitlab", "details": {"CI_COMMIT_SHA": env.get("CI_COMMIT_SHA", "")}}
    commit = gitinfo.head(Path.cwd())
    vcs = {"type": "git", "details": {"commit": commit}} if commit else None
    uname = os.uname()
    return {
        "packer": {
            "version": VERSION,
            "plugins": None,
            "options": {"vars": sorted(variables), "path": str(template)},
            "os": {
                "type": sys.platform,
                "details": {"arch": uname.machine, "version": uname.release},
            },
        },
        "vcs": vcs,
        "cicd": cicd,
    }


@dataclass
class _Job:
    """One build's whole context, as Packer's goroutine for it has it."""

    hcp: Hcp
    path: str  # …/versions/{fp}/builds/{id}
    build: dict[str, Any]
    source: Source
    values: Mapping[str, Any]
    bucket: str
    info: TemplateInfo
    git_sha: str
    metadata: Any
    errors: list[str]
    data: _DataSources


class Run:
    """One `packer build` with HCP: builds in parallel, heartbeats, the failure table and
    cancellation of Packer 1.16.0 (docs/packer-hcp.md V2-V7)."""

    def __init__(self, env: Mapping[str, str], machine: bool) -> None:
        self.env = env
        self.machine = machine
        self.run_uuid = str(uuid.uuid4())
        self.cancelled = threading.Event()
        self.out_lock = threading.Lock()
        self.hcp: Hcp | None = None

    def say(self, message: str, target: str = "") -> None:
        with self.out_lock:
            say(message, machine=self.machine, target=target)

    def error(self, message: str, target: str = "") -> None:
        with self.out_lock:
            say(message, machine=self.machine, target=target, kind="ui,error")

    def build(self, template: Path, variables: dict[str, str], var_files: list[Path]) -> int:
        try:
            info = read(template)
        except InputError as exc:
            raise SimError(str(exc)) from None
        registry_env = self.env.get("HCP_PACKER_REGISTRY")
        explicitly_off = registry_env is not None and registry_env.lower() in {"0", "off"}
        enabled = not explicitly_off and (
            info.hcp_enabled
            or bool(self.env.get("HCP_PACKER_BUCKET_NAME"))  # non-empty only (hasEnvVar)
            or registry_env is not None  # present, any other value, even empty
        )
        if not enabled:
            self.say("simulated packer: HCP Packer registry disabled; nothing to publish")
            return 0
        if info.build_count != 1:
            raise SimError(
                "Error: Multiple build blocks" if info.build_count > 1 else "Error: no build block"
            )
        values = _variables(info, variables, var_files, self.env)
        default_cred = Path(self.env.get("HOME", "~"), ".config/hcp/cred_file.json").expanduser()
        has_auth = (
            bool(self.env.get("HCP_CLIENT_ID") and self.env.get("HCP_CLIENT_SECRET"))
            or (bool(self.env.get("HCP_CRED_FILE")) and Path(self.env["HCP_CRED_FILE"]).exists())
            or default_cred.exists()
        )
        if not has_auth:
            raise SimError("Error: HCP authentication information required")
        bucket = self.env.get("HCP_PACKER_BUCKET_NAME") or info.bucket_name or ""
        if not bucket:
            raise SimError("Error: Bucket name required")
        if not self.env.get("HCP_PACKER_BUCKET_NAME") and not _NAME_RE.fullmatch(bucket):
            raise SimError(f"Error: bucket name {bucket!r} is invalid")
        fingerprint = self.env.get("HCP_PACKER_BUILD_FINGERPRINT") or uuid.uuid4().hex[:26]
        self.say(f'Tracking build on HCP Packer with fingerprint "{fingerprint}"')

        hcp = self.hcp = Hcp(self.env)
        # Data sources are evaluated with the template, before the registry is touched.
        sources_read = _data_sources(hcp, template)
        b = f"/buckets/{quote(bucket, safe='')}"
        v = f"{b}/versions/{quote(fingerprint, safe='')}"
        tracked = self._populate(hcp, info, bucket, fingerprint)
        if self.cancelled.is_set():  # the context-aware calls fail: nothing is started
            raise SimError("Error: HCP: populating version failed: context canceled")
        code, data = hcp.call("GET", f"/enforced_blocks/bucket/{quote(bucket, safe='')}")
        if code != httpx.codes.OK and data.get("code") not in {5, 12}:
            raise SimError(f"Error: HCP: fetching enforced provisioners failed: {json.dumps(data)}")

        labels_git = gitinfo.head(template if template.is_dir() else template.parent)
        metadata = _metadata(self.env, variables, template)
        sources = {s.component_type: s for s in info.sources}
        threads: list[threading.Thread] = []
        errors: list[str] = []
        for component, source in sources.items():
            build = tracked.get(component)
            if build is None or build.get("status") == "BUILD_DONE" or build.get("artifacts"):
                self.say(f'skipping already done build "{component}"')
                continue
            job = _Job(
                hcp,
                f"{v}/builds/{build['id']}",
                build,
                source,
                values,
                bucket,
                info,
                labels_git,
                metadata,
                errors,
                sources_read,
            )
            thread = threading.Thread(target=self._run_one, args=(job,), name=component)
            threads.append(thread)
            thread.start()
        while any(t.is_alive() for t in threads):
            for thread in threads:
                thread.join(0.1)  # short joins: the main thread stays free for signals
        if self.cancelled.is_set():
            self.say("Cleanly cancelled builds after being interrupted.")
            return 1
        return 1 if errors else 0

    def _populate(
        self, hcp: Hcp, info: TemplateInfo, bucket: str, fingerprint: str
    ) -> dict[str, dict[str, Any]]:
        b = f"/buckets/{quote(bucket, safe='')}"
        code, data = hcp.call("GET", b)
        wanted = {
            k: v
            for k, v in (("description", info.description), ("labels", info.bucket_labels))
            if v
        }
        if code != httpx.codes.OK and data.get("code") == 5:
            hcp.must("PUT", "/buckets", {"name": bucket, **wanted})
        elif code != httpx.codes.OK:
            raise SimError(f"Error: HCP: populating version failed: {json.dumps(data)}")
        elif (
            data["bucket"].get("description", "") != info.description
            or (data["bucket"].get("labels") or {}) != info.bucket_labels
        ):
            hcp.must("PATCH", b, {**wanted, "platforms": None})

        v = f"{b}/versions/{quote(fingerprint, safe='')}"
        code, data = hcp.call("GET", v)
        if code != httpx.codes.OK:
            # Packer keys on the text of the error: only code 10 means "create it".
            if not re.search(r'[Cc]ode"?:\s*10\b', json.dumps(data)):
                raise SimError(f"Error: HCP: populating version failed: {json.dumps(data)}")
            hcp.must("POST", f"{b}/versions", {"fingerprint": fingerprint, "template_type": "HCL2"})
        elif data["version"].get("name", "v0") != "v0":
            raise SimError(
                "Error: HCP: populating version failed\n\nThe version associated to the "
                f"fingerprint {fingerprint} is complete. If you wish to add a new build to this "
                "bucket a new version must be created by changing the fingerprint."
            )
        listed = hcp.must("GET", f"{v}/builds").get("builds") or []
        wanted_components = {s.component_type for s in info.sources}
        tracked = {
            x["component_type"]: x for x in listed if x["component_type"] in wanted_components
        }
        for component in sorted(wanted_components - set(tracked)):
            code, data = hcp.call(
                "POST",
                f"{v}/builds",
                {
                    "artifacts": None,
                    "component_type": component,
                    "packer_run_uuid": self.run_uuid,
                    "status": "BUILD_UNSET",
                },
            )
            if code == httpx.codes.OK:
                tracked[component] = data["build"]
            elif data.get("code") != 6:  # 6: a concurrent run made it; left untracked (E6)
                raise SimError(f"Error: HCP: populating version failed: {json.dumps(data)}")
        return tracked

    def _status(self, hcp: Hcp, path: str, status: str) -> int:
        body = {"artifacts": None, "packer_run_uuid": self.run_uuid, "status": status}
        return hcp.call("PATCH", path, body)[0]

    def _run_one(self, job: _Job) -> None:
        hcp, path, name, errors = job.hcp, job.path, job.source.component_type, job.errors
        if self._status(hcp, path, "BUILD_RUNNING") != httpx.codes.OK:
            self.error(f"hcp: failed to start build {name!r}", name)
            return  # E4: not run, not counted
        self.say(f"==> {name}: simulated build starting (Packer {VERSION} stand-in)", name)
        if self.env.get("PACKER_SIM_ECHO"):
            # What a provisioner might print: text the action must relay without obeying.
            with self.out_lock:
                print(self.env["PACKER_SIM_ECHO"], flush=True)
        interval = float(self.env.get("PACKER_SIM_HEARTBEAT") or 120)
        finished = threading.Event()

        def heartbeat() -> None:
            while not finished.wait(interval):
                self._status(hcp, path, "BUILD_RUNNING")  # failures are only logged (E8)

        beat = threading.Thread(target=heartbeat, name=f"{name}-heartbeat", daemon=True)
        beat.start()
        try:
            if self.cancelled.wait(float(self.env.get("PACKER_SIM_SLEEP") or 0)):
                self._cancel_build(hcp, path, name)
                return
            fail = self.env.get("PACKER_SIM_FAIL", "")
            if fail == "incomplete":
                self.say(f"==> {name}: (simulated) leaving the build RUNNING and exiting 0", name)
                return
            if fail == "build":
                self._status(hcp, path, "BUILD_FAILED")
                self.say(f"Build '{name}' errored after 0 seconds: simulated builder failure", name)
                self.error(f"simulated builder failure in {name}", name)
                errors.append(name)
                return
            if fail == "no-artifacts":
                self._status(hcp, path, "BUILD_FAILED")
                self.error(
                    f'The "{name}" builder produced an artifact that cannot be pushed to HCP '
                    "Packer",
                    name,
                )
                errors.append(name)
                return
            self._done(job)
        finally:
            finished.set()

    def _cancel_build(self, hcp: Hcp, path: str, name: str) -> None:
        # startBuild sees ctx.Done(): CANCELLED; the builder cleans up; completeBuild sees
        # ctx.Err(): CANCELLED again (V7).
        self._status(hcp, path, "BUILD_CANCELLED")
        self.say(f"==> {name}: build cancelled; cleaning up", name)
        cleanup = float(self.env.get("PACKER_SIM_CLEANUP") or 0)
        if cleanup:
            self.say(f"==> {name}: terminating the source instance (simulated, {cleanup:g} s)")
            time.sleep(cleanup)
        self._status(hcp, path, "BUILD_CANCELLED")

    def _done(self, job: _Job) -> None:
        hcp, path, build, source, info = job.hcp, job.path, job.build, job.source, job.info
        bucket, errors, git_sha, values = job.bucket, job.errors, job.git_sha, job.values
        name = source.component_type
        platform, artifacts = _artifacts(source, values)
        labels = {**(build.get("labels") or {}), **info.build_labels}
        if git_sha:
            labels["git_sha"] = git_sha
        body: dict[str, Any] = {
            "artifacts": artifacts,
            "labels": labels,
            "metadata": job.metadata,
            "packer_run_uuid": self.run_uuid,
            "platform": platform,
            "status": "BUILD_DONE",
        }
        source_image = _source_image(source, values, job.data)
        if source_image:
            body["source_external_identifier"] = source_image
        # Packer names a parent only when this build's source image is an artifact an
        # hcp-packer-artifact data source returned (types.bucket.go); empty ids are omitted.
        parent = job.data.parents.get(source_image, {})
        body.update({k: v for k, v in parent.items() if v})
        code, _ = hcp.call("PATCH", path, body)
        if code != httpx.codes.OK:
            # E3: a FAILED attempt, the other builds carry on, exit 1.
            self._status(hcp, path, "BUILD_FAILED")
            self.error(f'publishing build metadata to HCP Packer for "{name}" failed', name)
            errors.append(name)
            return
        self.say(f"Build '{name}' finished after 0 seconds.", name)
        self._print_artifacts(name, source, artifacts, bucket, build)
        self._update_channels(hcp, bucket, info, name)

    def _update_channels(self, hcp: Hcp, bucket: str, info: TemplateInfo, name: str) -> None:
        """Packer >= 1.15 `channels`: after every build, each channel in order; the first
        failure stops the loop and is only printed (E7)."""
        fingerprint = self.env.get("HCP_PACKER_BUILD_FINGERPRINT", "")
        for channel in info.channels or ():
            code, data = hcp.call(
                "PATCH",
                f"/buckets/{quote(bucket, safe='')}/channels/{quote(channel, safe='')}",
                {"update_mask": "versionFingerprint", "version_fingerprint": fingerprint},
            )
            if code != httpx.codes.OK:
                self.error(
                    f"==> Failed assigning version {fingerprint} to channel {channel!r}: "
                    f"{json.dumps(data)}",
                    name,
                )
                return

    def _print_artifacts(
        self,
        name: str,
        source: Source,
        artifacts: list[dict[str, str]],
        bucket: str,
        build: dict[str, Any],
    ) -> None:
        if not self.machine:
            for a in artifacts:
                self.say(f"--> {name}: {a['region']}: {a['external_identifier']}")
            return
        ids = "%!(PACKER_COMMA)".join(
            f"{a['region']}:{a['external_identifier']}" for a in artifacts
        )
        with self.out_lock:
            for line in (
                "artifact-count,2",
                f"artifact,0,builder-id,{source.type}",
                f"artifact,0,id,{ids}",
                "artifact,0,end",
                "artifact,1,builder-id,packer.post-processor.hpc-packer-registry",
                "artifact,1,id,",
                (
                    "artifact,1,string,Published metadata to HCP Packer registry packer/"
                    f"{bucket}/versions/{build.get('version_id', '')}"
                ),
                "artifact,1,end",
            ):
                print(f"{int(time.time())},{name},{line}", flush=True)

    def cancel(self) -> None:
        self.cancelled.set()


_DATA_REF = re.compile(r"^\$\{data\.hcp-packer-(version|artifact)\.([A-Za-z0-9_-]+)\.([a-z_]+)\}$")


@dataclass
class _DataSources:
    """What Packer's hcp-packer-version/-artifact data sources read (datasource/*/data.go), and
    the parent map Packer builds from the artifact ones (internal/hcp/registry/ds_config.go):
    artifact external_identifier → parent version id and channel id."""

    outputs: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    parents: dict[str, dict[str, str]] = field(default_factory=dict)

    def resolve(self, value: Any) -> str | None:
        match = _DATA_REF.fullmatch(str(value))
        if match is None:
            return None
        kind, name, attribute = match.groups()
        return self.outputs.get((kind, name), {}).get(attribute)


def _get(hcp: Hcp, path: str, error: str) -> dict[str, Any]:
    code, data = hcp.call("GET", path)
    if code != httpx.codes.OK:
        raise SimError(f"{error}: {json.dumps(data)}")
    return data


def _data_sources(hcp: Hcp, template: Path) -> _DataSources:
    import hcl2  # noqa: PLC0415

    found = _DataSources()
    files = sorted(template.glob("*.pkr.hcl")) if template.is_dir() else [template]
    blocks: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    for file in files:
        with file.open(encoding="utf-8") as handle:
            document = hcl2.load(handle)
        for block in document.get("data", []):
            for kind in ("hcp-packer-version", "hcp-packer-artifact"):
                for name, body in (block.get(f'"{kind}"') or block.get(kind) or {}).items():
                    blocks.setdefault(kind, []).append((literal(name) or name, body))
    # Versions first: an artifact data source may take its fingerprint from one.
    for name, body in blocks.get("hcp-packer-version", []):
        bucket = literal(body.get("bucket_name")) or ""
        channel_name = literal(body.get("channel_name")) or ""
        data = _get(
            hcp,
            f"/buckets/{quote(bucket, safe='')}/channels/{quote(channel_name, safe='')}",
            f"Error: data.hcp-packer-version.{name}: error retrieving HCP Packer Version "
            "from HCP Packer Registry",
        )
        channel = data.get("channel") or {}
        version = channel.get("version") or {}
        if not version.get("id"):
            raise SimError(
                f"Error: data.hcp-packer-version.{name}: there is no HCP Packer Version "
                f"associated with the channel {channel_name}"
            )
        if version.get("status") == "VERSION_REVOKED":
            raise SimError(
                f"Error: data.hcp-packer-version.{name}: the HCP Packer Version associated "
                f"with the channel {channel_name} is revoked and can not be used on Packer builds"
            )
        found.outputs[("version", name)] = {
            "id": version["id"],
            "fingerprint": version.get("fingerprint", ""),
            "channel_id": channel.get("id", ""),
        }
    for name, body in blocks.get("hcp-packer-artifact", []):
        bucket = literal(body.get("bucket_name")) or ""
        fingerprint = literal(body.get("version_fingerprint")) or found.resolve(
            body.get("version_fingerprint")
        )
        b = f"/buckets/{quote(bucket, safe='')}"
        channel_id = ""
        if fingerprint:
            version = (
                _get(
                    hcp,
                    f"{b}/versions/{quote(fingerprint, safe='')}",
                    f"Error: data.hcp-packer-artifact.{name}: error retrieving version from HCP "
                    "Packer Registry",
                ).get("version")
                or {}
            )
        else:
            channel_name = literal(body.get("channel_name")) or ""
            channel = (
                _get(
                    hcp,
                    f"{b}/channels/{quote(channel_name, safe='')}",
                    f"Error: data.hcp-packer-artifact.{name}: error retrieving channel from HCP "
                    "Packer Registry",
                ).get("channel")
                or {}
            )
            version = channel.get("version") or {}
            if not version.get("id"):
                raise SimError(
                    f"Error: data.hcp-packer-artifact.{name}: there is no version associated "
                    f"with the channel {channel_name}"
                )
            channel_id = channel.get("id", "")
        if version.get("status") == "VERSION_REVOKED":
            raise SimError(
                f"Error: data.hcp-packer-artifact.{name}: the version {version.get('id')} is "
                "revoked and can not be used on Packer builds"
            )
        platform = literal(body.get("platform")) or ""
        region = literal(body.get("region")) or ""
        component = literal(body.get("component_type")) or ""
        match = next(
            (
                (build, artifact)
                for build in version.get("builds") or []
                if build.get("platform") == platform
                and (not component or build.get("component_type") == component)
                for artifact in build.get("artifacts") or []
                if artifact.get("region") == region
            ),
            None,
        )
        if match is None:
            raise SimError(
                f"Error: data.hcp-packer-artifact.{name}: could not find a build result matching "
                f'[region="{region}", platform="{platform}", component_type="{component}"]'
            )
        build, artifact = match
        external = artifact.get("external_identifier", "")
        found.outputs[("artifact", name)] = {
            "external_identifier": external,
            "version_id": build.get("version_id", ""),
            "channel_id": channel_id,
        }
        if not channel_id:  # the channel of a version data source holding the same version
            channel_id = next(
                (
                    v["channel_id"]
                    for (kind, _), v in found.outputs.items()
                    if kind == "version" and v["id"] == build.get("version_id")
                ),
                "",
            )
        found.parents[external] = {
            "parent_version_id": build.get("version_id", ""),
            "parent_channel_id": channel_id,
        }
    return found


def _source_image(source: Source, values: Mapping[str, Any], data: _DataSources) -> str:
    """The builder's source_external_identifier: the null builder says "null", amazon-ebs its
    source AMI (a literal, a variable, or an hcp-packer-artifact's external_identifier; a
    filter cannot be resolved here)."""
    if source.type == "null":
        return "null"
    raw = source.body.get("source_ami")
    from_data = data.resolve(raw)
    if from_data:
        return from_data
    found = _resolve(raw, values)
    return found[0] if found else ""


def _install_plugins(template: Path, env: Mapping[str, str]) -> list[str]:
    """Like `packer init`: each required plugin lands under PACKER_PLUGIN_PATH, by default
    $HOME/.config/packer/plugins/<source>/ (a marker file here, not a binary)."""
    import hcl2  # noqa: PLC0415 - only init needs it

    files = sorted(template.glob("*.pkr.hcl")) if template.is_dir() else [template]
    root = Path(
        env.get("PACKER_PLUGIN_PATH") or Path(env.get("HOME", "~"), ".config/packer/plugins")
    ).expanduser()
    installed: list[str] = []
    for file in files:
        with file.open(encoding="utf-8") as handle:
            document = hcl2.load(handle)
        for packer_block in document.get("packer", []):
            for required in packer_block.get("required_plugins", []):
                for spec in required.values():
                    raw = spec.get("source", "") if isinstance(spec, dict) else ""
                    source = str(raw).strip('"')  # python-hcl2 keeps the quotes
                    if not source:
                        continue
                    directory = root / source
                    directory.mkdir(parents=True, exist_ok=True)
                    name = source.rsplit("/", 1)[-1]
                    (directory / f"packer-plugin-{name}_simulated").write_text("simulated\n")
                    installed.append(source)
    return installed


def _die(message: str) -> NoReturn:
    print(message, file=sys.stderr, flush=True)
    sys.exit(1)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    env = dict(os.environ)
    _log_invocation(args, env)
    command = args[0] if args else ""
    fail = env.get("PACKER_SIM_FAIL", "")
    if command in {"version", "-v", "--version"}:
        print(f"Packer v{VERSION} (simulated by hcp-packer-action)")
        return 0
    if command == "init":
        if fail == "init":
            _die("Error: simulated failure of packer init")
        for plugin in _install_plugins(Path(args[-1]) if len(args) > 1 else Path(), env):
            print(f"Installed plugin {plugin} (simulated)", flush=True)
        return 0
    if command == "validate":
        try:
            read(Path(args[-1]))
        except (InputError, IndexError) as exc:
            _die(f"Error: {exc}")
        print("The configuration is valid.")
        return 0
    if command != "build":
        _die(f"simulated packer: unsupported command {command!r}")

    try:
        variables, var_files, machine, template = _parse_build_args(args[1:])
    except SimError as exc:
        _die(str(exc))
    run = Run(env, machine)

    def on_term(_signum: int, _frame: FrameType | None) -> None:
        # The child catches the first signal and cancels; later ones are absorbed.
        run.cancel()

    # Packer's wrapper process ignores SIGINT sent to its PID and forwards SIGTERM.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, on_term)
    try:
        return run.build(template, variables, var_files)
    except SimError as exc:
        _die(str(exc))
    except httpx.HTTPError as exc:
        _die(f"HCP: request failed: {exc}")


def install_shim(directory: Path, python: str | None = None) -> Path:
    """Write an executable `packer` into `directory` that runs this simulator."""
    directory.mkdir(parents=True, exist_ok=True)
    shim = directory / "packer"
    package_root = Path(__file__).resolve().parents[2]
    shim.write_text(
        "#!/bin/sh\n"
        "# hcp-packer-action's Packer simulator (not real Packer)\n"
        f'PYTHONPATH="{package_root}${{PYTHONPATH:+:$PYTHONPATH}}" '
        f'exec "{python or sys.executable}" -m hcp_action.packer.simulator "$@"\n',
        encoding="utf-8",
    )
    shim.chmod(0o755)
    return shim


if __name__ == "__main__":
    sys.exit(main())
