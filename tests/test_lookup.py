"""`lookup` end to end: same outputs as build, read-only, within its request budget."""

from __future__ import annotations

import json
import re

from tests.helpers import Harness, seed

BUCKET = "jenkins-ha-ami"


def test_lookup_by_channel_and_by_fingerprint(harness: Harness) -> None:
    built = harness.run({"template": "jenkins.pkr.hcl", "channel": "dev"})
    assert built.returncode == 0, built.stdout
    harness.emulator.clear()
    by_channel = harness.run(
        {"command": "lookup", "bucket": BUCKET, "channel": "dev"}, {"AWS_REGION": "us-west-2"}
    )
    assert by_channel.returncode == 0, by_channel.stdout
    requests = harness.emulator.registry_requests()
    assert len(requests) <= 2
    assert harness.emulator.writes() == []
    assert by_channel.packer_calls == []
    for key in ("version-fingerprint", "version-id", "version-name", "ami-ids", "artifacts"):
        assert by_channel.outputs[key] == built.outputs[key]
    assert by_channel.outputs["ami-id"] == json.loads(built.outputs["ami-ids"])["us-west-2"]
    assert by_channel.outputs["build-skipped"] == "false"
    assert by_channel.outputs["previous-version-fingerprint"] == ""

    by_fp = harness.run(
        {
            "command": "lookup",
            "bucket": BUCKET,
            "version-fingerprint": built.outputs["version-fingerprint"],
        }
    )
    assert by_fp.returncode == 0, by_fp.stdout
    assert by_fp.outputs["ami-id"] == built.outputs["ami-id"]
    assert by_fp.outputs["channel"] == ""


def test_lookup_failures_are_clear(harness: Harness) -> None:
    built = harness.run({"template": "jenkins.pkr.hcl", "channel": "dev"})
    assert built.returncode == 0
    cases = [
        ({"channel": "nope"}, "channel 'nope' not found"),
        ({"version-fingerprint": "nope"}, "no version nope"),
        ({"channel": "dev", "region": "eu-north-1"}, "us-east-1, us-west-2"),
    ]
    for extra, message in cases:
        run = harness.run({"command": "lookup", "bucket": BUCKET, **extra})
        assert run.returncode == 1, extra
        assert any(message in e for e in run.errors), (extra, run.errors)
        assert run.outputs == {}
    other = harness.run({"command": "lookup", "bucket": "no-such-bucket", "channel": "dev"})
    assert other.returncode == 1
    assert any("not found" in e for e in other.errors)


def test_wrong_credentials_are_an_auth_error(harness: Harness) -> None:
    run = harness.run(
        {"command": "lookup", "bucket": BUCKET, "channel": "dev"},
        {"HCP_CLIENT_SECRET": "wrong-secret-value"},
    )
    assert run.returncode == 1
    assert any("HCP authentication failed" in e and "hcp-client-secret" in e for e in run.errors)
    assert "wrong-secret-value" not in run.everything()


def test_secret_from_input_is_masked_and_never_printed(
    harness: Harness, client_secret: str
) -> None:
    """The secret given as an input is masked first, and no output, log or summary holds it."""
    run = harness.run(
        {
            "template": "jenkins.pkr.hcl",
            "channel": "dev",
            "hcp-client-id": "test-client-id",
            "hcp-client-secret": client_secret,
            "github-token": "ghs_testtoken1234567890",
        },
        drop=("HCP_CLIENT_ID", "HCP_CLIENT_SECRET"),
    )
    assert run.returncode == 0, run.stdout
    first = run.stdout.splitlines()[0]
    assert first == f"::add-mask::{client_secret}"
    assert "::add-mask::ghs_testtoken1234567890" in run.stdout
    tokens = list(harness.emulator.tokens)  # the action's and the simulated Packer's
    masked = [
        line.removeprefix("::add-mask::")
        for line in run.stdout.splitlines()
        if line.startswith("::add-mask::emu-")
    ]
    assert len(masked) == 1  # one token per run, masked the moment it exists
    assert masked[0] in tokens
    text = run.everything()
    for secret in (client_secret, "ghs_testtoken1234567890", *tokens):
        assert secret not in text
    assert run.packer_calls[1]["has_github_token"]


def test_credential_file_is_accepted(harness: Harness, client_secret: str) -> None:
    cred = harness.tmp / "cred_file.json"
    cred.write_text(
        json.dumps(
            {
                "scheme": "service_principal_creds",
                "oauth": {"client_id": "test-client-id", "client_secret": client_secret},
            }
        )
    )
    run = harness.run(
        {"template": "jenkins.pkr.hcl", "channel": "dev"},
        {"HCP_CRED_FILE": str(cred)},
        drop=("HCP_CLIENT_ID", "HCP_CLIENT_SECRET"),
    )
    assert run.returncode == 0, run.stdout
    assert client_secret not in run.everything()


def test_lookup_refuses_revoked_and_incomplete_versions(harness: Harness) -> None:
    """lookup hands out only what a channel change would accept (the same guard)."""
    harness.emulator.seed(BUCKET, "fp-revoked", "dev")
    env = harness.emulator.env()
    org, project = env["HCP_ORGANIZATION_ID"], env["HCP_PROJECT_ID"]
    with harness.emulator.registry.lock:
        harness.emulator.registry.update_version(
            org,
            project,
            BUCKET,
            "fp-revoked",
            {"revoke_in": "0s", "disable_rollback_channels": True},
            "test",
        )
        harness.emulator.registry.create_version(org, project, BUCKET, {"fingerprint": "fp-v0"})
    for fingerprint, why in (("fp-revoked", "is revoked"), ("fp-v0", "is not complete")):
        run = harness.run(
            {"command": "lookup", "bucket": BUCKET, "version-fingerprint": fingerprint}
        )
        assert run.returncode == 1
        assert any(why in e and "lookup refused" in e for e in run.errors), run.errors
        assert run.outputs == {}


HOSTILE_ID = "ami-1 <img src=x onerror=alert(1)> [x](https://evil.example) \x1b[2J\x1b]0;pwn\x07"


def _plant(harness: Harness) -> None:
    seed(harness.emulator, "fp-markup", "dev")
    env = harness.emulator.env()
    project = harness.emulator.registry.data["projects"][
        f"{env['HCP_ORGANIZATION_ID']}/{env['HCP_PROJECT_ID']}"
    ]
    build = project["buckets"]["jenkins-ha-ami"]["versions"]["fp-markup"]["builds"][0]
    build["component_type"] = "null.a # heading *bold*"
    build["artifacts"][0]["external_identifier"] = HOSTILE_ID


def test_registry_text_is_escaped_in_the_summary(harness: Harness) -> None:
    """Registry data is data: no HTML, link, heading or emphasis in the job summary."""
    _plant(harness)
    run = harness.run({"command": "lookup", "bucket": "jenkins-ha-ami", "channel": "dev"})
    assert run.returncode == 0, run.stdout
    assert run.outputs["ami-id"] == HOSTILE_ID  # outputs carry the value itself
    summary = run.summary
    assert not re.search(r"(?<!\\)<img", summary)  # only escaped
    assert "\\<img" in summary
    assert "](https://evil" not in summary
    assert "\x1b" not in summary
    assert "\\# heading \\*bold\\*" in summary


def test_cli_human_output_has_no_terminal_escapes(harness: Harness) -> None:
    _plant(harness)
    full = harness.env()
    full.pop("GITHUB_ACTIONS")
    done = harness.cli(
        ["lookup", "--bucket", "jenkins-ha-ami", "--channel", "dev"], full, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert "ami-1 <img" in done.stdout  # the text stays readable
    assert "\x1b" not in done.stdout + done.stderr
    assert "\x07" not in done.stdout + done.stderr
