"""The one exception tree. Only the entrypoint turns these into an annotation and an exit code.

ActionError                      anything the user should read; has a title and a fix
├── InputError                   a bad input, found before any network call (exit 2)
├── AuthError                    credentials rejected or the token endpoint unusable
├── HcpApiError                  a google.rpc.Status answer from the registry, keyed on its `code`
│   ├── NotFound (5)
│   ├── AlreadyExists (6)
│   ├── FailedPrecondition (9)
│   └── Aborted (10)             what HCP answers for a missing version
├── TransportError               the registry could not be reached (after retries)
│   └── WrongAnswer              an answer about another bucket, version or channel
├── PackerFailed                 packer init/build exited non-zero
├── VersionFailed                a build of the version FAILED/CANCELLED, or it has no artifacts
├── WaitTimeout                  the version did not complete within wait-timeout
├── SelectionError               region/component cannot be resolved to one artifact
├── ChannelError                 a channel write refused or not read back as written
├── GuardRefused                 promote/rollback/revoke refused by a guard; nothing changed
├── NothingFound                 status/find: the bucket or artifact asked about does not exist
├── HostProblem                  the machine or container cannot do what the step needs
├── Unexpected                   a bug: anything else, reported with "please report"
└── Cancelled                    SIGINT/SIGTERM received (exit 130)
"""

from __future__ import annotations

from typing import Any, ClassVar


class ActionError(Exception):
    """Base of every error the action reports to the user."""

    title: ClassVar[str] = "hcp-packer-action failed"
    exit_code: ClassVar[int] = 1

    def __init__(self, message: str, *, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix

    def render(self) -> str:
        return f"{self.message} Fix: {self.fix}" if self.fix else self.message


class InputError(ActionError):
    title = "Invalid input"
    exit_code = 2

    def __init__(self, input_name: str, message: str, *, fix: str = "") -> None:
        super().__init__(f"input '{input_name}': {message}", fix=fix)
        self.input_name = input_name


class AuthError(ActionError):
    title = "HCP authentication failed"


class TransportError(ActionError):
    title = "HCP Packer registry unreachable"


class WrongAnswer(TransportError):
    title = "The registry answered about something else"


class HcpApiError(ActionError):
    """An error answer from HCP. Branch on `code` (gRPC), not the HTTP status: 409 is 6 and 10."""

    title = "HCP Packer API error"
    grpc_code: ClassVar[int | None] = None

    def __init__(
        self, message: str, *, code: int, http_status: int, operation: str, fix: str = ""
    ) -> None:
        super().__init__(f"{operation}: {message} (code {code}, HTTP {http_status})", fix=fix)
        self.code = code
        self.http_status = http_status
        self.operation = operation
        self.server_message = message


class NotFound(HcpApiError):
    grpc_code = 5


class AlreadyExists(HcpApiError):
    grpc_code = 6


class FailedPrecondition(HcpApiError):
    grpc_code = 9


class Aborted(HcpApiError):
    grpc_code = 10


_BY_CODE: dict[int, type[HcpApiError]] = {
    cls.grpc_code: cls
    for cls in (NotFound, AlreadyExists, FailedPrecondition, Aborted)
    if cls.grpc_code is not None
}


def api_error(status: int, body: Any, operation: str) -> HcpApiError:
    """Build the right subclass from a google.rpc.Status body (or a non-JSON fallback)."""
    code = -1
    message = f"HTTP {status}"
    if isinstance(body, dict):
        raw = body.get("code")
        if isinstance(raw, int):
            code = raw
        msg = body.get("message")
        if isinstance(msg, str) and msg:
            message = msg
    cls = _BY_CODE.get(code, HcpApiError)
    fix = ""
    if status == 403 or code == 7:
        fix = (
            "give the service principal the Contributor role on the project "
            "(or Viewer for lookup), and check hcp-organization-id/hcp-project-id."
        )
    elif status == 401 or code == 16:
        fix = "check hcp-client-id/hcp-client-secret; the token was refused."
    return cls(message, code=code, http_status=status, operation=operation, fix=fix)


class PackerFailed(ActionError):
    title = "Packer failed"


class VersionFailed(ActionError):
    title = "Registry version is not usable"


class WaitTimeout(ActionError):
    title = "Timed out waiting for the registry"


class SelectionError(ActionError):
    title = "Cannot choose the artifact"


class ChannelError(ActionError):
    title = "Channel not changed"

    def __init__(
        self, message: str, *, fix: str = "", channel: str = "", fingerprint: str = ""
    ) -> None:
        super().__init__(message, fix=fix)
        self.channel = channel  # set when a write to this channel was attempted
        self.fingerprint = fingerprint


class GuardRefused(ActionError):
    title = "Refused by a guard"


class NothingFound(ActionError):
    title = "Not found"


class Cancelled(ActionError):
    title = "Cancelled"
    exit_code = 130

    def __init__(self, message: str, *, fix: str = "", changes: tuple[str, ...] = ()) -> None:
        super().__init__(message, fix=fix)
        self.changes = changes  # registry writes that completed before the signal took effect


class HostProblem(ActionError):
    title = "The step's environment is not usable"


class Unexpected(ActionError):
    title = "hcp-packer-action hit an unexpected error"
