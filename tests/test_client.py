"""The HCP client in-process against the emulator: token reuse and renewal, error mapping."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hcp_action.emulator import Emulator, Fault
from hcp_action.errors import Aborted, AuthError, NotFound, TransportError
from hcp_action.hcp.client import HcpPackerClient
from hcp_action.hcp.credentials import ServicePrincipal
from hcp_action.hcp.endpoints import Endpoints
from hcp_action.hcp.retry import RetryConfig
from hcp_action.secret import Secret

FAST = RetryConfig(timeout=2, base=0.01, max_wait=0.02, deadline=1, attempts=4)


@pytest.fixture
def minted() -> list[str]:
    return []


@pytest.fixture
def client(emulator: Emulator, client_secret: str, minted: list[str]) -> Iterator[HcpPackerClient]:
    env = emulator.env()
    with HcpPackerClient(
        endpoints=Endpoints.from_environ(env),
        credentials=ServicePrincipal(env["HCP_CLIENT_ID"], Secret(client_secret)),
        organization_id=env["HCP_ORGANIZATION_ID"],
        project_id=env["HCP_PROJECT_ID"],
        retry=FAST,
        on_token=minted.append,
    ) as c:
        yield c


def _token_requests(emulator: Emulator) -> int:
    return sum(1 for r in emulator.registry_requests() if r["path"] == "/oauth2/token")


def test_one_token_per_run_and_one_renewal_on_401(
    client: HcpPackerClient, emulator: Emulator, minted: list[str]
) -> None:
    with pytest.raises(NotFound):
        client.get_channel("nobucket", "dev")
    with pytest.raises(NotFound):
        client.get_channel("nobucket", "dev")
    assert _token_requests(emulator) == 1
    assert len(minted) == 1
    emulator.tokens.clear()  # the token expires server-side
    with pytest.raises(NotFound):
        client.get_channel("nobucket", "dev")
    assert _token_requests(emulator) == 2
    assert len(minted) == 2  # the new token was handed to the masker too


def test_missing_version_maps_to_aborted(client: HcpPackerClient, emulator: Emulator) -> None:
    with emulator.registry.lock:
        env = emulator.env()
        emulator.registry.create_bucket(
            env["HCP_ORGANIZATION_ID"], env["HCP_PROJECT_ID"], {"name": "bkt"}
        )
    with pytest.raises(Aborted) as caught:
        client.get_version("bkt", "nope")
    assert caught.value.code == 10
    assert caught.value.http_status == 409


def test_wrong_secret_is_auth_error(emulator: Emulator) -> None:
    env = emulator.env()
    with (
        HcpPackerClient(
            endpoints=Endpoints.from_environ(env),
            credentials=ServicePrincipal(env["HCP_CLIENT_ID"], Secret("wrong")),
            organization_id="o",
            project_id="p",
            retry=FAST,
            on_token=lambda _t: None,
        ) as c,
        pytest.raises(AuthError),
    ):
        c.get_channel("b", "c")


def test_persistent_503_gives_up_with_the_last_answer(
    client: HcpPackerClient, emulator: Emulator
) -> None:
    emulator.add_fault(Fault(method="GET", path="/channels/", status=503, times=-1))
    with pytest.raises(Exception) as caught:
        client.get_channel("bkt", "dev")
    assert "HTTP 503" in str(caught.value)
    attempts = [r for r in emulator.registry_requests() if "/channels/" in r["path"]]
    assert 2 <= len(attempts) <= FAST.attempts


def test_connection_reset_is_retried_then_reported(
    client: HcpPackerClient, emulator: Emulator
) -> None:
    emulator.add_fault(Fault(method="GET", path="/channels/", reset=True, times=-1))
    with pytest.raises(TransportError) as caught:
        client.get_channel("bkt", "dev")
    assert "did not answer" in caught.value.message


def test_writes_are_not_retried_on_5xx(client: HcpPackerClient, emulator: Emulator) -> None:
    emulator.add_fault(Fault(method="POST", path="/channels$", status=500, times=-1))
    with pytest.raises(Exception) as caught:
        client.create_channel("bkt", "dev", "fp")
    assert "HTTP 500" in str(caught.value)
    posts = [
        r
        for r in emulator.registry_requests()
        if r["method"] == "POST" and r["path"].endswith("/channels")
    ]
    assert len(posts) == 1
