"""RedisTokenStore against a real redis-server: storage, one mint across real processes, a dead
lock holder, invalidation racing a mint, and Redis going away and coming back."""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from typing import Any

import anyio
import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from tests._fleet_workers import SLOW, mint_businesses, mint_one, token_for
from tests._readme import readme_block
from tests._redis import RedisServer
from tests._served import serve
from thredfi_async._clock import SystemClock
from thredfi_async._shared_tokens import SharedTokenStore
from thredfi_async._tokens import Token, TokenManager, TokenStore
from thredfi_async.redis import RedisTokenStore, connect
from thredfi_async.testing import FakeThredfi

pytestmark = pytest.mark.anyio

SPAWN = multiprocessing.get_context("spawn")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # redis.asyncio runs on asyncio only


@pytest.fixture
def prefix() -> str:
    """Each test's keys apart from the others' on the session's server."""
    return f"test-{uuid.uuid4().hex[:8]}:"


@pytest.fixture
async def store(redis_url: str, prefix: str) -> AsyncIterator[RedisTokenStore]:
    store = RedisTokenStore(redis_url, prefix=prefix)
    yield store
    await store.aclose()


@pytest.fixture
async def raw(redis_url: str) -> AsyncIterator[Redis]:
    client = connect(redis_url, decode_responses=True)
    yield client
    await client.aclose()


def fresh(token: Token) -> bool:
    return token.is_fresh(time.time())


async def test_a_token_is_stored_under_its_namespaced_key_and_expires_with_it(
    store: RedisTokenStore, raw: Redis, prefix: str
) -> None:
    assert isinstance(store, TokenStore)
    assert isinstance(store, SharedTokenStore)
    now = time.time()
    token = Token(access_token="secret-a", expires_at=now + 0.4, refresh_at=now + 0.2)
    await store.set("thredfi:p@https://api:partner", token)

    assert await store.get("thredfi:p@https://api:partner") == token
    key = f"{prefix}token:{{thredfi:p@https://api:partner}}"
    assert 0 < await raw.pttl(key) <= 400
    assert await store.get("thredfi:p@https://api:business:b1") is None
    await anyio.sleep(0.5)
    assert await store.get("thredfi:p@https://api:partner") is None
    assert "secret" not in repr(store)


async def test_invalidate_forgets_the_token(store: RedisTokenStore) -> None:
    await store.set("k", token_for("t", "1"))
    await store.invalidate("k")
    assert await store.get("k") is None
    await store.invalidate("never-stored")  # no error


async def test_an_already_expired_token_is_not_stored(store: RedisTokenStore) -> None:
    now = time.time()
    await store.set("k", Token(access_token="old", expires_at=now - 1, refresh_at=now - 2))
    assert await store.get("k") is None


async def test_an_unreadable_stored_value_counts_as_missing(
    store: RedisTokenStore, raw: Redis, prefix: str
) -> None:
    await raw.set(f"{prefix}token:{{k}}", "not json")
    assert await store.get("k") is None
    minted = await store.mint_once("k", _counting_fetch(Counter(), "k"), fresh)
    assert await store.get("k") == minted


def _counting_fetch(counts: Counter[str], key: str, delay: float = 0.0) -> Any:
    async def fetch() -> Token:
        counts[key] += 1
        await anyio.sleep(delay)
        return token_for("minted", f"{key}-{counts[key]}")

    return fetch


async def test_concurrent_mints_on_separate_connections_fetch_once(
    redis_url: str, prefix: str
) -> None:
    stores = [RedisTokenStore(redis_url, prefix=prefix, socket_timeout=SLOW) for _ in range(5)]
    counts: Counter[str] = Counter()
    tokens: list[Token] = []

    async def mint(store: RedisTokenStore) -> None:
        tokens.append(await store.mint_once("k", _counting_fetch(counts, "k", 0.1), fresh))

    async with anyio.create_task_group() as tg:
        for store in stores:
            tg.start_soon(mint, store)
    assert counts == Counter({"k": 1})
    assert len({t.access_token for t in tokens}) == 1
    for store in stores:
        await store.aclose()


async def test_a_stored_token_the_caller_cannot_use_is_minted_again(
    store: RedisTokenStore,
) -> None:
    counts: Counter[str] = Counter()
    first = await store.mint_once("k", _counting_fetch(counts, "k"), fresh)
    second = await store.mint_once("k", _counting_fetch(counts, "k"), lambda t: t != first)
    assert counts["k"] == 2
    assert second != first
    assert await store.get("k") == second


async def test_an_invalidation_during_a_mint_keeps_the_minted_token_out_of_the_store(
    store: RedisTokenStore,
) -> None:
    started, finish = anyio.Event(), anyio.Event()

    async def slow_fetch() -> Token:
        started.set()
        await finish.wait()
        return token_for("stale", "1")

    minted: list[Token] = []

    async def mint() -> None:
        minted.append(await store.mint_once("k", slow_fetch, fresh))

    async with anyio.create_task_group() as tg:
        tg.start_soon(mint)
        await started.wait()
        await store.invalidate("k")  # a 401 elsewhere, while this mint is in flight
        finish.set()
    assert [t.access_token for t in minted] == ["stale/1"]  # the caller still gets it
    assert await store.get("k") is None  # the invalidation stands

    # Without an invalidation the same mint is stored.
    await store.mint_once("k", _counting_fetch(Counter(), "k"), fresh)
    assert await store.get("k") is not None


async def test_a_waiter_mints_itself_once_its_wait_is_over(
    redis_url: str, raw: Redis, prefix: str
) -> None:
    store = RedisTokenStore(redis_url, prefix=prefix, lock_ttl=30, wait_timeout=0.3)
    await raw.set(f"{prefix}lock:{{k}}", "a live but slow holder", px=30_000)
    counts: Counter[str] = Counter()
    started = time.monotonic()
    token = await store.mint_once("k", _counting_fetch(counts, "k"), fresh)
    assert 0.3 <= time.monotonic() - started < 2
    assert counts["k"] == 1
    assert await store.get("k") == token
    await store.aclose()


async def test_a_failed_fetch_releases_the_lock_and_raises(
    store: RedisTokenStore, raw: Redis, prefix: str
) -> None:
    class Refused(Exception):
        pass

    async def failing() -> Token:
        raise Refused

    with pytest.raises(Refused):
        await store.mint_once("k", failing, fresh)
    assert await raw.exists(f"{prefix}lock:{{k}}") == 0
    assert await store.get("k") is None


def _run_workers(target: Any, args: list[tuple[Any, ...]], timeout: float) -> list[Any]:
    results = SPAWN.Queue()
    processes = [SPAWN.Process(target=target, args=(*a, results)) for a in args]
    for process in processes:
        process.start()
    try:
        out = [results.get(timeout=timeout) for _ in processes]
    finally:
        for process in processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()
    assert [p.exitcode for p in processes] == [0] * len(processes)
    return out


def test_four_processes_mint_each_of_fifty_tokens_exactly_once(redis_url: str, prefix: str) -> None:
    businesses = [f"business-{n}" for n in range(50)]
    barrier = SPAWN.Barrier(4)
    results = _run_workers(
        mint_businesses, [(redis_url, prefix, businesses, barrier, 0.05)] * 4, timeout=60
    )

    mints = Counter(b for result in results for b in result["minted"])
    assert mints == Counter({b: 1 for b in businesses})  # one mint per key, across all four
    for business_id in businesses:  # and every process got that one token
        assert len({result["tokens"][business_id] for result in results}) == 1
    assert len({r["pid"] for r in results}) == 4


def test_a_killed_lock_holder_blocks_the_others_only_until_its_lock_expires(
    redis_url: str, prefix: str
) -> None:
    lock_ttl = 1.5
    results = SPAWN.Queue()
    go, holding, ready = SPAWN.Event(), SPAWN.Event(), [SPAWN.Event() for _ in range(2)]
    waiters = [  # started first, so that their start-up is not part of the wait
        SPAWN.Process(
            target=mint_one, args=(redis_url, prefix, "k", lock_ttl, False, go, event, results)
        )
        for event in ready
    ]
    for waiter in waiters:
        waiter.start()
    now = SPAWN.Event()
    now.set()
    holder = SPAWN.Process(
        target=mint_one, args=(redis_url, prefix, "k", lock_ttl, True, now, holding, results)
    )
    holder.start()
    try:
        assert holding.wait(timeout=30), "the holder never started minting"
        go.set()
        assert all(event.wait(timeout=30) for event in ready), "a waiter never started"
        time.sleep(0.2)  # the waiters are polling the held lock
        assert holder.pid is not None
        os.kill(holder.pid, signal.SIGKILL)
        holder.join(timeout=10)
        killed_at = time.time()
        lock_left = _pttl(redis_url, f"{prefix}lock:{{k}}") / 1000
        assert lock_left > 0.5, "the lock expired before its holder was killed"
        done = [results.get(timeout=30) for _ in waiters]
    finally:
        for process in (holder, *waiters):
            process.join(timeout=10)
            if process.is_alive():
                process.kill()

    assert holder.exitcode == -signal.SIGKILL
    assert [w.exitcode for w in waiters] == [0, 0]
    assert sum(len(r["minted"]) for r in done) == 1  # one of them minted, after the lock went
    assert len({r["token"] for r in done}) == 1
    for result in done:
        assert result["finished"] >= killed_at + lock_left - 0.05
        assert result["finished"] < killed_at + lock_ttl + 2  # not blocked past the expiry


def _pttl(url: str, key: str) -> int:
    async def read() -> int:
        client = connect(url)
        try:
            return int(await client.pttl(key))
        finally:
            await client.aclose()

    return anyio.run(read)


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    """A server of this test's own, to stop and start again."""
    server = RedisServer()
    server.start()
    yield server
    server.close()


async def test_with_redis_down_calls_go_on_with_tokens_held_here_and_recover(
    own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    store = RedisTokenStore(own_redis.url, socket_timeout=0.5)
    fetched: list[str | None] = []

    async def fetch(business_id: str | None) -> Token:
        fetched.append(business_id)
        return token_for("minted", f"{business_id}-{len(fetched)}")

    manager = TokenManager(fetch=fetch, store=store, clock=SystemClock(), namespace="ns")
    before = await manager.get("b1")
    assert fetched == ["b1"]

    own_redis.stop()
    started = time.monotonic()
    with pytest.raises(RedisError):
        await store.get("thredfi:ns:business:b1")
    assert time.monotonic() - started < 1.5  # promptly, not after redis-py's default retries

    with caplog.at_level(logging.DEBUG, logger="thredfi_async"):
        during = [await manager.get("b1") for _ in range(5)]
        assert (await manager.get("b2")).access_token == "minted/b2-3"
    assert fetched == ["b1", "b1", "b2"]  # once each while Redis is down: held, not re-fetched
    assert len({t.access_token for t in during}) == 1
    assert during[0] != before
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "token store" in warnings[0].getMessage()
    assert all("minted/" not in r.getMessage() for r in caplog.records)

    own_redis.start()
    assert await store.get("thredfi:ns:business:b1") is None  # the same client reconnects
    with caplog.at_level(logging.INFO, logger="thredfi_async"):
        after = await manager.get("b1")
    assert after == during[0]  # still the held one, now that the store answers again...
    assert "token store answering again" in caplog.text
    renewed = await manager.replace("b1", after)  # ...until a new one goes to Redis
    assert await store.get("thredfi:ns:business:b1") == renewed
    await store.aclose()


async def test_a_mint_under_way_when_redis_dies_gives_its_token_to_the_caller(
    own_redis: RedisServer,
) -> None:
    store = RedisTokenStore(own_redis.url, socket_timeout=0.5)
    fetched: list[str | None] = []

    async def fetch(business_id: str | None) -> Token:
        fetched.append(business_id)
        own_redis.stop()  # Redis goes while the token is being minted
        return token_for("minted", str(len(fetched)))

    manager = TokenManager(fetch=fetch, store=store, clock=SystemClock(), namespace="ns")
    token = await manager.get(None)
    assert token.access_token == "minted/1"
    assert await manager.get(None) == token  # held in this process, not minted again
    assert fetched == [None]
    await store.aclose()


def test_importing_without_the_extra_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['redis'] = None\n"
        "from thredfi_async import ThredfiError\n"
        "try:\n"
        "    import thredfi_async.redis\n"
        "except ImportError as exc:\n"
        "    assert isinstance(exc, ThredfiError), type(exc)\n"
        "    print(exc)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert "pip install 'thredfi-async[redis]'" in out


async def test_clients_sharing_a_redis_store_mint_the_partner_and_each_business_once(
    redis_url: str, prefix: str
) -> None:
    from tests.test_tokens import T0, CountingTransport, get_customer_of, make_thredfi
    from thredfi_async.testing import RecordingClock

    clock = RecordingClock(T0)
    transports = [CountingTransport() for _ in range(3)]  # three workers, one Redis
    stores = [
        RedisTokenStore(redis_url, prefix=prefix, clock=clock, socket_timeout=SLOW)
        for _ in transports
    ]
    businesses = [f"biz-{n:02d}" for n in range(20)]
    clients = [
        make_thredfi(transport, token_store=store, clock=clock)
        for transport, store in zip(transports, stores, strict=True)
    ]
    async with anyio.create_task_group() as tg:
        for client in clients:
            for n in range(60):
                tg.start_soon(get_customer_of, client, businesses[n % 20], n)
    minted: Counter[str] = Counter()
    for transport in transports:
        minted.update(transport.tokens.calls)
    assert minted == Counter({"partner": 1, **{b: 1 for b in businesses}})
    for client in clients:
        await client.aclose()
    for store in stores:
        await store.aclose()


async def test_after_a_401_every_process_replaces_the_token_with_the_same_new_one(
    redis_url: str, prefix: str
) -> None:
    fetched: list[str] = []

    def manager(name: str) -> TokenManager:
        async def fetch(business_id: str | None) -> Token:
            fetched.append(name)
            return token_for(name, str(len(fetched)))

        store = RedisTokenStore(redis_url, prefix=prefix)
        return TokenManager(fetch=fetch, store=store, clock=SystemClock(), namespace="ns")

    one, other = manager("one"), manager("other")
    rejected = await one.get("b1")
    assert await other.get("b1") == rejected  # shared
    renewed = await other.replace("b1", rejected)  # other got the 401 first
    assert renewed != rejected
    assert await one.replace("b1", rejected) == renewed  # one's 401 takes the new one, no mint
    assert fetched == ["one", "other"]


def test_the_readme_workers_share_one_partner_token_and_one_token_per_business(
    redis_url: str,
) -> None:
    fake = FakeThredfi()
    fake.seed(businesses=3)
    businesses = ",".join(fake.business_ids)
    code = readme_block("RedisTokenStore(redis_url)")
    with serve(fake.app) as base_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("THREDFI_", "THRED_"))}
        env.update(
            THREDFI_BASE_URL=base_url,
            THREDFI_PARTNER_UUID=fake.partner_uuid,
            THREDFI_API_KEY=fake.api_key,
            REDIS_URL=redis_url,
            BUSINESS_IDS=businesses,
        )
        workers = [
            subprocess.Popen(
                [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True
            )
            for _ in range(3)
        ]
        outputs = [worker.communicate(timeout=120)[0] for worker in workers]
    assert [worker.returncode for worker in workers] == [0, 0, 0]
    assert all(len(out.splitlines()) == 3 for out in outputs)
    assert fake.requests.count("get_partner_token") == 1  # not one per worker
    assert fake.requests.count("get_business_token") == 3  # one per business, not per worker


async def test_a_redis_that_accepts_but_never_answers_fails_within_the_socket_timeout() -> None:
    import socket

    with socket.socket() as silent:  # the kernel accepts connections; nobody answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        store = RedisTokenStore(f"redis://127.0.0.1:{port}/0", socket_timeout=0.3)
        started = time.monotonic()
        with pytest.raises(RedisError):
            await store.get("k")
        assert time.monotonic() - started < 1.0
        await store.aclose()


async def test_a_thousand_lookups_at_once_share_a_bounded_pool(
    redis_url: str, prefix: str, raw: Redis
) -> None:
    store = RedisTokenStore(redis_url, prefix=prefix, socket_timeout=SLOW)
    before = int((await raw.info("clients"))["connected_clients"])
    async with anyio.create_task_group() as tg:
        for n in range(1000):
            tg.start_soon(store.get, f"k{n}")
    opened = int((await raw.info("clients"))["connected_clients"]) - before
    assert 1 <= opened <= 32
    await store.aclose()
