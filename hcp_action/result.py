"""What a command established; outputs and the summary are rendered from this only."""

from __future__ import annotations

from dataclasses import dataclass, field

from hcp_action.artifacts import Selection
from hcp_action.channels import Assignment
from hcp_action.hcp.models import Version


@dataclass(frozen=True, slots=True)
class Result:
    command: str
    bucket: str
    channel: str
    fingerprint: str
    organization_id: str
    project_id: str
    version: Version | None = None  # None: dry run of a version that does not exist yet
    selection: Selection | None = None
    assignment: Assignment | None = None
    build_skipped: bool = False
    resumed: bool = False
    packer_ran: bool = False
    dry_run: bool = False
    plan: tuple[str, ...] = field(default_factory=tuple)
    guards: tuple[str, ...] = field(default_factory=tuple)
    moves: tuple[Assignment, ...] = field(default_factory=tuple)  # channels HCP moved (revoke)
    notes: tuple[str, ...] = field(default_factory=tuple)
    revoked: bool = False
