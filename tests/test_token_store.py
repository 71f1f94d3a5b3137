"""Token stores that misbehave: down, stale or slow. None of it may fail or stall a call.

A TokenStore is a cache in front of the token exchanges, usually a shared one (Redis,
memcached) that can be unreachable, lag behind, or answer slowly. Every test runs under asyncio
and trio, on the CountingTransport of test_tokens and a RecordingClock.
"""

from __future__ import annotations

import logging
from collections import Counter

import anyio
import httpx
import pytest

from thredfi_async import Token
from thredfi_async._tokens import TokenManager
from thredfi_async.testing import RecordingClock

from .conftest import API_KEY, fake_jwt
from .test_tokens import (
    BUSINESS,
    T0,
    CountingTransport,
    Reply,
    bearer,
    error,
    get_customer_of,
    is_token_request,
    make_thredfi,
)

pytestmark = pytest.mark.anyio

STORE_SECRET = "hunter2-store-password"
OTHER_BUSINESS_ID = "0c0ffee0-1111-4222-8333-444455556666"


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class CacheDown(ConnectionError):
    """What a Redis client raises when the cache is unreachable (with its URL in the message)."""

    def __init__(self) -> None:
        super().__init__(f"redis://:{STORE_SECRET}@cache:6379 unreachable")


class FlakyStore:
    """A dict-backed store whose listed operations raise CacheDown; it counts every call."""

    def __init__(self, failing: set[str]) -> None:
        self.failing = failing
        self.tokens: dict[str, Token] = {}
        self.calls: Counter[str] = Counter()

    def _call(self, operation: str) -> None:
        self.calls[operation] += 1
        if operation in self.failing:
            raise CacheDown

    async def get(self, key: str) -> Token | None:
        self._call("get")
        await anyio.lowlevel.checkpoint()
        return self.tokens.get(key)

    async def set(self, key: str, token: Token) -> None:
        self._call("set")
        await anyio.lowlevel.checkpoint()
        self.tokens[key] = token

    async def invalidate(self, key: str) -> None:
        self._call("invalidate")
        await anyio.lowlevel.checkpoint()
        self.tokens.pop(key, None)


def rejecting(*dead: str) -> CountingTransport:
    """A transport whose API answers 401 to a data call carrying any of the `dead` tokens."""

    def handler(request: httpx.Request) -> Reply:
        if not is_token_request(request) and request.headers["authorization"] in dead:
            return error(401, "invalid_token")
        return None

    return CountingTransport(handler)


# -- a store that is down ------------------------------------------------------------------


async def test_a_store_whose_get_and_set_raise_still_serves_100_calls_on_one_token(
    anyio_backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="thredfi_async")
    store = FlakyStore(failing={"get", "set", "invalidate"})
    transport = CountingTransport()
    answered: list[str] = []
    async with make_thredfi(transport, token_store=store) as thredfi:

        async def call(n: int) -> None:
            answered.append(str((await get_customer_of(thredfi, BUSINESS, n)).id))

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:  # 50 at once: single flight still holds
                for n in range(50):
                    tg.start_soon(call, n)
            for n in range(50, 100):  # then one by one: each finds the token held in process
                await call(n)

    assert sorted(answered) == sorted(f"cus-{n}" for n in range(100))
    # Fetched once each and reused, not re-fetched per call, although the store kept nothing.
    assert transport.tokens.calls == Counter({"partner": 1, BUSINESS: 1})
    assert store.tokens == {}
    assert store.calls["get"] >= 50  # each call made one by one asked it first
    assert store.calls["set"] == 2
    assert {r.headers["authorization"] for r in transport.data_requests} == {
        bearer(fake_jwt(BUSINESS, 1))
    }
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # once when the outage is first seen, not once per call
    assert "token store get failed (CacheDown)" in warnings[0].getMessage()
    for record in caplog.records:
        message = record.getMessage()
        for secret in (STORE_SECRET, API_KEY, *transport.every_issued_token()):
            assert secret not in message


async def test_a_store_whose_set_alone_fails_still_reuses_the_fetched_token(
    anyio_backend: str,
) -> None:
    """get works but finds nothing (set never succeeded): the token is still not lost."""
    store = FlakyStore(failing={"set"})
    transport = CountingTransport()
    async with make_thredfi(transport, token_store=store) as thredfi:
        for n in range(20):
            await get_customer_of(thredfi, BUSINESS, n)
    assert transport.tokens.calls == Counter({"partner": 1, BUSINESS: 1})
    assert len(transport.data_requests) == 20


@pytest.mark.parametrize("failing", [{"invalidate"}, {"get", "set", "invalidate"}])
async def test_a_401_replays_with_a_new_token_though_the_store_cannot_invalidate(
    anyio_backend: str, failing: set[str]
) -> None:
    store = FlakyStore(failing=failing)
    transport = rejecting(bearer(fake_jwt(BUSINESS, 1)))
    async with make_thredfi(transport, token_store=store) as thredfi:
        first = await get_customer_of(thredfi, BUSINESS, 1)
        second = await get_customer_of(thredfi, BUSINESS, 2)

    assert (first.id, second.id) == ("cus-1", "cus-2")
    assert [r.headers["authorization"] for r in transport.data_requests] == [
        bearer(fake_jwt(BUSINESS, 1)),  # rejected
        bearer(fake_jwt(BUSINESS, 2)),  # the replay
        bearer(fake_jwt(BUSINESS, 2)),  # the new token is the one kept
    ]
    assert store.calls["invalidate"] == 1
    assert transport.tokens.calls[BUSINESS] == 2


async def test_a_store_that_comes_back_is_used_again(anyio_backend: str) -> None:
    store = FlakyStore(failing={"get", "set", "invalidate"})
    transport = CountingTransport()
    async with make_thredfi(transport, token_store=store) as thredfi:
        await get_customer_of(thredfi, BUSINESS, 1)
        store.failing = set()
        await get_customer_of(thredfi, OTHER_BUSINESS_ID, 2)  # fetched now, and stored

    assert sorted(store.tokens) == [thredfi._tokens.key(OTHER_BUSINESS_ID)]
    assert transport.tokens.calls == Counter({"partner": 1, BUSINESS: 1, OTHER_BUSINESS_ID: 1})


# -- a store that is stale -----------------------------------------------------------------


class StaleReplica(FlakyStore):
    """A replicated store read from a replica that has not seen the invalidate (nor the set
    that follows it, until replication catches up): invalidate has no effect on what get sees."""

    def __init__(self) -> None:
        super().__init__(failing=set())

    async def invalidate(self, key: str) -> None:
        self.calls["invalidate"] += 1
        await anyio.lowlevel.checkpoint()


async def test_a_store_whose_invalidate_has_no_effect_does_not_replay_the_dead_token(
    anyio_backend: str,
) -> None:
    dead = bearer(fake_jwt(BUSINESS, 1))
    store = StaleReplica()
    transport = rejecting(dead)
    async with make_thredfi(transport, token_store=store) as thredfi:
        customer = await get_customer_of(thredfi, BUSINESS, 1)

    assert customer.id == "cus-1"
    assert [r.headers["authorization"] for r in transport.data_requests] == [
        dead,
        bearer(fake_jwt(BUSINESS, 2)),  # fetched, not read back from the store
    ]
    assert store.calls["invalidate"] == 1
    assert transport.tokens.calls[BUSINESS] == 2


async def test_after_a_401_a_stored_token_is_taken_only_if_newer_than_the_rejected_one(
    anyio_backend: str,
) -> None:
    """The TokenManager itself: a replica serving an older token is bypassed; a newer one (a
    refresh by another process) is used without fetching."""
    store = StaleReplica()
    fetched: list[str] = []

    async def fetch(business_id: str | None) -> Token:
        fetched.append(f"fetched-{len(fetched) + 1}")
        return Token(fetched[-1], expires_at=T0 + 3600 + len(fetched), refresh_at=T0 + 3300)

    manager = TokenManager(fetch=fetch, store=store, clock=RecordingClock(T0), namespace="p")
    key = manager.key(BUSINESS)
    rejected = Token("rejected", expires_at=T0 + 3600, refresh_at=T0 + 3300)

    store.tokens[key] = Token("older", expires_at=T0 + 3000, refresh_at=T0 + 2700)
    assert (await manager.replace(BUSINESS, rejected)).access_token == "fetched-1"

    store.tokens[key] = Token("newer", expires_at=T0 + 7200, refresh_at=T0 + 6900)
    assert (await manager.replace(BUSINESS, rejected)).access_token == "newer"
    assert fetched == ["fetched-1"]


# -- a store that is slow ------------------------------------------------------------------


class SlowForBusinesses(FlakyStore):
    """Answers partner-token lookups at once; business-token lookups wait for `open`."""

    def __init__(self) -> None:
        super().__init__(failing=set())
        self.open = anyio.Event()
        self.waiting = 0

    async def get(self, key: str) -> Token | None:
        if ":business:" in key and not self.open.is_set():
            self.waiting += 1
            await self.open.wait()
        return await super().get(key)


async def test_calls_waiting_on_a_slow_store_hold_no_concurrency_slot(anyio_backend: str) -> None:
    """With one slot, five business calls stuck in the store lookup for their token must not
    keep a partner call, whose token is cached, from going ahead."""
    store = SlowForBusinesses()
    transport = CountingTransport()
    finished: list[str] = []
    async with make_thredfi(transport, token_store=store, max_concurrent_requests=1) as thredfi:
        await thredfi.businesses.get(business_id=BUSINESS)  # the partner token, now cached

        async def business_call(n: int) -> None:
            await get_customer_of(thredfi, BUSINESS, n)
            finished.append(f"cus-{n}")

        async def partner_call() -> None:
            await thredfi.businesses.get(business_id=OTHER_BUSINESS_ID)
            finished.append("partner")

        with anyio.fail_after(10):  # a hang guard only: nothing below waits on the clock
            async with anyio.create_task_group() as tg:
                for n in range(5):
                    tg.start_soon(business_call, n)
                for _ in range(1000):
                    if store.waiting == 5:
                        break
                    await anyio.lowlevel.checkpoint()
                assert store.waiting == 5, "a call waited for a slot before asking the store"
                tg.start_soon(partner_call)
                for _ in range(1000):  # ample for one call on the in-memory transport
                    if finished:
                        break
                    await anyio.lowlevel.checkpoint()
                assert finished == ["partner"], "the partner call waited for a slot"
                store.open.set()

    assert sorted(finished) == ["cus-0", "cus-1", "cus-2", "cus-3", "cus-4", "partner"]
    assert transport.max_in_flight == 1
    assert transport.tokens.calls[BUSINESS] == 1


async def test_a_replacement_expiring_with_the_rejected_token_counts_as_newer(
    anyio_backend: str,
) -> None:
    """A late 401 after another task already replaced the token, on a clock that stood still
    (both tokens expire at the same instant): the replacement is used, not fetched again."""
    store = StaleReplica()
    fetched: list[str] = []

    async def fetch(business_id: str | None) -> Token:
        fetched.append("fetched")
        return Token("fetched", expires_at=T0 + 3600, refresh_at=T0 + 3300)

    manager = TokenManager(fetch=fetch, store=store, clock=RecordingClock(T0), namespace="p")
    rejected = Token("rejected", expires_at=T0 + 3600, refresh_at=T0 + 3300)
    store.tokens[manager.key(BUSINESS)] = Token(
        "sibling", expires_at=T0 + 3600, refresh_at=T0 + 3300
    )
    assert (await manager.replace(BUSINESS, rejected)).access_token == "sibling"
    assert fetched == []
