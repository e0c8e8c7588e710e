"""`status`, `find` and revoke's descendants end to end: the action's entrypoint against the
emulator, a two-level chain built by the Packer simulator through Packer's
`hcp-packer-version` data source (whose DONE body carries the parent ids, as real Packer's
does), and HCP's ancestry answering which children are out of date."""

from __future__ import annotations

import json

import pytest

from hcp_action import demo
from hcp_action.emulator import Fault
from tests.helpers import ActionRun, Harness, eventually, seed, seed_ami

BASE = "base-ami"
CHILD = "jenkins-ha-ami"

# The demo's child: jenkins-ha-ami from base-ami's production AMI (hcp-packer-artifact).
CHILD_TEMPLATE = demo.CHILD_TEMPLATE


def _api(harness: Harness) -> list[dict[str, object]]:
    """Registry API requests, the token request left out."""
    return [
        r
        for r in harness.emulator.registry_requests()
        if not str(r["path"]).endswith("/oauth2/token")
    ]


def _build_child(harness: Harness, fingerprint: str, channel: str = "production") -> dict[str, str]:
    (harness.workspace / "child").mkdir(exist_ok=True)
    (harness.workspace / "child" / "jenkins.pkr.hcl").write_text(CHILD_TEMPLATE)
    run = harness.run({"template": "child", "channel": channel, "version-fingerprint": fingerprint})
    assert run.returncode == 0, run.stdout + run.stderr
    return run.outputs


@pytest.fixture
def chain(harness: Harness) -> dict[str, str]:
    """base-ami base-1 on production; jenkins-ha-ami child-1 built from it (on production)."""
    seed_ami(harness.emulator, "base-1", "production")
    return _build_child(harness, "child-1")


def _promote_base(harness: Harness, fingerprint: str) -> None:
    seed_ami(harness.emulator, fingerprint, "", ami="ami-0aaaaaaaaaaaaaaa2")
    run = harness.run(
        {
            "command": "promote",
            "bucket": BASE,
            "channel": "production",
            "version-fingerprint": fingerprint,
        }
    )
    assert run.returncode == 0, run.stdout


def test_status_shows_a_child_going_out_of_date_and_back(
    harness: Harness, chain: dict[str, str]
) -> None:
    fresh = harness.run({"command": "status", "bucket": BASE})
    assert fresh.returncode == 0, fresh.stdout + fresh.stderr
    assert json.loads(fresh.outputs["out-of-date-children"]) == []
    view = json.loads(fresh.outputs["status"])
    (child,) = view["children"]
    assert (child["bucket"], child["status"]) == (CHILD, "UP_TO_DATE")
    assert child["via_channel"] == "production"

    _promote_base(harness, "base-2")
    harness.emulator.clear()
    stale = harness.run({"command": "status", "bucket": BASE})
    assert stale.returncode == 0
    assert harness.emulator.writes() == []  # status never writes
    assert json.loads(stale.outputs["out-of-date-children"]) == [CHILD]
    (child,) = json.loads(stale.outputs["status"])["children"]
    assert child["status"] == "OUT_OF_DATE"
    assert child["built_from"]["fingerprint"] == "base-1"
    assert child["channel_now"]["fingerprint"] == "base-2"
    assert json.loads(stale.outputs["channels"]) == {"latest": "base-2", "production": "base-2"}
    assert "⚠️ out of date" in stale.summary
    assert f"`{CHILD}`" in stale.summary

    # The child's own view: its production version was built from base-1, no longer there.
    own = harness.run({"command": "status", "bucket": CHILD})
    assert own.returncode == 0
    (parent,) = json.loads(own.outputs["status"])["parents"]
    assert parent["status"] == "OUT_OF_DATE"
    assert parent["parent"]["bucket"] == BASE
    assert sorted(parent["channels"]) == ["latest", "production"]

    # Rebuilt from base-2: up to date again, judged by the child's newest version.
    _build_child(harness, "child-2")
    again = harness.run({"command": "status", "bucket": BASE})
    assert json.loads(again.outputs["out-of-date-children"]) == []
    (child,) = json.loads(again.outputs["status"])["children"]
    assert (child["version"]["fingerprint"], child["status"]) == ("child-2", "UP_TO_DATE")


def test_status_channels_incomplete_versions_and_request_count(harness: Harness) -> None:
    seed(harness.emulator, "fp-1", "production")
    seed(harness.emulator, "fp-2", "dev")
    run = harness.run(
        {"template": "jenkins.pkr.hcl", "version-fingerprint": "fp-bad"},
        {"PACKER_SIM_FAIL": "build"},
    )
    assert run.returncode != 0
    harness.emulator.clear()
    status = harness.run({"command": "status", "bucket": CHILD})
    assert status.returncode == 0, status.stdout
    view = json.loads(status.outputs["status"])
    channels = {c["name"]: c for c in view["channels"]}
    assert set(channels) == {"latest", "dev", "production"}
    assert channels["latest"]["managed"] is True
    assert channels["production"]["version"]["fingerprint"] == "fp-1"
    assert channels["production"]["version"]["age_seconds"] >= 0
    assert channels["production"]["assigned_at"]
    assert [v["fingerprint"] for v in view["incomplete_versions"]] == ["fp-bad"]
    assert view["children"] == []
    assert view["parents"] == []
    assert "No bucket was built from this one" in status.summary
    paths = [str(r["path"]).rsplit("/", 1)[-1] for r in _api(harness)]
    # GetBucket, ListChannels, ListVersions (one page), parents of the 2 distinct versions on
    # channels (latest and dev share fp-2), children
    assert paths == [CHILD, "channels", "versions", "ancestry", "ancestry", "ancestry"], paths


def test_status_of_an_unknown_bucket_is_not_found(harness: Harness) -> None:
    run = harness.run({"command": "status", "bucket": "no-such-bucket"})
    assert run.returncode == 1
    assert any("bucket 'no-such-bucket' does not exist" in e for e in run.errors), run.errors
    assert run.outputs == {}


def test_find_an_ami_its_channels_and_inherited_revocation(
    harness: Harness, chain: dict[str, str]
) -> None:
    ami = json.loads(chain["ami-ids"])["us-west-2"]
    harness.emulator.clear()
    found = harness.run({"command": "find", "artifact-id": ami})
    assert found.returncode == 0, found.stdout + found.stderr
    out = found.outputs
    assert (out["bucket"], out["version-fingerprint"]) == (CHILD, "child-1")
    assert out["version-name"] == chain["version-name"]
    assert json.loads(out["channels"]) == ["latest", "production"]
    assert out["revoked"] == "false"
    assert out["artifact-region"] == "us-west-2"
    assert harness.emulator.writes() == []
    assert len(_api(harness)) == 3  # search, GetVersion, ListChannels (and the token)

    # Revoking the base reaches the child: revoke reports it, find sees it inherited.
    revoke = harness.run(
        {
            "command": "revoke",
            "bucket": BASE,
            "version-fingerprint": "base-1",
            "force": "true",
            "reason": "CVE-2026-0001",
        }
    )
    assert revoke.returncode == 0, revoke.stdout
    (descendant,) = json.loads(revoke.outputs["descendants"])
    assert (descendant["bucket"], descendant["fingerprint"]) == (CHILD, "child-1")
    assert descendant["channels"] == ["production"]
    assert descendant["inherits_revocation"] is True
    assert "### Descendants" in revoke.summary
    assert "child-1" in revoke.summary

    # HCP revokes descendants asynchronously: find reports it once it has happened.
    def revoked_find() -> ActionRun | None:
        run = harness.run({"command": "find", "artifact-id": ami, "region": "us-west-2"})
        return run if run.outputs.get("revoked") == "true" else None

    after = eventually(revoked_find)
    assert after.returncode == 0
    assert "| Revoked | revoked (inherited), from base-ami v1 (base-1) |" in after.summary


def test_revoke_skip_descendants(harness: Harness, chain: dict[str, str]) -> None:
    harness.emulator.registry.inherit_delay = 0  # so "not revoked" below is final, not "not yet"
    run = harness.run(
        {
            "command": "revoke",
            "bucket": BASE,
            "version-fingerprint": "base-1",
            "force": "true",
            "skip-descendants": "true",
        }
    )
    assert run.returncode == 0, run.stdout
    (descendant,) = json.loads(run.outputs["descendants"])
    assert descendant["inherits_revocation"] is False
    body = next(
        r["body"] for r in harness.emulator.writes() if r["path"].endswith("/versions/base-1")
    )
    assert body["skip_descendants_revocation"] is True
    ami = json.loads(chain["ami-ids"])["us-east-1"]
    found = harness.run({"command": "find", "artifact-id": ami})
    assert found.outputs["revoked"] == "false"


def test_find_not_found_and_bad_input(harness: Harness) -> None:
    seed(harness.emulator, "fp-1", "production")
    missing = harness.run({"command": "find", "artifact-id": "ami-0123456789abcdef0"})
    assert missing.returncode == 1
    assert any("no version in this project holds aws artifact" in e for e in missing.errors)
    assert missing.outputs == {}
    harness.emulator.clear()
    for inputs, name in (
        ({"command": "find"}, "artifact-id"),
        ({"command": "find", "artifact-id": "i-0123456789abcdef0"}, "artifact-id"),
        ({"command": "find", "artifact-id": "ami-1 2"}, "artifact-id"),
        (
            {"command": "find", "artifact-id": "ami-0123456789abcdef0", "platform": "A W S"},
            "platform",
        ),
        ({"command": "status"}, "bucket"),
        ({"command": "status", "bucket": "x"}, "bucket"),
    ):
        bad = harness.run(inputs)
        assert bad.returncode == 2, inputs
        (error,) = bad.errors
        assert f"input '{name}'" in error, (inputs, error)
    assert harness.emulator.registry_requests() == []
    other = harness.run(
        {"command": "find", "artifact-id": "projects/acme/images/x", "platform": "gce"}
    )
    assert other.returncode == 1  # any id goes with another platform; none is there


def test_status_reads_a_version_a_channel_listing_carried_without_builds(
    harness: Harness,
) -> None:
    """Whether HCP's ListChannels carries each version's builds is not documented: when it
    does not, status reads the version once (the regions come from its builds)."""
    harness.emulator.seed(
        CHILD,
        "fp-1",
        "production",
        component="amazon-ebs.jenkins",
        artifacts=(("us-east-1", "ami-0aaaaaaaaaaaaaaa1"), ("us-west-2", "ami-0aaaaaaaaaaaaaaa2")),
    )
    harness.emulator.add_fault(Fault(method="GET", path=r"/channels$", omit="builds"))
    run = harness.run({"command": "status", "bucket": CHILD})
    assert run.returncode == 0, run.stdout
    channels = {c["name"]: c for c in json.loads(run.outputs["status"])["channels"]}
    assert channels["production"]["version"]["regions"] == ["us-east-1", "us-west-2"]
    reads = [r for r in _api(harness) if str(r["path"]).endswith("/versions/fp-1")]
    assert len(reads) == 1  # production and latest share the version: read once


def test_status_refuses_endless_paging(harness: Harness, chain: dict[str, str]) -> None:
    harness.emulator.add_fault(
        Fault(method="GET", path=r"/ancestry$", loop_token="again", times=-1)
    )
    run = harness.run({"command": "status", "bucket": BASE})
    assert run.returncode == 1
    assert any("repeated a page token" in e for e in run.errors), run.errors
    assert run.outputs == {}


def test_rebuild_after_the_base_moved_is_a_new_version(harness: Harness) -> None:
    """The derived fingerprint covers what the parent channel holds: the same commit built on
    the promoted base is a new version (the old one is not reused), and a re-run with the base
    unchanged still reuses its version."""
    seed_ami(harness.emulator, "base-1", "production")
    (harness.workspace / "child").mkdir()
    (harness.workspace / "child" / "jenkins.pkr.hcl").write_text(CHILD_TEMPLATE)
    first = harness.run({"template": "child", "channel": "dev"})
    assert first.returncode == 0, first.stdout
    again = harness.run({"template": "child", "channel": "dev"})
    assert again.outputs["version-fingerprint"] == first.outputs["version-fingerprint"]
    assert again.outputs["build-skipped"] == "true"
    _promote_base(harness, "base-2")
    rebuilt = harness.run({"template": "child", "channel": "dev"})
    assert rebuilt.returncode == 0, rebuilt.stdout
    assert rebuilt.outputs["version-fingerprint"] != first.outputs["version-fingerprint"]
    assert rebuilt.outputs["build-skipped"] == "false"
    status = harness.run({"command": "status", "bucket": BASE})
    assert json.loads(status.outputs["out-of-date-children"]) == []


def test_revoke_dry_run_lists_the_descendants_and_writes_nothing(
    harness: Harness, chain: dict[str, str]
) -> None:
    harness.emulator.clear()
    run = harness.run(
        {
            "command": "revoke",
            "bucket": BASE,
            "version-fingerprint": "base-1",
            "force": "true",
            "dry-run": "true",
        }
    )
    assert run.returncode == 0, run.stdout
    assert harness.emulator.writes() == []
    assert "HCP would also revoke 1 descendant version(s): jenkins-ha-ami" in run.summary
    assert "would be revoked by HCP too" in run.summary
    (descendant,) = json.loads(run.outputs["descendants"])
    assert descendant["fingerprint"] == "child-1"


def test_descendants_across_generations(harness: Harness, chain: dict[str, str]) -> None:
    """A grandchild (an image built on jenkins-ha-ami) is a descendant too: HCP's revocation
    cascades, so the report walks every generation."""
    grandchild = CHILD_TEMPLATE.replace(
        'bucket_name = "jenkins-ha-ami"', 'bucket_name = "agent-ami"'
    )
    grandchild = grandchild.replace('"base-ami"', '"jenkins-ha-ami"')
    (harness.workspace / "agent").mkdir()
    (harness.workspace / "agent" / "agent.pkr.hcl").write_text(grandchild)
    built = harness.run({"template": "agent", "channel": "dev", "version-fingerprint": "agent-1"})
    assert built.returncode == 0, built.stdout + built.stderr
    run = harness.run(
        {"command": "revoke", "bucket": BASE, "version-fingerprint": "base-1", "force": "true"}
    )
    assert run.returncode == 0, run.stdout
    found = [(d["bucket"], d["fingerprint"]) for d in json.loads(run.outputs["descendants"])]
    assert found == [(CHILD, "child-1"), ("agent-ami", "agent-1")]

    # Two generations, each inheriting asynchronously; lookup's guard then refuses it.
    def refused() -> ActionRun | None:
        run = harness.run(
            {"command": "lookup", "bucket": "agent-ami", "version-fingerprint": "agent-1"}
        )
        return run if run.returncode == 1 else None

    after = eventually(refused)
    assert any("revoked" in e for e in after.errors), after.errors
