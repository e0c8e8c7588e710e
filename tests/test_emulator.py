"""The emulator: its routes and JSON are the published spec's, and it keeps HCP's rules."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hcp_action.emulator import Emulator, Fault
from tests.fake_github import make_jwt
from tests.helpers import ROOT, Harness, eventually
from tests.spec import SPEC, operation, validate

AUTH_ROUTES = {"/oauth2/token"}


def test_every_registry_route_is_in_the_spec() -> None:
    with Emulator() as emu:
        routes = emu.route_templates()
    assert len(routes) >= 18
    for method, template in routes:
        assert template in SPEC["paths"], template
        assert method.lower() in SPEC["paths"][template], (method, template)


def test_traffic_of_a_build_and_lookup_matches_the_spec(harness: Harness) -> None:
    """Every request and response body seen during real runs validates against the spec."""
    runs = [
        harness.run({"template": "jenkins.pkr.hcl", "channel": "dev"}),
        harness.run(
            {"template": "jenkins.pkr.hcl", "channel": "dev", "version-fingerprint": "second-1"}
        ),
        harness.run({"command": "lookup", "bucket": "jenkins-ha-ami", "channel": "dev"}),
        harness.run({"command": "lookup", "bucket": "jenkins-ha-ami", "channel": "nope"}),
    ]
    assert [r.returncode for r in runs] == [0, 0, 0, 1]
    seen = set()
    for request in harness.emulator.registry_requests():
        if request["path"] in AUTH_ROUTES:
            continue
        found = operation(request["method"], request["path"])
        assert found is not None, (request["method"], request["path"])
        _template, op = found
        seen.add(op["operationId"])
        responses = op["responses"]
        schema = (
            responses["200"]["schema"]
            if request["status"] == 200
            else responses["default"]["schema"]
        )
        problems = validate(request["response"], schema)
        assert problems == [], (op["operationId"], problems)
        body = next((p for p in op.get("parameters", []) if p["in"] == "body"), None)
        if request["body"]:
            assert body is not None, op["operationId"]
            assert validate(request["body"], body["schema"]) == [], op["operationId"]
    assert {
        "PackerService_GetVersion",
        "PackerService_CreateVersion",
        "PackerService_CreateBucket",
        "PackerService_CreateBuild",
        "PackerService_UpdateBuild",
        "PackerService_GetChannel",
        "PackerService_CreateChannel",
        "PackerService_UpdateChannel",
    } <= seen


@pytest.fixture
def api(emulator: Emulator) -> Iterator[httpx.Client]:
    env = emulator.env()
    token = httpx.post(
        f"{emulator.url}/oauth2/token",
        auth=(env["HCP_CLIENT_ID"], env["HCP_CLIENT_SECRET"]),
        data={"grant_type": "client_credentials"},
        verify=False,  # the fixture's emulator serves TLS with a throwaway certificate
    ).json()["access_token"]
    base = (
        f"{emulator.url}/packer/2023-01-01/organizations/{env['HCP_ORGANIZATION_ID']}"
        f"/projects/{env['HCP_PROJECT_ID']}"
    )
    with httpx.Client(
        base_url=base, headers={"Authorization": f"Bearer {token}"}, verify=False
    ) as client:
        yield client


def _complete_version(api: httpx.Client, bucket: str, fp: str) -> dict[str, Any]:
    api.put("/buckets", json={"name": bucket})
    api.post(f"/buckets/{bucket}/versions", json={"fingerprint": fp, "template_type": "HCL2"})
    build = api.post(
        f"/buckets/{bucket}/versions/{fp}/builds",
        json={"component_type": "null.a", "status": "BUILD_UNSET", "artifacts": None},
    ).json()["build"]
    api.patch(
        f"/buckets/{bucket}/versions/{fp}/builds/{build['id']}",
        json={"status": "BUILD_RUNNING", "artifacts": None},
    )
    done = api.patch(
        f"/buckets/{bucket}/versions/{fp}/builds/{build['id']}",
        json={
            "status": "BUILD_DONE",
            "platform": "null",
            "artifacts": [{"external_identifier": "Null", "region": "null"}],
        },
    )
    assert done.status_code == 200
    version: dict[str, Any] = api.get(f"/buckets/{bucket}/versions/{fp}").json()["version"]
    return version


def test_live_error_codes(api: httpx.Client) -> None:
    missing_bucket = api.get("/buckets/nobucket/versions/x")
    assert (missing_bucket.status_code, missing_bucket.json()["code"]) == (404, 5)
    assert set(missing_bucket.json()) == {"code", "message", "details"}
    assert api.put("/buckets", json={"name": "bkt"}).status_code == 200
    again = api.put("/buckets", json={"name": "bkt"})
    assert (again.status_code, again.json()["code"]) == (409, 6)
    missing_version = api.get("/buckets/bkt/versions/nope")
    assert (missing_version.status_code, missing_version.json()["code"]) == (409, 10)
    assert api.get("/buckets/bkt/channels/nope").json()["code"] == 5
    unauth = httpx.get(str(api.base_url).rstrip("/") + "/buckets/bkt", verify=False)
    assert (unauth.status_code, unauth.json()["code"]) == (401, 16)


def test_server_side_completion_and_latest(api: httpx.Client) -> None:
    api.put("/buckets", json={"name": "bkt"})
    created = api.post("/buckets/bkt/versions", json={"fingerprint": "fp1"}).json()["version"]
    assert (created["name"], created["status"]) == ("v0", "VERSION_RUNNING")
    version = _complete_version(api, "bkt", "fp1")
    assert (version["name"], version["status"]) == ("v1", "VERSION_ACTIVE")
    second = _complete_version(api, "bkt", "fp2")
    assert second["name"] == "v2"
    latest = api.get("/buckets/bkt/channels/latest").json()["channel"]
    assert latest["managed"] is True
    assert latest["version"]["fingerprint"] == "fp2"
    refused = api.patch(
        "/buckets/bkt/channels/latest",
        json={"version_fingerprint": "fp1", "update_mask": "versionFingerprint"},
    )
    assert (refused.status_code, refused.json()["code"]) == (400, 9)
    assert api.post("/buckets/bkt/channels", json={"name": "latest"}).json()["code"] == 6
    bucket = api.get("/buckets/bkt").json()["bucket"]
    assert bucket["version_count"] == "2"
    assert bucket["latest_version"]["fingerprint"] == "fp2"


def test_channels_history_and_revocation(api: httpx.Client) -> None:
    _complete_version(api, "bkt", "fp1")
    _complete_version(api, "bkt", "fp2")
    api.put("/buckets", json={"name": "bkt"})
    api.post("/buckets/bkt/versions", json={"fingerprint": "fp3"})
    assert (
        api.post(
            "/buckets/bkt/channels", json={"name": "dev", "version_fingerprint": "fp3"}
        ).json()["code"]
        == 9
    )
    assert (
        api.post(
            "/buckets/bkt/channels", json={"name": "dev", "version_fingerprint": "fp1"}
        ).status_code
        == 200
    )
    no_mask = api.patch("/buckets/bkt/channels/dev", json={"version_fingerprint": "fp2"})
    assert no_mask.json()["code"] == 3
    moved = api.patch(
        "/buckets/bkt/channels/dev",
        json={"version_fingerprint": "fp2", "update_mask": "versionFingerprint"},
    )
    assert moved.json()["channel"]["version"]["fingerprint"] == "fp2"
    history = api.get("/buckets/bkt/channels/dev/history").json()
    assert [h["version"]["fingerprint"] for h in history["history"]] == ["fp2", "fp1"]
    assert history["count"] == 2
    revoked = api.patch(
        "/buckets/bkt/versions/fp2", json={"revoke_in": "0s", "revocation_message": "CVE-1"}
    ).json()["version"]
    assert revoked["status"] == "VERSION_REVOKED"
    # HCP moves the channel back to its last valid version by itself.
    assert api.get("/buckets/bkt/channels/dev").json()["channel"]["version"]["fingerprint"] == "fp1"
    assert (
        api.patch(
            "/buckets/bkt/channels/dev",
            json={"version_fingerprint": "fp2", "update_mask": "versionFingerprint"},
        ).json()["code"]
        == 9
    )


def test_fault_injection(emulator: Emulator, api: httpx.Client) -> None:
    emulator.add_fault(Fault(method="GET", path="/buckets/bkt$", status=429, retry_after=3))
    first = api.get("/buckets/bkt")
    assert first.status_code == 429
    assert first.headers["Retry-After"] == "3"
    assert api.get("/buckets/bkt").status_code == 404  # fault used up
    emulator.add_fault(Fault(path="/buckets", delay=0.3))
    start = time.monotonic()
    api.get("/buckets")
    assert time.monotonic() - start >= 0.3
    control = httpx.post(
        f"{emulator.url}/__/faults", json={"path": "/buckets", "status": 503}, verify=False
    )
    assert control.status_code == 200
    assert api.get("/buckets").status_code == 503


def test_retries_on_429_and_5xx_reach_success(harness: Harness) -> None:
    """The client retries reads on 429 and 503 (honouring Retry-After) and then succeeds."""
    built = harness.run({"template": "jenkins.pkr.hcl", "channel": "dev"})
    assert built.returncode == 0
    harness.emulator.clear()
    harness.emulator.add_fault(
        Fault(method="GET", path="/channels/dev$", status=429, retry_after=1)
    )
    harness.emulator.add_fault(Fault(method="GET", path="/channels/dev$", status=503))
    run = harness.run({"command": "lookup", "bucket": "jenkins-ha-ami", "channel": "dev"})
    assert run.returncode == 0, run.stdout + run.stderr
    statuses = [
        r["status"]
        for r in harness.emulator.registry_requests()
        if r["path"].endswith("/channels/dev")
    ]
    assert statuses == [429, 503, 200]
    gets = [
        r["time"]
        for r in harness.emulator.registry_requests()
        if r["path"].endswith("/channels/dev")
    ]
    assert gets[1] - gets[0] >= 1.0  # waited for Retry-After
    assert run.stderr.count("retrying") == 2


def test_cli_prints_exports_and_shares_state(tmp_path: Path) -> None:
    """`python -m hcp_action.emulator` prints eval-able exports; --state persists the registry."""
    state = tmp_path / "state.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    cmd = [sys.executable, "-m", "hcp_action.emulator", "--state", str(state), "--foreground"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert proc.stdout is not None
        exports = proc.stdout.readline().strip()
        values = dict(part.removeprefix("export ").split("=", 1) for part in exports.split("; "))
        values = {k: shlex.split(v)[0] for k, v in values.items()}
        assert values["HCP_EMULATOR_PID"] == str(proc.pid)
        assert {
            "HCP_API_ADDRESS",
            "HCP_API_TLS",
            "HCP_AUTH_URL",
            "HCP_CLIENT_ID",
            "HCP_CLIENT_SECRET",
            "HCP_ORGANIZATION_ID",
            "HCP_PROJECT_ID",
        } <= set(values)
        token = httpx.post(
            f"{values['HCP_AUTH_URL']}/oauth2/token",
            data={"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"},
        ).json()["access_token"]
        base = (
            f"http://{values['HCP_API_ADDRESS']}/packer/2023-01-01/organizations/"
            f"{values['HCP_ORGANIZATION_ID']}/projects/{values['HCP_PROJECT_ID']}"
        )
        made = httpx.put(
            f"{base}/buckets",
            json={"name": "persisted"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert made.status_code == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        if proc.stdout is not None:
            proc.stdout.close()
    data = json.loads(state.read_text())
    assert any("persisted" in p["buckets"] for p in data["projects"].values())
    with Emulator(state_file=state) as again:
        assert any("persisted" in p["buckets"] for p in again.registry.data["projects"].values())


def test_eval_head_usage_detaches_and_stops_on_sigterm(tmp_path: Path) -> None:
    """The contract's usage: eval "$(python -m hcp_action.emulator | head -n 1)" returns at
    once, the emulator serves from a detached process, and SIGTERM stops it."""
    script = (
        f'eval "$("{sys.executable}" -m hcp_action.emulator 2>/dev/null | head -n 1)"\n'
        'curl -fsS -o /dev/null -w "%{http_code}\\n" -X POST "$HCP_AUTH_URL/oauth2/token" '
        "-d grant_type=client_credentials -d client_id=a -d client_secret=b\n"
        'echo "$HCP_EMULATOR_PID"\n'
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=env, timeout=30, check=True
    )
    assert time.monotonic() - started < 10
    code, pid = done.stdout.split()
    assert code == "200"
    os.kill(int(pid), signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            if Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").split()[2] == "Z":
                break  # exited; waiting to be reaped by init
        except FileNotFoundError:
            break
        time.sleep(0.1)
    else:
        raise AssertionError("the detached emulator did not stop on SIGTERM")


def test_tls_mode_serves_https(tmp_path: Path) -> None:
    with Emulator(tls=True) as emu:
        env = emu.env()
        assert env["HCP_API_TLS"] == "insecure"
        assert env["HCP_AUTH_URL"].startswith("https://")
        answer = httpx.post(
            f"{emu.url}/oauth2/token",
            verify=False,
            data={"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"},
        )
        assert answer.status_code == 200


def test_one_emulator_per_state_file(tmp_path: Path) -> None:
    """Two emulators on one --state would overwrite each other's confirmed writes."""
    state = tmp_path / "state.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with Emulator(state_file=state):
        second = subprocess.run(
            [sys.executable, "-m", "hcp_action.emulator", "--state", str(state), "--foreground"],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert second.returncode == 2
        assert "in use by another emulator" in second.stderr
        assert f"pid {os.getpid()}" in second.stderr
        assert "Traceback" not in second.stderr
    with Emulator(state_file=state):  # released on stop
        pass


@pytest.mark.parametrize("content", ["{not json", '["a list"]', "\udcff"])
def test_corrupt_state_file_is_a_clear_error(tmp_path: Path, content: str) -> None:
    state = tmp_path / "state.json"
    state.write_bytes(content.encode("utf-8", "surrogateescape"))
    done = subprocess.run(
        [sys.executable, "-m", "hcp_action.emulator", "--state", str(state), "--foreground"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 2
    assert "is not" in done.stderr
    assert "move it away" in done.stderr
    assert "Traceback" not in done.stderr


def test_request_log_holds_no_token_in_clear(harness: Harness) -> None:
    run = harness.run({"template": "jenkins.pkr.hcl", "channel": "dev"})
    assert run.returncode == 0
    served = httpx.get(f"{harness.emulator.url}/__/requests", verify=False).text
    assert harness.emulator.tokens
    for token in harness.emulator.tokens:
        assert token not in served
    assert "access_token" in served  # present, as a digest
    assert "sha256:" in served


# ---- the emulator as HCP really is (contract v2) ------------------------------------------


def test_latest_exists_from_creation_and_follows_valid_versions(api: httpx.Client) -> None:
    """HCP docs (manage/channel): every bucket has `latest` from creation; it follows the
    newest complete, unrevoked version, also when a revocation is undone."""
    api.put("/buckets", json={"name": "bkt"})
    latest = api.get("/buckets/bkt/channels/latest").json()["channel"]
    assert latest["managed"] is True
    assert not (latest.get("version") or {}).get("fingerprint")
    _complete_version(api, "bkt", "fp1")
    _complete_version(api, "bkt", "fp2")

    def on_latest() -> str:
        return str(
            api.get("/buckets/bkt/channels/latest").json()["channel"]["version"]["fingerprint"]
        )

    assert on_latest() == "fp2"
    api.patch("/buckets/bkt/versions/fp2", json={"revoke_in": "0s"})
    assert on_latest() == "fp1"
    api.patch("/buckets/bkt/versions/fp2", json={"restore": True})
    assert on_latest() == "fp2"


def test_scheduled_revocation_is_valid_until_its_time(api: httpx.Client) -> None:
    _complete_version(api, "bkt", "fp1")
    scheduled = api.patch("/buckets/bkt/versions/fp1", json={"revoke_in": "1h"}).json()["version"]
    assert scheduled["status"] == "VERSION_REVOCATION_SCHEDULED"
    assigned = api.post("/buckets/bkt/channels", json={"name": "dev", "version_fingerprint": "fp1"})
    assert assigned.status_code == 200
    latest = api.get("/buckets/bkt/channels/latest").json()["channel"]
    assert latest["version"]["fingerprint"] == "fp1"


def test_version_status_follows_its_builds(api: httpx.Client) -> None:
    api.put("/buckets", json={"name": "bkt"})
    api.post("/buckets/bkt/versions", json={"fingerprint": "fpf", "template_type": "HCL2"})
    ids = [
        api.post(
            "/buckets/bkt/versions/fpf/builds",
            json={"component_type": c, "status": "BUILD_UNSET", "artifacts": None},
        ).json()["build"]["id"]
        for c in ("null.a", "null.b")
    ]

    def patch(build: str, status: str) -> str:
        api.patch(f"/buckets/bkt/versions/fpf/builds/{build}", json={"status": status})
        return str(api.get("/buckets/bkt/versions/fpf").json()["version"]["status"])

    assert patch(ids[0], "BUILD_RUNNING") == "VERSION_RUNNING"
    assert patch(ids[0], "BUILD_FAILED") == "VERSION_FAILED"
    assert patch(ids[1], "BUILD_CANCELLED") == "VERSION_FAILED"
    assert patch(ids[0], "BUILD_UNSET") == "VERSION_CANCELLED"


def test_a_token_is_bound_to_its_organization_and_project(api: httpx.Client) -> None:
    other = str(api.base_url).replace("11111111-2222-3333-4444-555555555555", "another-org")
    refused = httpx.get(f"{other.rstrip('/')}/buckets", headers=api.headers, verify=False)
    assert (refused.status_code, refused.json()["code"]) == (403, 7)


def test_exchange_checks_the_jwt(emulator: Emulator) -> None:
    wip = "iam/project/p1/service-principal/sp1/workload-identity-provider/github"
    url = f"{emulator.url}/2019-12-10/{wip}/exchange-token"

    def exchange(jwt: str) -> int:
        return httpx.post(url, json={"jwt_token": jwt}, verify=False).status_code

    assert exchange(make_jwt(wip)) == 200
    assert exchange("not-a-jwt") == 401
    assert exchange(make_jwt("some-other-audience")) == 401
    assert exchange(make_jwt(wip, lifetime=-10)) == 401


def test_resource_manager_reads_of_the_terraform_provider(api: httpx.Client) -> None:
    root = str(api.base_url).split("/packer/")[0]
    env_org, env_project = (
        "11111111-2222-3333-4444-555555555555",
        ("66666666-7777-8888-9999-000000000000"),
    )
    project = httpx.get(
        f"{root}/resource-manager/2019-12-10/projects/{env_project}",
        headers=api.headers,
        verify=False,
    ).json()["project"]
    assert project["parent"] == {"type": "ORGANIZATION", "id": env_org}
    organizations = httpx.get(
        f"{root}/resource-manager/2019-12-10/organizations", headers=api.headers, verify=False
    ).json()["organizations"]
    assert [o["id"] for o in organizations] == [env_org]
    anonymous = httpx.get(f"{root}/resource-manager/2019-12-10/organizations", verify=False)
    assert anonymous.status_code == 401


def test_plain_mode_exports_auth_tls_disabled() -> None:
    with Emulator() as plain:
        assert plain.env()["HCP_AUTH_TLS"] == "disabled"
        assert plain.env()["HCP_AUTH_URL"].startswith("http://")


# ---- ancestry, artifact search, inherited revocation (for `status`/`find`, issue 14) --------


def _spec_ok(api: httpx.Client, response: httpx.Response) -> None:
    """The answer validates against the operation's 200 schema in HCP's published spec."""
    path = str(response.request.url.path)
    found = operation(response.request.method, path)
    assert found is not None, path
    problems = validate(response.json(), found[1]["responses"]["200"]["schema"])
    assert problems == [], problems


def _child_built_from(api: httpx.Client, parent_bucket: str, parent_fp: str, channel: str) -> None:
    """`child-ami` version c1, its build's DONE body naming the parent, as Packer sends it
    when the template reads its source through hcp-packer-version/-artifact."""
    parent = api.get(f"/buckets/{parent_bucket}/versions/{parent_fp}").json()["version"]
    parent_channel = api.get(f"/buckets/{parent_bucket}/channels/{channel}").json()["channel"]
    api.put("/buckets", json={"name": "child-ami"})
    api.post("/buckets/child-ami/versions", json={"fingerprint": "c1", "template_type": "HCL2"})
    build = api.post(
        "/buckets/child-ami/versions/c1/builds",
        json={"component_type": "amazon-ebs.app", "status": "BUILD_UNSET", "artifacts": None},
    ).json()["build"]
    done = api.patch(
        f"/buckets/child-ami/versions/c1/builds/{build['id']}",
        json={
            "status": "BUILD_DONE",
            "platform": "aws",
            "artifacts": [{"external_identifier": "ami-0child", "region": "us-east-1"}],
            "parent_version_id": parent["id"],
            "parent_channel_id": parent_channel["id"],
        },
    )
    assert done.status_code == 200
    assert "parent_version_id" not in done.json()["build"]  # not part of the Build model


def test_ancestry_from_the_done_body(api: httpx.Client) -> None:
    _complete_version(api, "base-ami", "b1")
    api.post("/buckets/base-ami/channels", json={"name": "production", "version_fingerprint": "b1"})
    _child_built_from(api, "base-ami", "b1", "production")
    parents = api.get("/buckets/child-ami/ancestry", params={"type": "ANCESTRY_TYPE_PARENTS"})
    _spec_ok(api, parents)
    (relation,) = parents.json()["relations"]
    assert relation["parent"]["bucket_name"] == "base-ami"
    assert relation["parent"]["channel_name"] == "production"
    assert relation["status"] == "UP_TO_DATE"
    _complete_version(api, "base-ami", "b2")
    api.patch(
        "/buckets/base-ami/channels/production",
        json={"version_fingerprint": "b2", "update_mask": "versionFingerprint"},
    )
    children = api.get("/buckets/base-ami/ancestry", params={"type": "ANCESTRY_TYPE_CHILDREN"})
    _spec_ok(api, children)
    (moved,) = children.json()["relations"]
    assert moved["child"]["bucket_name"] == "child-ami"
    assert moved["status"] == "OUT_OF_DATE"
    assert moved["parent"]["channel_version"]["fingerprint"] == "b2"


def test_search_external_artifact(api: httpx.Client) -> None:
    _complete_version(api, "base-ami", "b1")
    api.post("/buckets/base-ami/channels", json={"name": "production", "version_fingerprint": "b1"})
    _child_built_from(api, "base-ami", "b1", "production")
    found = api.post(
        "/_search/external_artifact",
        json={"external_identifier": "ami-0child", "platform": "aws", "region": "us-east-1"},
    )
    _spec_ok(api, found)
    (artifact,) = found.json()["artifacts"]
    assert artifact["bucket"]["name"] == "child-ami"
    assert artifact["version"]["fingerprint"] == "c1"
    none = api.post("/_search/external_artifact", json={"external_identifier": "ami-nope"})
    assert none.json()["artifacts"] == []


def test_revocation_is_inherited_unless_skipped(emulator: Emulator, api: httpx.Client) -> None:
    """HCP revokes descendants asynchronously ("descendants will get revoked asynchronously"):
    right after the parent's revocation the child is still valid, and inherits later — unless
    skip_descendants_revocation."""
    _complete_version(api, "base-ami", "b1")
    api.post("/buckets/base-ami/channels", json={"name": "production", "version_fingerprint": "b1"})
    _child_built_from(api, "base-ami", "b1", "production")
    emulator.registry.inherit_delay = 0  # with skip, nothing may come, not even later
    kept = api.patch(
        "/buckets/base-ami/versions/b1",
        json={"revoke_in": "0s", "skip_descendants_revocation": True},
    )
    assert kept.status_code == 200
    child = api.get("/buckets/child-ami/versions/c1").json()["version"]
    assert child["status"] == "VERSION_ACTIVE"
    api.patch("/buckets/base-ami/versions/b1", json={"restore": True})
    emulator.registry.inherit_delay = 3.0
    api.patch("/buckets/base-ami/versions/b1", json={"revoke_in": "0s"})
    child = api.get("/buckets/child-ami/versions/c1").json()["version"]
    assert child["status"] == "VERSION_ACTIVE"  # not yet: HCP is asynchronous

    def inherited() -> dict[str, Any] | None:
        found: dict[str, Any] = api.get("/buckets/child-ami/versions/c1").json()["version"]
        return found if found["status"] == "VERSION_REVOKED" else None

    child = eventually(inherited)
    assert child["revocation_type"] == "INHERITED"
    assert child["revocation_inherited_from"]["version_fingerprint"] == "b1"


def test_list_versions_order_is_what_the_client_asks(api: httpx.Client) -> None:
    """HCP documents `sorting.order_by` but not a default order: the emulator's default is
    oldest first (the least useful), so only a client that asks gets the newest page."""
    for fp in ("o1", "o2", "o3"):
        _complete_version(api, "ordered", fp)
    default = api.get("/buckets/ordered/versions", params={"pagination.page_size": "2"})
    _spec_ok(api, default)
    assert [v["fingerprint"] for v in default.json()["versions"]] == ["o1", "o2"]
    newest = api.get(
        "/buckets/ordered/versions",
        params={"pagination.page_size": "2", "sorting.order_by": "created_at desc"},
    )
    assert [v["fingerprint"] for v in newest.json()["versions"]] == ["o3", "o2"]
    bad = api.get("/buckets/ordered/versions", params={"sorting.order_by": "colour desc"})
    assert bad.status_code == 400
    assert bad.json()["code"] == 3


def test_revoke_says_when_the_descendant_walk_is_cut(harness: Harness, api: httpx.Client) -> None:
    """A chain deeper than the walk's bound (10 generations): revoke lists what it read and
    says the list was cut, instead of presenting it as complete."""
    _complete_version(api, "gen-0", "g0")
    api.post("/buckets/gen-0/channels", json={"name": "production", "version_fingerprint": "g0"})
    for n in range(1, 12):
        parent = api.get(f"/buckets/gen-{n - 1}/versions/g{n - 1}").json()["version"]
        channel = api.get(f"/buckets/gen-{n - 1}/channels/production").json()["channel"]
        bucket, fp = f"gen-{n}", f"g{n}"
        api.put("/buckets", json={"name": bucket})
        api.post(f"/buckets/{bucket}/versions", json={"fingerprint": fp})
        build = api.post(
            f"/buckets/{bucket}/versions/{fp}/builds",
            json={"component_type": "amazon-ebs.x", "status": "BUILD_UNSET", "artifacts": None},
        ).json()["build"]
        api.patch(
            f"/buckets/{bucket}/versions/{fp}/builds/{build['id']}",
            json={
                "status": "BUILD_DONE",
                "platform": "aws",
                "artifacts": [{"external_identifier": f"ami-{n:017x}", "region": "us-east-1"}],
                "parent_version_id": parent["id"],
                "parent_channel_id": channel["id"],
            },
        )
        api.post(
            f"/buckets/{bucket}/channels", json={"name": "production", "version_fingerprint": fp}
        )
    run = harness.run(
        {
            "command": "revoke",
            "bucket": "gen-0",
            "version-fingerprint": "g0",
            "force": "true",
            "dry-run": "true",
        }
    )
    assert run.returncode == 0, run.stdout
    listed = json.loads(run.outputs["descendants"])
    assert [d["bucket"] for d in listed] == [f"gen-{n}" for n in range(1, 11)]
    assert "HCP's revocation may reach more" in run.summary
