"""The same app served over a socket: the CLI, and a dropped connection on a real TCP stream."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from tests._served import free_port, served_fake_process, wait_for_port
from thredfi_async.testing import FakeThredfi


@pytest.fixture
def served() -> Iterator[tuple[FakeThredfi, str]]:
    """A fake served by uvicorn in a background thread of this process."""
    port = free_port()
    fake = FakeThredfi(base_url=f"http://127.0.0.1:{port}", drop_style="truncate")
    server = uvicorn.Server(
        uvicorn.Config(fake.app, host="127.0.0.1", port=port, log_level="critical", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port(port)
    try:
        yield fake, fake.base_url
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_dropped_connection_over_a_socket_is_a_protocol_error(
    served: tuple[FakeThredfi, str],
) -> None:
    fake, base_url = served
    with httpx.Client(base_url=base_url) as http:
        token = http.post("/v1/platform/oauth2/token/", auth=(fake.partner_uuid, fake.api_key))
        assert token.status_code == 200
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        fake.faults.drop_connection(operation_id="list_businesses")
        with pytest.raises(httpx.RemoteProtocolError):
            http.get("/v1/platform/businesses/", headers=headers)
        assert http.get("/v1/platform/businesses/", headers=headers).status_code == 200
        fake.faults.fail(429, retry_after=3)
        limited = http.get("/v1/platform/businesses/", headers=headers)
        assert (limited.status_code, limited.headers["retry-after"]) == (429, "3")


def test_cli_serves_and_prints_credentials() -> None:
    port = free_port()
    flags = ("--seed-businesses", "1", "--log-level", "warning")
    with served_fake_process(*flags, port=port, until="business_id") as printed:
        assert printed["THREDFI_BASE_URL"] == f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=printed["THREDFI_BASE_URL"]) as http:
            token = http.post(
                "/v1/platform/oauth2/token/",
                auth=(printed["THREDFI_PARTNER_UUID"], printed["THREDFI_API_KEY"]),
                data={"grant_type": "client_credentials"},
            )
            assert token.status_code == 200
            headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
            business = http.get(
                f"/v1/platform/businesses/{printed['business_id']}/invoices/", headers=headers
            )
            assert business.status_code == 200
            assert business.json()["count"] == 15  # 5 customers x 3 invoices by default
