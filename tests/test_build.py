"""`build` end to end: the real entrypoint, the emulator over loopback, the simulator as Packer."""

from __future__ import annotations

import json

from hcp_action.emulator import Emulator
from tests.helpers import ActionRun, Harness

BUCKET = "jenkins-ha-ami"


def project(emulator: Emulator) -> dict:
    env = emulator.env()
    return emulator.registry.data["projects"][
        f"{env['HCP_ORGANIZATION_ID']}/{env['HCP_PROJECT_ID']}"]


def channel_fp(emulator: Emulator, bucket: str, channel: str) -> str | None:
    ch = project(emulator)["buckets"].get(bucket, {}).get("channels", {}).get(channel)
    return None if ch is None else ch["_fingerprint"]


def assert_no_secret(run: ActionRun, *secrets: str) -> None:
    text = run.everything()
    for secret in secrets:
        assert secret not in text


def test_build_to_missing_channel_creates_it_and_writes_outputs(
    harness: Harness, client_secret: str
) -> None:
    """A first build creates the version, creates channel dev on it, outputs both regions."""
    run = harness.run({"command": "build", "channel": "dev", "template": "jenkins.pkr.hcl"})
    assert run.returncode == 0, run.stdout + run.stderr
    out = run.outputs
    fp = out["version-fingerprint"]
    assert len(fp) <= 32
    version = project(harness.emulator)["buckets"][BUCKET]["versions"][fp]
    assert version["name"] == "v1" == out["version-name"]
    assert version["id"] == out["version-id"]
    regions = {a["region"]: a["external_identifier"] for a in version["builds"][0]["artifacts"]}
    assert set(regions) == {"us-east-1", "us-west-2"}
    assert json.loads(out["ami-ids"]) == regions
    assert out["ami-id"] == regions["us-east-1"]  # no AWS_REGION: first region in sorted order
    artifacts = sorted(json.loads(out["artifacts"]), key=lambda a: a["region"])
    assert artifacts == [
        {"platform": "aws", "region": r, "id": regions[r], "component": "amazon-ebs.jenkins"}
        for r in sorted(regions)
    ]
    assert out["bucket"] == BUCKET
    assert out["channel"] == "dev"
    assert out["build-skipped"] == "false"
    assert out["previous-version-fingerprint"] == ""
    assert channel_fp(harness.emulator, BUCKET, "dev") == fp
    # Packer ran init then build, with the HCP environment injected.
    argvs = [c["argv"][0] for c in run.packer_calls]
    assert argvs == ["init", "build"]
    build_call = run.packer_calls[1]
    assert build_call["env"]["HCP_PACKER_BUILD_FINGERPRINT"] == fp
    assert build_call["env"]["HCP_PACKER_BUCKET_NAME"] == BUCKET
    assert build_call["env"]["CHECKPOINT_DISABLE"] == "1"
    assert build_call["has_client_secret"]
    assert client_secret not in json.dumps(build_call["argv"])
    assert "| us-west-2 |" in run.summary
    assert "`(new)` →" in run.summary
    assert_no_secret(run, client_secret, *harness.emulator.tokens)
