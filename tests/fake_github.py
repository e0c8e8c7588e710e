"""A loopback fake of the few GitHub REST endpoints the deployment records use."""

from __future__ import annotations

import base64
import json
import re
import secrets
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self
from urllib.parse import parse_qsl, urlsplit


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def make_jwt(audience: str, *, lifetime: int = 300) -> str:
    """A JWT shaped like GitHub's OIDC token (claims real, signature not)."""
    issued = int(time.time())
    claims = {
        "iss": "https://token.actions.githubusercontent.com",
        "sub": "repo:acme/jenkins-images:ref:refs/heads/main",
        "aud": audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + lifetime,
        "jti": secrets.token_hex(8),
    }
    return f"{_b64({'alg': 'RS256', 'typ': 'JWT'})}.{_b64(claims)}.{secrets.token_urlsafe(32)}"


class FakeGitHub:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.requests: list[dict[str, Any]] = []
        self.deny_status = 0  # answer every write with this status (e.g. 403)
        self.token_delay = 0.0  # seconds the OIDC token endpoint takes to answer
        self.jwt_lifetime = 300  # GitHub's OIDC tokens are short-lived
        self.write_mode = ""  # "garbage": 201 with a non-JSON body; "hang": answer after 30 s
        self.deployments: dict[int, dict[str, Any]] = {}
        self.oidc_request_token = "oidc-request-token-0123456789"
        self.issued_jwts: list[str] = []
        self.audiences: list[str] = []
        self.statuses: dict[int, list[dict[str, Any]]] = {}
        self.server = ThreadingHTTPServer((host, 0), self._handler())
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> Self:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Quiet."""

            def _reply(self, code: int, body: dict[str, Any]) -> None:
                payload = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                """The runner's OIDC token endpoint (ACTIONS_ID_TOKEN_REQUEST_URL)."""
                split = urlsplit(self.path)
                query = dict(parse_qsl(split.query))
                fake.requests.append(
                    {
                        "method": "GET",
                        "path": split.path,
                        "query": query,
                        "auth": self.headers.get("Authorization", ""),
                    }
                )
                if split.path != "/_apis/token":
                    self._reply(404, {"message": "Not Found"})
                    return
                time.sleep(fake.token_delay)
                if self.headers.get("Authorization", "") != f"bearer {fake.oidc_request_token}":
                    self._reply(401, {"message": "bad request token"})
                    return
                jwt = make_jwt(query.get("audience", ""), lifetime=fake.jwt_lifetime)
                fake.issued_jwts.append(jwt)
                fake.audiences.append(query.get("audience", ""))
                self._reply(200, {"count": 1, "value": jwt})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                fake.requests.append(
                    {
                        "method": "POST",
                        "path": self.path,
                        "body": body,
                        "auth": self.headers.get("Authorization", ""),
                    }
                )
                if fake.write_mode == "hang":
                    time.sleep(30)
                if fake.write_mode == "garbage":
                    self.send_response(201)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", "9")
                    self.end_headers()
                    self.wfile.write(b"<garbage>")
                    return
                if fake.deny_status:
                    self._reply(
                        fake.deny_status,
                        {
                            "message": "Resource not accessible by integration",
                            "documentation_url": "https://docs.github.com/rest",
                        },
                    )
                    return
                repo = re.fullmatch(r"/repos/([^/]+/[^/]+)/deployments", self.path)
                status = re.fullmatch(r"/repos/([^/]+/[^/]+)/deployments/(\d+)/statuses", self.path)
                if repo:
                    ident = len(fake.deployments) + 1
                    url = f"{fake.url}/repos/{repo.group(1)}/deployments/{ident}"
                    record = {"id": ident, "url": url, "statuses_url": f"{url}/statuses", **body}
                    fake.deployments[ident] = record
                    self._reply(201, record)
                elif status:
                    ident = int(status.group(2))
                    fake.statuses.setdefault(ident, []).append(body)
                    self._reply(201, {"id": 1000 + ident, **body})
                else:
                    self._reply(404, {"message": "Not Found"})

        return Handler
