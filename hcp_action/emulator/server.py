"""The emulator's HTTP face: spec routes, the token endpoint, the IAM exchange, `/__` controls.

Runs in a thread (tests, `with Emulator() as emu:`) or as `python -m hcp_action.emulator`.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qsl, unquote, urlsplit

from hcp_action.emulator.state import Json, Refusal, Registry, Reply, status

BASE = "/packer/2023-01-01/organizations/{location.organization_id}/projects/{location.project_id}"
TOKEN_TTL = 3600
DEMO_CLIENT_ID = "demo-client-id"
DEMO_CLIENT_SECRET = "demo-client-secret-not-a-real-secret"  # noqa: S105 - the emulator's own
DEMO_ORG = "11111111-2222-3333-4444-555555555555"
DEMO_PROJECT = "66666666-7777-8888-9999-000000000000"

Handler = Callable[["Call"], Reply]


@dataclass(frozen=True, slots=True)
class Call:
    org: str
    project: str
    params: dict[str, str]
    query: dict[str, str]
    body: Json
    author: str


@dataclass(slots=True)
class Fault:
    """Make matching requests fail: an HTTP status (with Retry-After), a delay, or a reset."""

    method: str = "*"
    path: str = ""  # a regex searched in the request path
    status: int = 0
    code: int = 0  # the google.rpc code of a `status` answer (default: from the status)
    retry_after: int | None = None
    delay: float = 0.0
    reset: bool = False
    times: int = 1  # how many requests it hits; -1 for all
    agent: str = ""  # a regex searched in the User-Agent (e.g. only the action, not Packer)
    body: str = ""  # a regex searched in the request body (e.g. only the DONE update)
    # A concurrent writer: right after this channel write, another run sets the channel to
    # this fingerprint, and the answer shows it (HCP has no compare-and-set).
    race: str = ""
    # Hold the request (before it is processed) until `Emulator.release` is set: lets a test
    # act while a write is in flight without guessing at timing.
    hold: bool = False
    # Hostile answers (the real reply, made unkind): a 302 to this URL; a 200 of this many
    # bytes of JSON padding; the reply's body one byte per `drip` seconds; the reply about
    # another resource (version fingerprint / channel name / bucket replaced by `wrong`);
    # a 200 whose body is not JSON.
    redirect: str = ""
    oversize: int = 0
    drip: float = 0.0
    wrong: str = ""
    garbage: bool = False
    # Answers a live service may legitimately give more sparsely: drop this key wherever it
    # occurs in the reply (e.g. "builds" from the versions a channel listing carries).
    omit: str = ""
    # Paging that never ends: the reply's next_page_token is always this value.
    loop_token: str = ""

    def matches(self, method: str, path: str, agent: str = "", body: str = "") -> bool:
        return (
            (self.method in {"*", method})
            and bool(re.search(self.path, path))
            and bool(re.search(self.agent, agent))
            and bool(re.search(self.body, body))
            and (self.times != 0)
        )


def _omit(data: object, key: str) -> None:
    if isinstance(data, dict):
        data.pop(key, None)
        for value in data.values():
            _omit(value, key)
    elif isinstance(data, list):
        for item in data:
            _omit(item, key)


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    template: str  # as written in the spec (or an auth/control route)
    handler: Handler
    regex: re.Pattern[str]


def _compile(template: str) -> re.Pattern[str]:
    pattern = ""
    for part in re.split(r"(\{[^}]+\})", template):
        if part.startswith("{"):
            name = part[1:-1].replace(".", "_")
            # The IAM resource name holds slashes, as the SDK sends it unescaped.
            pattern += f"(?P<{name}>.+)" if name == "resource_name" else f"(?P<{name}>[^/]+)"
        else:
            pattern += re.escape(part)
    return re.compile(f"^{pattern}$")


class StateFileError(Exception):
    """The --state file cannot be used (corrupt, or served by another emulator)."""


class Emulator:
    """An HCP Packer registry on 127.0.0.1 (by default) over real HTTP."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool = False,
        state_file: Path | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        organization_id: str = DEMO_ORG,
        project_id: str = DEMO_PROJECT,
        inherit_delay: float = 1.0,
    ) -> None:
        self.organization_id = organization_id
        self.project_id = project_id
        self.registry = Registry(inherit_delay=inherit_delay)
        self.state_file = state_file
        self._lock_handle: Any = None
        if state_file is not None:
            self._lock_state(state_file)
            if state_file.exists():
                self._load()
        self.client_id = client_id
        self.client_secret = client_secret
        self.tokens: dict[str, float] = {}
        self.requests: list[Json] = []
        self.faults: list[Fault] = []
        self.holding = threading.Event()  # a request is held by a `hold` fault
        self.release = threading.Event()  # lets it go on
        self._log_lock = threading.Lock()
        self.routes = self._routes()
        self.tls = tls
        self._tls_dir: Any = None
        self.server = ThreadingHTTPServer((host, port), _make_handler(self))
        self.server.daemon_threads = True
        if tls:
            from hcp_action.emulator.tls import self_signed  # noqa: PLC0415 - only with --tls

            self._tls_dir, cert, key = self_signed(host)
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(cert, key)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self._thread: threading.Thread | None = None

    # ---- lifecycle -----------------------------------------------------------------------
    @property
    def address(self) -> str:
        host, port = self.server.server_address[:2]
        return f"{host.decode() if isinstance(host, bytes) else host}:{port}"

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://{self.address}"

    def env(self) -> dict[str, str]:
        """The HCP_* variables that point the action, the simulator or real Packer here."""
        env = {
            "HCP_API_ADDRESS": self.address,
            "HCP_API_TLS": "insecure" if self.tls else "disabled",
            "HCP_AUTH_URL": self.url,
        }
        # Plain mode serves the action (loopback only); TLS mode serves Packer and the simulator.
        env["HCP_AUTH_TLS"] = "insecure" if self.tls else "disabled"
        return env | {
            "HCP_CLIENT_ID": self.client_id or DEMO_CLIENT_ID,
            "HCP_CLIENT_SECRET": self.client_secret or DEMO_CLIENT_SECRET,
            "HCP_ORGANIZATION_ID": self.organization_id,
            "HCP_PROJECT_ID": self.project_id,
        }

    def start(self) -> Self:
        self._thread = threading.Thread(
            target=self.server.serve_forever, daemon=True, name="hcp-emulator"
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if self._tls_dir is not None:
            self._tls_dir.cleanup()
        self.stop_lock()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ---- persistence ---------------------------------------------------------------------
    def _lock_state(self, state_file: Path) -> None:
        """One emulator per state file: two would each overwrite the other's confirmed writes."""
        lock_path = state_file.with_name(state_file.name + ".lock")
        handle = lock_path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise StateFileError(
                f"state file {state_file} is in use by another emulator (pid {holder}); stop it "
                "or give this one another --state"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock_handle = handle

    def _load(self) -> None:
        assert self.state_file is not None  # noqa: S101
        try:
            data = json.loads(self.state_file.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            self.stop_lock()
            raise StateFileError(
                f"state file {self.state_file} is not readable emulator state ({exc}); move it "
                "away to start empty"
            ) from None
        if not isinstance(data, dict) or not isinstance(data.get("projects"), dict):
            self.stop_lock()
            raise StateFileError(
                f"state file {self.state_file} is not emulator state (no 'projects' object); "
                "move it away to start empty"
            )
        self.registry.data = data

    def stop_lock(self) -> None:
        """Release the state file (closing the handle drops the flock)."""
        if self._lock_handle is not None:
            self._lock_handle.close()
            self._lock_handle = None

    def _save(self) -> None:
        if self.state_file is None:
            return
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.registry.data), encoding="utf-8")
        tmp.replace(self.state_file)

    # ---- test controls -------------------------------------------------------------------
    def add_fault(self, fault: Fault) -> None:
        with self._log_lock:
            self.faults.append(fault)

    def clear(self) -> None:
        """Forget the request log and faults (not the registry)."""
        with self._log_lock:
            self.requests.clear()
            self.faults.clear()

    def registry_requests(self) -> list[Json]:
        with self._log_lock:
            return list(self.requests)

    def writes(self) -> list[Json]:
        """Requests that change something: not GETs, token requests, or the search (a POST
        that only reads)."""
        return [
            r
            for r in self.registry_requests()
            if r["method"] != "GET"
            and not r["path"].endswith(("/oauth2/token", "/_search/external_artifact"))
        ]

    def _take_fault(self, method: str, path: str, agent: str = "", body: str = "") -> Fault | None:
        with self._log_lock:
            for fault in self.faults:
                if fault.matches(method, path, agent, body):
                    if fault.times > 0:
                        fault.times -= 1
                    return fault
        return None

    # ---- routes --------------------------------------------------------------------------
    def _routes(self) -> list[Route]:
        r = self.registry
        b = BASE + "/buckets"
        bn = b + "/{bucket_name}"
        v = bn + "/versions/{fingerprint}"
        c = bn + "/channels/{channel_name}"

        def p(call: Call, key: str) -> str:
            return call.params[key]

        table: list[tuple[str, str, Handler]] = [
            ("GET", b, lambda x: r.list_buckets(x.org, x.project, x.query)),
            ("PUT", b, lambda x: r.create_bucket(x.org, x.project, x.body)),
            ("GET", bn, lambda x: r.get_bucket(x.org, x.project, p(x, "bucket_name"))),
            ("PATCH", bn, lambda x: r.update_bucket(x.org, x.project, p(x, "bucket_name"), x.body)),
            (
                "GET",
                bn + "/channels",
                lambda x: r.list_channels(x.org, x.project, p(x, "bucket_name")),
            ),
            (
                "POST",
                bn + "/channels",
                lambda x: r.create_channel(x.org, x.project, p(x, "bucket_name"), x.body, x.author),
            ),
            (
                "GET",
                c,
                lambda x: r.get_channel(
                    x.org, x.project, p(x, "bucket_name"), p(x, "channel_name")
                ),
            ),
            (
                "PATCH",
                c,
                lambda x: r.update_channel(
                    x.org, x.project, p(x, "bucket_name"), p(x, "channel_name"), x.body, x.author
                ),
            ),
            (
                "DELETE",
                c,
                lambda x: r.delete_channel(
                    x.org, x.project, p(x, "bucket_name"), p(x, "channel_name")
                ),
            ),
            (
                "GET",
                c + "/history",
                lambda x: r.channel_history(
                    x.org, x.project, p(x, "bucket_name"), p(x, "channel_name"), x.query
                ),
            ),
            (
                "GET",
                bn + "/versions",
                lambda x: r.list_versions(x.org, x.project, p(x, "bucket_name"), x.query),
            ),
            (
                "POST",
                bn + "/versions",
                lambda x: r.create_version(x.org, x.project, p(x, "bucket_name"), x.body),
            ),
            (
                "GET",
                v,
                lambda x: r.get_version(x.org, x.project, p(x, "bucket_name"), p(x, "fingerprint")),
            ),
            (
                "PATCH",
                v,
                lambda x: r.update_version(
                    x.org, x.project, p(x, "bucket_name"), p(x, "fingerprint"), x.body, x.author
                ),
            ),
            (
                "GET",
                v + "/builds",
                lambda x: r.list_builds(x.org, x.project, p(x, "bucket_name"), p(x, "fingerprint")),
            ),
            (
                "POST",
                v + "/builds",
                lambda x: r.create_build(
                    x.org, x.project, p(x, "bucket_name"), p(x, "fingerprint"), x.body
                ),
            ),
            (
                "GET",
                v + "/builds/{build_id}",
                lambda x: r.get_build(
                    x.org, x.project, p(x, "bucket_name"), p(x, "fingerprint"), p(x, "build_id")
                ),
            ),
            (
                "PATCH",
                v + "/builds/{build_id}",
                lambda x: r.update_build(
                    x.org,
                    x.project,
                    p(x, "bucket_name"),
                    p(x, "fingerprint"),
                    p(x, "build_id"),
                    x.body,
                    x.author,
                ),
            ),
            (
                "GET",
                BASE + "/buckets/{bucket_name}/ancestry",
                lambda x: r.list_ancestry(x.org, x.project, p(x, "bucket_name"), x.query),
            ),
            (
                "POST",
                BASE + "/_search/external_artifact",
                lambda x: r.search_external_artifact(x.org, x.project, x.body),
            ),
            (
                "GET",
                BASE + "/enforced_blocks/bucket/{bucket_name}",
                lambda _x: (200, {"enforced_block_detail": []}),
            ),
            (
                "GET",
                BASE + "/registry",
                lambda x: (
                    200,
                    {
                        "registry": {
                            "id": x.project,
                            "activated": True,
                            "location": {"organization_id": x.org, "project_id": x.project},
                        }
                    },
                ),
            ),
        ]
        return [Route(m, t, h, _compile(t)) for m, t, h in table]

    def route_templates(self) -> list[tuple[str, str]]:
        """Registry routes as (method, spec path template): checked against the spec by a test."""
        return [(r.method, r.template) for r in self.routes]

    def seed(
        self,
        bucket: str,
        fingerprint: str,
        channel: str = "",
        component: str = "null.a",
        artifacts: tuple[tuple[str, str], ...] = (("null", "Null"),),
    ) -> None:
        """A complete version (and optionally a channel on it), made in-process by the same
        rules a real build goes through. For tests, the demo and the benchmark."""
        env = self.env()
        org, project = env["HCP_ORGANIZATION_ID"], env["HCP_PROJECT_ID"]
        reg = self.registry
        with reg.lock:
            reg.create_bucket(org, project, {"name": bucket})
            code, _ = reg.create_version(org, project, bucket, {"fingerprint": fingerprint})
            if code == HTTPStatus.OK:
                _, reply = reg.create_build(
                    org, project, bucket, fingerprint, {"component_type": component}
                )
                done = {
                    "status": "BUILD_DONE",
                    # Packer's platform for the amazon-* builders is "aws" (packer-hcp.md).
                    "platform": "aws"
                    if component.startswith("amazon-")
                    else component.split(".", maxsplit=1)[0],
                    "artifacts": [{"region": r, "external_identifier": i} for r, i in artifacts],
                }
                reg.update_build(
                    org, project, bucket, fingerprint, reply["build"]["id"], done, "seed"
                )
            if channel:
                body = {"name": channel, "version_fingerprint": fingerprint}
                code, _ = reg.create_channel(org, project, bucket, body, "seed")
                if code != HTTPStatus.OK:
                    mask = {"version_fingerprint": fingerprint, "update_mask": "versionFingerprint"}
                    reg.update_channel(org, project, bucket, channel, mask, "seed")

    # ---- auth ----------------------------------------------------------------------------
    def issue_token(self) -> Json:
        token = f"emu-{secrets.token_urlsafe(24)}"
        self.tokens[token] = time.time() + TOKEN_TTL
        return {"access_token": token, "token_type": "Bearer", "expires_in": TOKEN_TTL}

    def token_endpoint(self, headers: dict[str, str], raw: bytes) -> Reply:
        form = dict(parse_qsl(raw.decode("utf-8", "replace")))
        client_id, client_secret = form.get("client_id", ""), form.get("client_secret", "")
        basic = headers.get("authorization", "")
        if basic.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(basic[6:]).decode()
            except ValueError:
                decoded = ":"
            client_id, _, client_secret = (unquote(x) for x in decoded.partition(":"))
        if form.get("grant_type") != "client_credentials":
            return 400, {"error": "unsupported_grant_type"}
        if not client_id or not client_secret:
            return 401, {"error": "invalid_client"}
        if self.client_id is not None and (client_id, client_secret) != (
            self.client_id,
            self.client_secret,
        ):
            return 401, {"error": "invalid_client"}
        return 200, self.issue_token()

    def exchange_token(self, path: str, body: Json) -> Reply:
        """IAM workload-identity exchange: the JWT must be well-formed, for this provider
        (`aud`, HCP's default allowed audience is the provider's resource name), unexpired."""
        jwt = body.get("jwt_token")
        if not isinstance(jwt, str) or not jwt:
            return status(3, "jwt_token is required")
        provider = path.removeprefix("/2019-12-10/").removesuffix("/exchange-token")
        claims = jwt_claims(jwt)
        if claims is None:
            return status(16, "the token is not a well-formed JWT")
        audiences = claims.get("aud")
        audiences = audiences if isinstance(audiences, list) else [audiences]
        if provider not in audiences:
            return status(16, "the token's audience is not allowed by the provider")
        expiry = claims.get("exp")
        if not isinstance(expiry, int | float) or expiry <= time.time():
            return status(16, "the token has expired")
        token = self.issue_token()
        return 200, {"access_token": token["access_token"], "expires_in": TOKEN_TTL}

    def resource_manager(self, path: str, headers: dict[str, str]) -> Reply:
        """The reads the Terraform provider makes before any data source (its client setup):
        the organisation list and the project (resource-manager 2019-12-10)."""
        if not self.authorized(headers):
            return status(16, "invalid or expired token")
        stamp = "2026-01-01T00:00:00.000Z"
        organization = {
            "id": self.organization_id,
            "name": "emulator",
            "state": "ACTIVE",
            "created_at": stamp,
        }
        project = {
            "id": self.project_id,
            "name": "emulator",
            "description": "HCP Packer emulator",
            "parent": {"type": "ORGANIZATION", "id": self.organization_id},
            "state": "ACTIVE",
            "created_at": stamp,
        }
        rest = path.removeprefix("/resource-manager/2019-12-10/")
        if rest == "organizations":
            return 200, {"organizations": [organization], "pagination": {}}
        if rest == f"organizations/{self.organization_id}":
            return 200, {"organization": organization}
        if rest == "projects":
            return 200, {"projects": [project], "pagination": {}}
        if rest == f"projects/{self.project_id}":
            return 200, {"project": project}
        if rest.startswith(("projects/", "organizations/")):
            return status(7, "the caller has no access to that resource")
        return status(5, "not found")

    def authorized(self, headers: dict[str, str]) -> bool:
        value = headers.get("authorization", "")
        if not value.startswith("Bearer "):
            return False
        expiry = self.tokens.get(value[7:])
        return expiry is not None and expiry > time.time()

    # ---- dispatch ------------------------------------------------------------------------
    def dispatch(
        self, method: str, path: str, query: dict[str, str], body: Json, headers: dict[str, str]
    ) -> Reply:
        for route in self.routes:
            if route.method != method:
                continue
            match = route.regex.fullmatch(path)
            if match is None:
                continue
            if not self.authorized(headers):
                return status(16, "invalid or expired token")
            groups = {k: unquote(v) for k, v in match.groupdict().items()}
            # A token is bound to one organisation and project: the emulator's own.
            if (groups["location_organization_id"], groups["location_project_id"]) != (
                self.organization_id,
                self.project_id,
            ):
                return status(7, "the principal has no permission in this organization/project")
            call = Call(
                org=groups.pop("location_organization_id"),
                project=groups.pop("location_project_id"),
                params=groups,
                query=query,
                body=body,
                author="service-principal",
            )
            with self.registry.lock:
                try:
                    reply = route.handler(call)
                except Refusal as refusal:
                    reply = refusal.reply
                if method != "GET" and reply[0] == 200:
                    self._save()
                elif method == "GET":
                    self._save()  # scheduled revocations may have fired during a read
                return reply
        known_path = any(r.regex.fullmatch(path) for r in self.routes)
        if known_path:
            return status(12, f"method {method} not implemented for {path}")
        return status(5, f"no route for {path}")

    def race(self, path: str, headers: dict[str, str], fingerprint: str) -> Reply:
        """Another writer sets the channel just after our PATCH; answer with what it holds."""
        body = {"version_fingerprint": fingerprint, "update_mask": "versionFingerprint"}
        self.dispatch("PATCH", path, {}, body, headers)
        return self.dispatch("GET", path, {}, {}, headers)

    def control(self, method: str, path: str, body: Json) -> Reply:
        if path == "/__/requests":
            if method == "DELETE":
                self.clear()
            return 200, {"requests": self.registry_requests()}
        if path == "/__/faults" and method == "POST":
            self.add_fault(Fault(**body))
            return 200, {"faults": [asdict(f) for f in self.faults]}
        if path == "/__/faults" and method == "DELETE":
            with self._log_lock:
                self.faults.clear()
            return 200, {}
        if path == "/__/state" and method == "GET":
            with self.registry.lock:
                return 200, json.loads(json.dumps(self.registry.data))
        return status(5, f"no control route {method} {path}")


def _make_handler(emulator: Emulator) -> type[BaseHTTPRequestHandler]:
    class RequestHandler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "hcp-packer-emulator"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Quiet: the request log is kept in memory and served at /__/requests."""

        def _handle(self) -> None:
            split = urlsplit(self.path)
            path, query = split.path, dict(parse_qsl(split.query))
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            if path.startswith("/__/"):
                self._send(*emulator.control(self.command, path, _json(raw)))
                return
            agent = self.headers.get("User-Agent", "")
            fault = emulator._take_fault(  # noqa: SLF001
                self.command, path, agent, raw.decode("utf-8", "replace")
            )
            if fault is not None and fault.delay:
                time.sleep(fault.delay)
            if fault is not None and fault.hold:
                emulator.holding.set()
                emulator.release.wait(60)
            if fault is not None and fault.reset:
                self._log(path, query, raw, 0, None)
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                )
                self.close_connection = True
                self.connection.close()
                return
            if fault is not None and self._hostile(fault, path, query, raw, headers):
                return
            if fault is not None and fault.status:
                code = fault.code or {429: 8, 500: 13, 502: 14, 503: 14, 504: 4}.get(
                    fault.status, 13
                )
                reply: Reply = (
                    fault.status,
                    {"code": code, "message": "injected fault", "details": []},
                )
                extra = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
            else:
                reply, extra = self._answer(path, query, raw, headers), {}
                if fault and fault.race and self.command == "PATCH" and reply[0] == HTTPStatus.OK:
                    reply = emulator.race(path, headers, fault.race)
            self._log(path, query, raw, reply[0], reply[1])
            # A client that gave up (a timeout fault) finds the request processed all the same.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._send(*reply, extra=extra)

        def _hostile(
            self,
            fault: Fault,
            path: str,
            query: dict[str, str],
            raw: bytes,
            headers: dict[str, str],
        ) -> bool:
            """Answer the unkind way a fault asks for; False if it asks for none."""
            if fault.redirect:
                self._log(path, query, raw, 302, None)
                self._send(302, {}, extra={"Location": fault.redirect})
                return True
            if fault.garbage:
                self._log(path, query, raw, 200, None)
                self._raw(200, b"<html>not json</html>", length=True)
                return True
            if fault.oversize:
                self._log(path, query, raw, 200, None)
                # No Content-Length: the client can only find out by reading.
                self.close_connection = True
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Connection", "close")
                self.end_headers()
                chunk = b" " * 65536
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(b'{"pad": "')
                    for _ in range(fault.oversize // len(chunk) + 1):
                        self.wfile.write(chunk)
                    self.wfile.write(b'"}')
                return True
            if not (fault.drip or fault.wrong or fault.omit or fault.loop_token):
                return False
            code, body = self._answer(path, query, raw, headers)
            if fault.omit:
                _omit(body, fault.omit)
            if fault.loop_token:
                body["pagination"] = {"next_page_token": fault.loop_token}
            if fault.wrong:
                for key, field in (("version", "fingerprint"), ("channel", "name")):
                    if isinstance(body.get(key), dict):
                        body[key][field] = fault.wrong
            self._log(path, query, raw, code, body)
            payload = json.dumps(body).encode()
            if not fault.drip:
                self._raw(code, payload, length=True)
                return True
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                for byte in payload:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(fault.drip)
            return True

        def _answer(
            self, path: str, query: dict[str, str], raw: bytes, headers: dict[str, str]
        ) -> Reply:
            """The emulator's own answer: token endpoint, IAM exchange, or a registry route."""
            if path == "/oauth2/token" and self.command == "POST":
                return emulator.token_endpoint(headers, raw)
            if (
                path.startswith("/2019-12-10/")
                and path.endswith("/exchange-token")
                and self.command == "POST"
            ):
                return emulator.exchange_token(path, _json(raw))
            if path.startswith("/resource-manager/2019-12-10/") and self.command == "GET":
                return emulator.resource_manager(path, headers)
            return emulator.dispatch(self.command, path, query, _json(raw), headers)

        def _raw(self, code: int, payload: bytes, *, length: bool) -> None:
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            if length:
                self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(payload)

        def _log(
            self, path: str, query: dict[str, str], raw: bytes, code: int, response: Json | None
        ) -> None:
            entry = {
                "method": self.command,
                "path": path,
                "query": query,
                "status": code,
                "body": redacted(_json(raw)) if path != "/oauth2/token" else {},
                "response": redacted(response),
                "time": time.time(),
                "agent": self.headers.get("User-Agent", ""),
            }
            with emulator._log_lock:  # noqa: SLF001
                emulator.requests.append(entry)

        def _send(self, code: int, body: Json, *, extra: dict[str, str] | None = None) -> None:
            payload = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            for key, value in (extra or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    return RequestHandler


SECRET_KEYS = frozenset({"jwt_token", "access_token", "client_secret", "id_token"})


def secret_digest(value: str) -> str:
    """How a secret appears in the request log: never in clear, still comparable in tests."""
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:16]


def redacted(body: Any) -> Any:
    """The request log (served at /__/requests) keeps no token or JWT in clear."""
    if isinstance(body, dict):
        return {
            k: secret_digest(v) if k in SECRET_KEYS and isinstance(v, str) else redacted(v)
            for k, v in body.items()
        }
    if isinstance(body, list):
        return [redacted(v) for v in body]
    return body


def jwt_claims(jwt: str) -> dict[str, Any] | None:
    """The payload of a JWT (signature not checked: the emulator trusts its fake GitHub)."""
    parts = jwt.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        return None
    try:
        padded = parts[1] + "=" * (-len(parts[1]) % 4)
        claims = json.loads(base64.urlsafe_b64decode(padded))
    except (ValueError, UnicodeDecodeError):
        return None
    return claims if isinstance(claims, dict) else None


def _json(raw: bytes) -> Json:
    if not raw:
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
