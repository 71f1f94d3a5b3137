"""RedisThrottle against a real redis-server: one budget for four real processes, a 429 seen by
one slowing all, recovery, and pacing that survives Redis going away."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Iterator
from typing import cast

import anyio
import pytest

from tests._fleet_workers import paced_requests
from tests._redis import RedisServer
from tests.test_redis_tokens import SPAWN, _run_workers
from thredfi_async._throttle import Adaptive, Rate, Throttle
from thredfi_async.redis import RedisThrottle, connect

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # redis.asyncio runs on asyncio only


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex[:8]}:"


@pytest.fixture
async def pair(redis_url: str, prefix: str) -> AsyncIterator[tuple[RedisThrottle, RedisThrottle]]:
    """Two throttles on separate connections, as two processes would have, sharing a budget."""
    adaptive = Adaptive(decrease=0.5, recovery=0.05, cooldown=1.0)
    throttles = tuple(
        RedisThrottle(
            redis_url,
            name="p",
            prefix=prefix,
            partner=Rate(20),
            business=Rate(2),
            adaptive=adaptive,
        )
        for _ in range(2)
    )
    yield throttles  # type: ignore[misc]
    for throttle in throttles:
        await throttle.aclose()


def most_in_any_window(times: list[float], window: float) -> int:
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


def test_four_processes_together_stay_within_one_budget(redis_url: str, prefix: str) -> None:
    rate, burst, seconds = 50.0, 5, 3.0
    barrier = SPAWN.Barrier(4)
    results = _run_workers(
        paced_requests, [(redis_url, prefix, rate, burst, barrier, seconds)] * 4, timeout=60
    )
    admitted = sorted(t for r in results for t in r["admitted"])
    assert all(r["fallbacks"] == 0 for r in results)
    assert all(len(r["admitted"]) > 10 for r in results)  # every process got its share
    # GCRA: at most rate * W + burst in any window W (+2 for the processes' wake-up jitter).
    for window in (0.2, 0.5, 1.0):
        assert most_in_any_window(admitted, window) <= rate * window + burst + 2, window
    # ... and the budget is used, not wasted: close to rate * seconds over the run.
    assert len(admitted) >= 0.9 * rate * seconds


async def test_a_429_in_one_process_lowers_the_rate_for_all(
    pair: tuple[RedisThrottle, RedisThrottle],
) -> None:
    one, other = pair
    assert isinstance(one, Throttle)
    await other.acquire(None)
    assert other.stats.rates == {"partner": 20}
    one.penalize(None, None)
    one.penalize(None, None)  # the same wave: lowered once
    await one.acquire(None)  # the penalty reaches Redis
    await other.acquire(None)
    assert other.stats.rates["partner"] == pytest.approx(10, abs=0.5)
    assert one.stats.rate_limited == 2
    # Paced at the lowered rate: about 0.1 s apart, not 0.05.
    started = time.monotonic()
    for _ in range(4):
        await other.acquire(None)
    assert time.monotonic() - started >= 0.3


async def test_the_lowered_rate_comes_back_by_itself(redis_url: str, prefix: str) -> None:
    quick = Adaptive(decrease=0.5, recovery=1.0, cooldown=0)  # all of it back in a second
    one, other = (
        RedisThrottle(redis_url, name="p", prefix=prefix, partner=Rate(20), adaptive=quick)
        for _ in range(2)
    )
    one.penalize(None, None)
    await one.acquire(None)
    await other.acquire(None)
    assert other.stats.rates["partner"] < 15  # lowered to 10, recovering at 20 per second
    await anyio.sleep(0.6)
    await other.acquire(None)
    assert other.stats.rates == {"partner": 20}
    raw = connect(redis_url, decode_responses=True)
    hkeys = cast("Awaitable[list[str]]", raw.hkeys(f"{prefix}throttle:{{p}}:partner"))
    assert await hkeys == ["tat"]  # nothing left over
    for client in (one, other, raw):
        await client.aclose()


async def test_retry_after_holds_every_process(pair: tuple[RedisThrottle, RedisThrottle]) -> None:
    one, other = pair
    one.penalize(None, 0.5)
    waited: list[float] = []

    async def acquire(throttle: RedisThrottle) -> None:
        started = time.monotonic()
        await throttle.acquire(None)
        waited.append(time.monotonic() - started)

    async with anyio.create_task_group() as tg:
        tg.start_soon(acquire, one)  # writes the penalty to Redis, then waits it out
        await anyio.sleep(0.1)
        tg.start_soon(acquire, other)  # knows of the 429 only through Redis
    assert 0.45 <= waited[0] < 1.0
    assert 0.3 <= waited[1] < 1.0


async def test_a_business_budget_is_shared_and_apart_from_other_businesses(
    pair: tuple[RedisThrottle, RedisThrottle],
) -> None:
    one, other = pair
    await one.acquire("b1")
    started = time.monotonic()
    await other.acquire("b2")
    assert time.monotonic() - started < 0.1
    await other.acquire("b1")  # 2 per second for b1, whichever process asks
    assert time.monotonic() - started >= 0.4


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.close()


async def test_with_redis_down_each_process_paces_itself_and_shares_again_after(
    own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    throttle = RedisThrottle(
        own_redis.url, name="p", partner=Rate(20), retry_interval=0.2, socket_timeout=0.5
    )
    await throttle.acquire(None)
    own_redis.stop()
    with caplog.at_level(logging.INFO, logger="thredfi_async"):
        started = time.monotonic()
        for _ in range(10):
            await throttle.acquire(None)  # never raises
        assert time.monotonic() - started < 2.0  # paced locally, not hung on the dead Redis
        throttle.penalize(None, None)  # applies locally while Redis is down
        assert throttle.stats.fallbacks >= 9
        assert throttle.stats.rates["partner"] == pytest.approx(10, abs=0.5)
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert "throttle store failed" in warnings[0].getMessage()

        own_redis.start()
        await anyio.sleep(0.3)  # past retry_interval
        fallbacks = throttle.stats.fallbacks
        await throttle.acquire(None)
        await throttle.acquire(None)
    assert throttle.stats.fallbacks == fallbacks  # shared again
    assert "pacing shared again" in caplog.text
    await throttle.aclose()


async def test_tasks_acquiring_together_after_a_429_write_it_once_and_stay_shared(
    pair: tuple[RedisThrottle, RedisThrottle],
) -> None:
    one, other = pair
    await one.acquire(None)
    one.penalize(None, None)
    async with anyio.create_task_group() as tg:  # every task of the process flushes at once
        for _ in range(5):
            tg.start_soon(one.acquire, None)
    assert one.stats.fallbacks == 0  # no task found the penalty gone under it
    await other.acquire(None)
    assert other.stats.rates["partner"] == pytest.approx(10, abs=0.5)  # halved once
