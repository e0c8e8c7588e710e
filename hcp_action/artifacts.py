"""From a version's builds to the artifact the user asked for (region, component)."""

from __future__ import annotations

from dataclasses import dataclass

from hcp_action.errors import SelectionError, VersionFailed
from hcp_action.hcp.models import Version


@dataclass(frozen=True, slots=True)
class Row:
    platform: str
    region: str
    id: str
    component: str


@dataclass(frozen=True, slots=True)
class Selection:
    region: str
    ami_id: str
    ami_ids: dict[str, str]
    artifacts: tuple[Row, ...]  # every build's artifacts, whatever was chosen


def select(
    version: Version, *, region: str | None, component: str | None, region_source: str = "region"
) -> Selection:
    rows = tuple(
        Row(b.platform, a.region, a.external_identifier, b.component_type)
        for b in sorted(version.builds, key=lambda b: b.component_type)
        for a in b.artifacts
    )
    if not rows:
        raise VersionFailed(f"version {version.fingerprint} has no artifacts")
    components = sorted({r.component for r in rows})
    if component is not None and component not in components:
        raise SelectionError(
            f"component '{component}' has no artifacts in version {version.name}",
            fix="use one of: " + ", ".join(components) + ".",
        )
    scoped = [r for r in rows if component is None or r.component == component]
    regions = sorted({r.region for r in scoped})
    chosen = region or regions[0]
    if chosen not in regions:
        raise SelectionError(
            f"{region_source} '{chosen}' has no artifact in version {version.name}",
            fix="use one of the regions it has: " + ", ".join(regions) + ".",
        )
    in_region = [r for r in scoped if r.region == chosen]
    # Judged in every region, not only the chosen one: ami-ids would otherwise pick one
    # component's artifact silently where several builds published one.
    clashes = {
        reg: sorted({r.component for r in scoped if r.region == reg})
        for reg in (chosen, *(x for x in regions if x != chosen))
    }
    clashing = {reg: comps for reg, comps in clashes.items() if len(comps) > 1}
    if clashing:
        names = sorted({c for comps in clashing.values() for c in comps})
        raise SelectionError(
            f"several builds have artifacts in {', '.join(clashing)}: " + ", ".join(names),
            fix="set component to the one whose artifacts should fill ami-id and ami-ids.",
        )
    ami_ids: dict[str, str] = {}
    for row in scoped:
        ami_ids.setdefault(row.region, row.id)
    return Selection(
        region=chosen, ami_id=in_region[0].id, ami_ids=dict(sorted(ami_ids.items())), artifacts=rows
    )
