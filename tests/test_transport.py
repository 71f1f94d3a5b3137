"""The default transport over real sockets: which one runs, what it sends, how it fails.

The retry rule decides from the kind of connection error whether a request may have reached
the server, so the aiohttp transport must report a failure to connect as a connect error and
anything after the request was written as something else: that is what stops a replayed create.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from typing import Any

import anyio
import httpx
import pytest
import respx
from pytest_httpx import HTTPXMock

from thredfi_async import (
    APIConnectionError,
    APITimeoutError,
    AsyncThredfi,
    UnexpectedResponseError,
)
from thredfi_async._aiohttp_transport import AiohttpTransport
from thredfi_async._transport import AutoTransport
from thredfi_async.testing import FakeThredfi

from ._readme import readme_block
from ._served import free_port, install_fake, serving

PARTNER, KEY = "0b5f6c1e-9a43-4a8e-8a2d-4f7b2c1d9e01", "sk_test_transport"
BUSINESS = "5d1c1c33-5f3a-4b8e-9a55-3b2f0e1d7c42"
TOKEN = json.dumps({"access_token": "tok_transport", "expires_in": 3600}).encode()
CUSTOMER = json.dumps({"id": "c1", "company_name": "Globex"}).encode()

Handler = Callable[[bytes, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def answer(body: bytes, *, status: str = "200 OK", headers: str = "") -> bytes:
    return (
        f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n{headers}\r\n"
    ).encode() + body


class RawServer:
    """An HTTP/1.1 server that answers token requests and hands every other request, as
    read off the socket, to `handler`, so a test decides exactly how the connection ends."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: list[bytes] = []

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                head += await reader.readexactly(length)
                if b"/oauth2/token/" in head.split(b"\r\n", 1)[0]:
                    writer.write(answer(TOKEN))
                    await writer.drain()
                    continue
                self.requests.append(head)
                await self.handler(head, reader, writer)
                if writer.is_closing():
                    return
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    @asynccontextmanager
    async def running(self) -> AsyncIterator[str]:
        server = await asyncio.start_server(self._connection, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            yield f"http://127.0.0.1:{port}"


class RecordedWaits:
    """The client's clock: retry waits are recorded, not slept."""

    def __init__(self) -> None:
        self.sleeps: list[float] = []

    def time(self) -> float:
        return 1_700_000_000.0

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def client(base_url: str, **kwargs: object) -> AsyncThredfi:
    kwargs.setdefault("max_retries", 2)
    return AsyncThredfi(PARTNER, KEY, base_url=base_url, **kwargs)  # type: ignore[arg-type]


async def hang_up(head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """The request arrived whole; the server closes without a word."""
    writer.close()


async def ok_customer(
    head: bytes, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    writer.write(answer(CUSTOMER))
    await writer.drain()


# -- which transport ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def served() -> Iterator[FakeThredfi]:
    with serving() as board:
        fake = install_fake(board)
        fake.seed(customers_per_business=1, invoices_per_customer=1)
        yield fake


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_aiohttp_under_asyncio_and_httpx_under_trio_with_the_pool_sized_from_slots(
    anyio_backend: str, served: FakeThredfi
) -> None:
    async with AsyncThredfi(
        served.partner_uuid, served.api_key, base_url=served.base_url, max_concurrent_requests=7
    ) as thredfi:
        listed = await thredfi.businesses.list()
        assert listed.count is not None
        transport = thredfi.http_client._transport
        assert isinstance(transport, AutoTransport)
        if anyio_backend == "asyncio":
            assert isinstance(transport.selected, AiohttpTransport)
            assert transport.selected.session is not None
            assert transport.selected.session.connector is not None
            assert transport.selected.session.connector.limit == 7
        else:
            assert isinstance(transport.selected, httpx.AsyncHTTPTransport)
            assert transport.selected._pool._max_connections == 7
    assert thredfi.http_client.is_closed


async def _list_once(fake: FakeThredfi) -> int:
    async with AsyncThredfi(fake.partner_uuid, fake.api_key, base_url=fake.base_url) as thredfi:
        return len((await thredfi.businesses.list()).results or [])


def test_one_client_serves_two_event_loops_in_turn(served: FakeThredfi) -> None:
    thredfi = AsyncThredfi(served.partner_uuid, served.api_key, base_url=served.base_url)

    async def call() -> Any:
        return await thredfi.businesses.list()

    first = asyncio.run(call())
    second = asyncio.run(call())  # a new loop: a new session, not the first loop's sockets
    assert first.count == second.count == len(served.business_ids)
    asyncio.run(thredfi.aclose())
    assert thredfi.http_client.is_closed


# -- what goes on the wire ----------------------------------------------------------------


@pytest.mark.asyncio
async def test_the_request_carries_exactly_the_sdk_headers() -> None:
    server = RawServer(ok_customer)
    async with server.running() as base_url, client(base_url) as thredfi:
        await thredfi.business(BUSINESS).customers.create(body={"company_name": "Globex"})
    head = server.requests[0].decode()
    lines = head.split("\r\n\r\n", 1)[0].split("\r\n")
    assert lines[0] == f"POST /v1/platform/businesses/{BUSINESS}/customers/ HTTP/1.1"
    names = [line.split(":", 1)[0].lower() for line in lines[1:] if ":" in line]
    assert sorted(set(names)) == sorted(
        {
            "host",
            "accept",
            "accept-encoding",
            "user-agent",
            "idempotency-key",
            "content-type",
            "content-length",
            "authorization",
        }
    )
    assert len(names) == len(set(names))  # nothing twice
    assert "User-Agent: thredfi-async/" in head
    assert "Authorization: Bearer tok_transport" in head
    assert head.endswith('{"company_name":"Globex"}')


@pytest.mark.asyncio
async def test_proxies_come_from_the_environment_as_with_httpx(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    server = RawServer(ok_customer)
    async with server.running() as proxy_url:
        monkeypatch.setenv("HTTP_PROXY", proxy_url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        async with client("http://api.thredfi.invalid") as thredfi:
            await thredfi.business(BUSINESS).customers.get("c1")
    request_line = server.requests[0].split(b"\r\n", 1)[0]
    path = f"/v1/platform/businesses/{BUSINESS}/customers/c1/"
    assert request_line == f"GET http://api.thredfi.invalid{path} HTTP/1.1".encode()


@pytest.mark.asyncio
async def test_a_gzip_body_is_decoded_and_capped_by_its_decoded_size() -> None:
    inflated = json.dumps({"id": "c1", "company_name": "G" * 50_000}).encode()

    async def gzipped(head: bytes, reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        w.write(answer(gzip.compress(inflated), headers="Content-Encoding: gzip\r\n"))
        await w.drain()

    server = RawServer(gzipped)
    async with server.running() as base_url:
        async with client(base_url) as thredfi:
            customer = await thredfi.business(BUSINESS).customers.get("c1")
            assert customer.company_name == "G" * 50_000
        async with client(base_url, max_response_bytes=10_000) as thredfi:
            with pytest.raises(UnexpectedResponseError, match="max_response_bytes"):
                await thredfi.business(BUSINESS).customers.get("c1")


# -- how it fails -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_hang_up_after_a_create_was_sent_is_not_replayed() -> None:
    server = RawServer(hang_up)
    async with server.running() as base_url, client(base_url) as thredfi:
        with pytest.raises(APIConnectionError) as caught:
            await thredfi.business(BUSINESS).customers.create(body={"company_name": "Globex"})
    assert not isinstance(caught.value.__cause__, httpx.ConnectError | httpx.ConnectTimeout)
    assert isinstance(caught.value.__cause__, httpx.TransportError)
    assert len(server.requests) == 1  # it may have been created: never sent twice


@pytest.mark.asyncio
async def test_a_hang_up_on_a_get_is_retried() -> None:
    server = RawServer(hang_up)
    waits = RecordedWaits()
    async with server.running() as base_url, client(base_url, clock=waits) as thredfi:
        with pytest.raises(APIConnectionError):
            await thredfi.business(BUSINESS).customers.get("c1")
    assert len(waits.sleeps) == 2  # three attempts
    # aiohttp replays an idempotent request once by itself when a reused keep-alive
    # connection turns out closed (RFC 9112, 9.3.1), so an attempt is one or two requests.
    assert 3 <= len(server.requests) <= 6


@pytest.mark.asyncio
async def test_a_truncated_body_is_a_connection_error_and_a_get_is_retried() -> None:
    calls = 0

    async def truncated(head: bytes, reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            w.write(answer(CUSTOMER)[:-5])  # Content-Length promises five bytes more
            await w.drain()
            w.close()
        else:
            await ok_customer(head, reader, w)

    server = RawServer(truncated)
    async with server.running() as base_url, client(base_url) as thredfi:
        customer = await thredfi.business(BUSINESS).customers.get("c1")
    assert customer.company_name == "Globex"
    assert len(server.requests) == 2


@pytest.mark.asyncio
async def test_a_refused_connection_is_a_connect_error_so_even_a_create_is_retried() -> None:
    waits = RecordedWaits()
    base_url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    async with client(base_url, clock=waits) as thredfi:
        with pytest.raises(APIConnectionError) as caught:
            await thredfi.businesses.list()
    assert isinstance(caught.value.__cause__, httpx.ConnectError)
    assert len(waits.sleeps) == 2  # the partner token exchange was retried twice: never sent


@pytest.mark.asyncio
async def test_a_server_that_never_answers_times_out_and_a_create_is_not_replayed() -> None:
    async def silent(head: bytes, reader: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
        await asyncio.sleep(30)

    server = RawServer(silent)
    async with server.running() as base_url, client(base_url, timeout=0.3) as thredfi:
        with anyio.fail_after(10):
            with pytest.raises(APITimeoutError):
                await thredfi.business(BUSINESS).customers.create(body={"company_name": "G"})
    assert len(server.requests) == 1


# -- mocking libraries see the SDK's requests through an httpx client ---------------------


@pytest.mark.asyncio
async def test_the_readme_pytest_httpx_example_runs_as_written(httpx_mock: HTTPXMock) -> None:
    namespace: dict[str, Any] = {}
    exec(readme_block("httpx_mock: HTTPXMock"), namespace)
    await namespace["test_lists_no_businesses"](httpx_mock)
    assert [str(r.url) for r in httpx_mock.get_requests()] == [
        "https://sandbox.thredfi.com/v1/platform/oauth2/token/",
        "https://sandbox.thredfi.com/v1/platform/businesses/",
    ]


@pytest.mark.asyncio
async def test_respx_sees_the_sdk_requests_through_an_httpx_client() -> None:
    api = "https://sandbox.thredfi.com/v1/platform"
    with respx.mock(assert_all_called=True) as mock:
        mock.post(f"{api}/oauth2/token/").respond(json={"access_token": "t", "expires_in": 60})
        listed = mock.get(f"{api}/businesses/").respond(json={"count": 0, "results": []})
        async with AsyncThredfi("partner", "key", http_client=httpx.AsyncClient()) as thredfi:
            page = await thredfi.businesses.list()
    assert page.count == 0
    assert listed.calls.last.request.headers["authorization"] == "Bearer t"


def test_importing_the_sdk_does_not_import_aiohttp() -> None:
    """aiohttp is half the SDK's import time; it loads at the first request under asyncio."""
    code = (
        "import sys, thredfi_async; "
        "print('aiohttp' in sys.modules, 'thredfi_async._sync_client' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False
    )
    assert result.stdout.split() == ["False", "False"], result.stderr
