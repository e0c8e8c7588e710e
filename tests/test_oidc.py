"""OIDC end to end: GitHub's OIDC token (a loopback fake of the runner's endpoint) exchanged at
the emulator's IAM route; Packer (the simulator) gets a workload credential file, no secret."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from hcp_action.emulator.server import secret_digest
from tests.fake_github import FakeGitHub
from tests.helpers import Harness

WIP = "iam/project/p1/service-principal/sp1/workload-identity-provider/github"


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with FakeGitHub() as fake:
        yield fake


def oidc_env(github: FakeGitHub, tmp: Path) -> dict[str, str]:
    runner_temp = tmp / "runner_temp"
    runner_temp.mkdir(exist_ok=True)
    return {
        "ACTIONS_ID_TOKEN_REQUEST_URL": f"{github.url}/_apis/token?api-version=2.0",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": github.oidc_request_token,
        "RUNNER_TEMP": str(runner_temp),
    }


def exchanges(harness: Harness) -> list[dict[str, object]]:
    return [
        r
        for r in harness.emulator.registry_requests()
        if str(r["path"]).endswith("/exchange-token")
    ]


def test_build_with_oidc_needs_no_secret(harness: Harness, github: FakeGitHub) -> None:
    env = oidc_env(github, harness.tmp)
    run = harness.run(
        {"template": "jenkins.pkr.hcl", "channel": "dev", "hcp-workload-identity-provider": WIP},
        env,
        drop=("HCP_CLIENT_ID", "HCP_CLIENT_SECRET"),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    # The action exchanged once; Packer exchanged with its own fresh GitHub token.
    calls = exchanges(harness)
    assert [c["path"] for c in calls] == [f"/2019-12-10/{WIP}/exchange-token"] * 2
    assert github.audiences == [WIP, WIP]  # HCP's default allowed audience
    # The log never holds a JWT in clear (contract v2), only its digest.
    assert [c["body"] for c in calls] == [
        {"jwt_token": secret_digest(j)} for j in github.issued_jwts
    ]
    assert not any(r["path"] == "/oauth2/token" for r in harness.emulator.registry_requests())
    own = [
        r
        for r in harness.emulator.registry_requests()
        if str(r["agent"]).startswith("hcp-packer-action")
    ]
    assert len(own) <= 6  # the exchange counts as the run's token request
    # Packer saw a credential file, never a secret; the file is gone after the run.
    build = run.packer_calls[1]
    assert not build["has_client_secret"]
    cred_dirs = list((harness.tmp / "runner_temp").iterdir())
    assert cred_dirs == []
    # Neither GitHub's JWTs nor the request token were printed; the JWT was masked.
    text = run.everything()
    for secret in (*github.issued_jwts[:1], github.oidc_request_token):
        assert secret not in text
    assert f"::add-mask::{github.issued_jwts[0]}" in run.stdout
    assert f"::add-mask::bearer {github.oidc_request_token}" in run.stdout


def test_credential_file_written_for_packer(harness: Harness, github: FakeGitHub) -> None:
    """While Packer runs, its HCP_CRED_FILE is a 0600 workload file with a `file` source that
    the action keeps fresh (not a url source: Packer's SDK gives that 1 s, no retry)."""
    env = oidc_env(github, harness.tmp)
    spy = harness.tmp / "spy"
    spy.mkdir()
    script = spy / "packer"
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = build ]; then stat -c %a "$HCP_CRED_FILE" > "$SPY_OUT.mode"; '
        'cp "$HCP_CRED_FILE" "$SPY_OUT"; '
        'token=$(sed -n \'s/.*"path": "\\([^"]*\\)".*/\\1/p\' "$HCP_CRED_FILE"); '
        'stat -c %a "$token" > "$SPY_OUT.token-mode"; fi\n'
        f'exec "{harness.sim_bin}/packer" "$@"\n'
    )
    script.chmod(0o755)
    out = harness.tmp / "cred-copy.json"
    run = harness.run(
        {"template": "jenkins.pkr.hcl", "hcp-workload-identity-provider": WIP},
        {**env, "PATH": f"{spy}:{harness.env()['PATH']}", "SPY_OUT": str(out)},
        drop=("HCP_CLIENT_ID", "HCP_CLIENT_SECRET"),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert Path(f"{out}.mode").read_text().strip() == "600"
    document = json.loads(out.read_text())
    assert document["scheme"] == "workload"
    workload = document["workload"]
    assert workload["provider_resource_name"] == WIP
    assert set(workload) == {"provider_resource_name", "file"}
    assert Path(f"{out}.token-mode").read_text().strip() == "600"
    assert not Path(workload["file"]["path"]).exists()  # removed with the step
    assert github.oidc_request_token not in out.read_text()


def test_hcp_auth_action_credential_file_is_accepted(harness: Harness, github: FakeGitHub) -> None:
    """A workload HCP_CRED_FILE (as hcp-auth-action writes) works for us and for Packer."""
    env = oidc_env(github, harness.tmp)
    cred = harness.workspace / "hcp-cred.json"
    cred.write_text(
        json.dumps(
            {
                "scheme": "workload",
                "workload": {
                    "provider_resource_name": WIP,
                    "url": {
                        "url": f"{env['ACTIONS_ID_TOKEN_REQUEST_URL']}&audience={WIP}",
                        "headers": {"Authorization": f"bearer {github.oidc_request_token}"},
                        "format_type": "json",
                        "subject_cred_pointer": "/value",
                    },
                },
            }
        )
    )
    run = harness.run(
        {"template": "jenkins.pkr.hcl", "channel": "dev"},
        {**env, "HCP_CRED_FILE": str(cred)},
        drop=("HCP_CLIENT_ID", "HCP_CLIENT_SECRET"),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert len(exchanges(harness)) == 2
    # A url source is not handed to Packer (1 s, no retry): it gets a kept-fresh file source.
    assert run.packer_calls[1]["env"]["HCP_CRED_FILE"] != str(cred)
    assert github.oidc_request_token not in run.everything()


def test_refused_exchange_is_an_auth_error(harness: Harness, github: FakeGitHub) -> None:
    env = oidc_env(github, harness.tmp)
    env["ACTIONS_ID_TOKEN_REQUEST_TOKEN"] = "wrong-request-token"
    run = harness.run(
        {
            "command": "lookup",
            "bucket": "jenkins-ha-ami",
            "channel": "dev",
            "hcp-workload-identity-provider": WIP,
        },
        env,
        drop=("HCP_CLIENT_ID", "HCP_CLIENT_SECRET"),
    )
    assert run.returncode == 1
    assert any("id-token: write" in e for e in run.errors)


def test_slow_github_token_endpoint_does_not_fail_packer(
    harness: Harness, github: FakeGitHub
) -> None:
    """GitHub's OIDC endpoint takes 1.5 s. Real Packer gives a `url` source 1 s and no retry
    (hcp-sdk-go auth/workload/url.go); the simulator does the same. With the action's
    kept-fresh `file` source the build passes, and the token is refreshed while Packer runs."""
    github.token_delay = 1.5
    env = oidc_env(github, harness.tmp)
    env.update({"HCP_ACTION_OIDC_REFRESH": "0.5", "PACKER_SIM_SLEEP": "3"})
    env.update({"HCP_ACTION_HTTP_TIMEOUT": "5"})
    run = harness.run(
        {"template": "jenkins.pkr.hcl", "channel": "dev", "hcp-workload-identity-provider": WIP},
        env,
        drop=("HCP_CLIENT_ID", "HCP_CLIENT_SECRET"),
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert len(github.issued_jwts) >= 3  # ours, Packer's first, at least one refresh
    for jwt in github.issued_jwts:
        assert f"::add-mask::{jwt}" in run.stdout  # masked the moment it existed
    assert len(exchanges(harness)) == 2


def test_the_simulator_gives_a_url_source_one_second(harness: Harness, github: FakeGitHub) -> None:
    """The negative control: the same slow endpoint as a `url` source fails Packer's exchange,
    as it would fail real Packer."""
    github.token_delay = 1.5
    env = oidc_env(github, harness.tmp)
    cred = harness.tmp / "url-cred.json"
    cred.write_text(
        json.dumps(
            {
                "scheme": "workload",
                "workload": {
                    "provider_resource_name": WIP,
                    "url": {
                        "url": f"{env['ACTIONS_ID_TOKEN_REQUEST_URL']}&audience={WIP}",
                        "headers": {"Authorization": f"bearer {github.oidc_request_token}"},
                        "format_type": "json",
                        "subject_cred_pointer": "/value",
                    },
                },
            }
        )
    )
    full = harness.env({"HCP_CRED_FILE": str(cred), "HCP_PACKER_BUILD_FINGERPRINT": "url-1"})
    full.pop("HCP_CLIENT_ID")
    full.pop("HCP_CLIENT_SECRET")
    assert harness.sim_bin is not None
    done = subprocess.run(
        [str(harness.sim_bin / "packer"), "build", str(harness.workspace / "jenkins.pkr.hcl")],
        env=full,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "context deadline exceeded" in done.stderr
