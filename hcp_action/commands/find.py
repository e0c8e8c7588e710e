"""`find`: which bucket, version and build published an artifact (an AMI ID), which channels
hold that version now, and whether it is revoked (also when inherited); read-only.

SearchExternalArtifact, then GetVersion (the full record: builds, inherited revocation) and
ListChannels of that bucket.
"""

from __future__ import annotations

from dataclasses import replace

from hcp_action.commands.common import base_result
from hcp_action.errors import Aborted, NotFound, NothingFound
from hcp_action.hcp.client import HcpPackerClient
from hcp_action.hcp.models import Found
from hcp_action.inputs import Inputs
from hcp_action.overview import EPOCH, Finding, parse_time
from hcp_action.result import Result


def run(inputs: Inputs, *, client: HcpPackerClient) -> Result:
    assert inputs.artifact_id is not None  # noqa: S101 - parse() requires it for find
    artifact = inputs.artifact_id
    where = f" in region {inputs.region}" if inputs.region else ""
    hits = client.search_artifact(artifact, platform=inputs.platform, region=inputs.region or "")
    if not hits:
        raise NothingFound(
            f"no version in this project holds {inputs.platform} artifact '{artifact}'{where}",
            fix="check the id, platform and region, and that hcp-organization-id/hcp-project-id "
            "name the project the image was built into (images built without HCP Packer are "
            "not in the registry).",
        )
    # The newest build first (versions of different buckets have unrelated numbers); an id in
    # several versions (re-registered) is reported, not hidden: the others go into the notes.
    hits.sort(key=lambda h: (parse_time(h.build.created_at) or EPOCH, h.version.id), reverse=True)
    hit = hits[0]
    first = f"{hit.bucket_name} {hit.version.name} ({hit.version.fingerprint})"
    others = tuple(
        sorted(
            {f"{h.bucket_name} {h.version.name} ({h.version.fingerprint})" for h in hits} - {first}
        )
    )
    try:
        version = client.get_version(hit.bucket_name, hit.version.fingerprint)
    except (Aborted, NotFound) as exc:
        raise NothingFound(
            f"artifact '{artifact}' belongs to {hit.bucket_name} {hit.version.name}, which the "
            f"registry no longer has: {exc.server_message}",
            fix="the version was deleted after the search; nothing holds it now.",
        ) from None
    channels = tuple(
        sorted(
            c.name
            for c in client.list_channels(hit.bucket_name)
            if c.fingerprint == version.fingerprint
        )
    )
    finding = Finding(
        artifact_id=artifact,
        platform=hit.build.platform or inputs.platform,
        region=_region(hit, artifact),
        bucket=hit.bucket_name,
        version=version,
        build_id=hit.build.id,
        component=hit.build.component_type,
        channels=channels,
        others=others,
    )
    result = replace(
        base_result(inputs, version.fingerprint, bucket=hit.bucket_name),
        version=version,
        finding=finding,
    )
    if others:
        result = replace(result, notes=(f"the same id is also in: {', '.join(others)}",))
    return result


def _region(hit: Found, artifact: str) -> str:
    regions = sorted({a.region for a in hit.build.artifacts if a.external_identifier == artifact})
    return ", ".join(regions)
