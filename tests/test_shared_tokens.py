"""The TokenManager's seam for shared stores: mint_once is asked instead of fetching, by one
task per process, and a store failure is told apart from a failed fetch."""

from __future__ import annotations

import logging
import time
from collections import Counter

import anyio
import anyio.lowlevel
import pytest

from thredfi_async import SharedTokenStore, Token
from thredfi_async._clock import SystemClock
from thredfi_async._shared_tokens import Mint, Usable
from thredfi_async._tokens import InMemoryTokenStore, TokenManager

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class StoreDown(ConnectionError):
    pass


class SharedStub(InMemoryTokenStore):
    """An in-memory SharedTokenStore whose mint_once can fail before or after fetching."""

    def __init__(self, fail: str | None = None) -> None:
        super().__init__()
        self.fail = fail
        self.mints = 0

    async def mint_once(self, key: str, fetch: Mint, usable: Usable) -> Token:
        self.mints += 1
        await anyio.lowlevel.checkpoint()
        if self.fail == "before":
            raise StoreDown("redis://user:password@cache:6379")
        token = await fetch()
        if self.fail == "after":
            raise StoreDown("redis://user:password@cache:6379")
        await self.set(key, token)
        return token


def manager_on(store: SharedStub, fetched: Counter[str | None]) -> TokenManager:
    async def fetch(business_id: str | None) -> Token:
        fetched[business_id] += 1
        await anyio.sleep(0.01)
        now = time.time()
        return Token(f"t-{business_id}-{fetched[business_id]}", now + 3600, now + 3000)

    return TokenManager(fetch=fetch, store=store, clock=SystemClock(), namespace="ns")


async def test_many_tasks_in_one_process_ask_the_shared_store_once(anyio_backend: str) -> None:
    store, fetched = SharedStub(), Counter[str | None]()
    assert isinstance(store, SharedTokenStore)
    manager = manager_on(store, fetched)
    async with anyio.create_task_group() as tg:
        for _ in range(50):
            tg.start_soon(manager.get, "b1")
    assert store.mints == 1
    assert fetched == Counter({"b1": 1})
    assert await manager.get("b1") == await store.get("thredfi:ns:business:b1")


@pytest.mark.parametrize("fail", ["before", "after"])
async def test_a_store_failing_in_mint_once_leaves_one_fetch_held_here(
    anyio_backend: str, fail: str, caplog: pytest.LogCaptureFixture
) -> None:
    store, fetched = SharedStub(fail=fail), Counter[str | None]()
    manager = manager_on(store, fetched)
    with caplog.at_level(logging.WARNING, logger="thredfi_async"):
        token = await manager.get(None)
        assert await manager.get(None) == token  # held in this process: not fetched again
    assert fetched == Counter({None: 1})
    (warning,) = caplog.records
    assert "mint_once failed (StoreDown)" in warning.getMessage()
    assert "password" not in caplog.text


async def test_a_failed_fetch_is_the_callers_error_not_a_store_outage(
    anyio_backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    class Refused(Exception):
        pass

    async def fetch(business_id: str | None) -> Token:
        raise Refused

    store = SharedStub()
    manager = TokenManager(fetch=fetch, store=store, clock=SystemClock(), namespace="ns")
    with caplog.at_level(logging.WARNING, logger="thredfi_async"), pytest.raises(Refused):
        await manager.get("b1")
    assert caplog.records == []
    assert store.mints == 1


async def test_a_replacement_after_a_401_rejects_the_rejected_token(anyio_backend: str) -> None:
    usables: list[Usable] = []

    class Recording(SharedStub):
        async def mint_once(self, key: str, fetch: Mint, usable: Usable) -> Token:
            usables.append(usable)
            return await super().mint_once(key, fetch, usable)

    store, fetched = Recording(), Counter[str | None]()
    manager = manager_on(store, fetched)
    rejected = await manager.get("b1")
    renewed = await manager.replace("b1", rejected)
    assert renewed != rejected
    first, second = usables
    assert first(rejected)  # fresh: usable for a plain get
    assert not second(rejected)  # but never as the replacement for itself
    assert second(renewed)
