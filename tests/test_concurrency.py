"""max_concurrent_requests: calls beyond the limit wait their turn; token exchanges never do."""

from __future__ import annotations

import functools
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest

import thredfi_async as t

from .conftest import API_KEY, BASE_URL, PARTNER_UUID, TokenEndpoints, fake_jwt

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class InFlight(httpx.AsyncBaseTransport):
    """Counts data requests on the wire at once; token exchanges are answered by `tokens`."""

    def __init__(self, tokens: TokenEndpoints, rejected_token: str | None = None) -> None:
        self.tokens = tokens
        self.now = 0
        self.peak = 0
        self.data_requests = 0
        self.rejected_token = rejected_token

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answered = self.tokens.handle(request)
        if answered is not None:
            await anyio.lowlevel.checkpoint()
            return answered
        self.now += 1
        self.peak = max(self.peak, self.now)
        self.data_requests += 1
        try:
            for _ in range(3):
                await anyio.lowlevel.checkpoint()
            if request.headers["authorization"] == f"Bearer {self.rejected_token}":
                return httpx.Response(401, json={"error_code": "invalid_token"})
            return httpx.Response(200, json={"id": "cus-1"})
        finally:
            self.now -= 1


def client(transport: httpx.AsyncBaseTransport, **kwargs: Any) -> t.AsyncThredfi:
    return t.AsyncThredfi(
        PARTNER_UUID,
        API_KEY,
        base_url=BASE_URL,
        http_client=httpx.AsyncClient(transport=transport),
        **kwargs,
    )


async def test_calls_beyond_the_limit_wait_their_turn(anyio_backend: str) -> None:
    transport = InFlight(TokenEndpoints())
    async with (
        client(transport, max_concurrent_requests=5) as thredfi,
        anyio.create_task_group() as group,
    ):
        for n in range(100):
            group.start_soon(thredfi.business(f"biz-{n % 10}").customers.get, "cus-1")
    assert transport.data_requests == 100
    assert transport.peak == 5


async def test_without_a_limit_every_call_goes_at_once(anyio_backend: str) -> None:
    transport = InFlight(TokenEndpoints())
    async with (
        client(transport, max_concurrent_requests=None) as thredfi,
        anyio.create_task_group() as group,
    ):
        for _ in range(50):
            group.start_soon(thredfi.business("biz-1").customers.get, "cus-1")
    assert transport.peak == 50


async def test_a_token_refresh_while_every_slot_is_held_does_not_deadlock(
    anyio_backend: str,
) -> None:
    """All slots hold calls whose token was just rejected; the re-fetch must not need a slot."""
    tokens = TokenEndpoints()
    transport = InFlight(tokens, rejected_token=fake_jwt("biz-1", 1))
    async with client(transport, max_concurrent_requests=2) as thredfi:
        with anyio.fail_after(10):
            async with anyio.create_task_group() as group:
                for _ in range(10):
                    group.start_soon(thredfi.business("biz-1").customers.get, "cus-1")
    assert tokens.calls["biz-1"] == 2  # the rejected token, then one refresh for everyone
    assert transport.peak <= 2


def test_the_limit_is_checked() -> None:
    for bad in (0, -1, 2.5, True):
        with pytest.raises(t.InvalidRequestError, match="max_concurrent_requests"):
            t.AsyncThredfi(PARTNER_UUID, API_KEY, max_concurrent_requests=bad)  # type: ignore[arg-type]


async def test_waiting_for_a_slot_does_not_count_against_the_attempt_timeout(
    anyio_backend: str,
) -> None:
    """The token is obtained inside the attempt's time limit, the slot wait that follows is
    not: a call queued behind a slow one longer than its timeout still gets its answer."""
    release = anyio.Event()
    first_on_the_wire = anyio.Event()

    class HoldFirst(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            answered = tokens.handle(request)
            if answered is not None:
                return answered
            if request.url.path.endswith("/slow/"):
                first_on_the_wire.set()
                await release.wait()
            return httpx.Response(200, json={"id": "cus-1"})

    tokens = TokenEndpoints()
    async with client(HoldFirst(), max_concurrent_requests=1) as thredfi:
        books = thredfi.business("biz-1")
        await books.customers.get("warm-up")  # both tokens cached
        outcome: list[str] = []

        async def queued() -> None:
            outcome.append(
                str((await books.customers.get("cus-1", timeout=0.05, max_retries=0)).id)
            )

        with anyio.fail_after(10):
            async with anyio.create_task_group() as group:
                group.start_soon(functools.partial(books.customers.get, "slow", timeout=None))
                await first_on_the_wire.wait()
                group.start_soon(queued)
                await anyio.sleep(0.2)  # real time: four times the queued call's timeout
                release.set()
    assert outcome == ["cus-1"]
