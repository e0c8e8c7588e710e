"""What a command established; outputs and the summary are rendered from this only."""

from __future__ import annotations

from dataclasses import dataclass, field

from hcp_action.artifacts import Selection
from hcp_action.channels import Assignment
from hcp_action.hcp.models import Version
from hcp_action.overview import BucketStatus, Finding


@dataclass(frozen=True, slots=True)
class Descendant:
    """A version built (directly or not) from a revoked one: HCP revokes it too, unless told
    to skip descendants."""

    bucket: str
    name: str
    fingerprint: str
    channels: tuple[str, ...]  # its bucket's channels holding it before the revocation


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
    overview: BucketStatus | None = None  # status
    finding: Finding | None = None  # find
    descendants: tuple[Descendant, ...] = field(default_factory=tuple)  # revoke
    descendants_skipped: bool = False

    @property
    def descendant_effect(self) -> str:
        """What the revocation does to the descendants (HCP cascades asynchronously)."""
        if self.descendants_skipped:
            return "not revoked (skip-descendants)"
        if self.dry_run:
            return "would be revoked by HCP too"
        return "revoked by HCP too (asynchronously)"
