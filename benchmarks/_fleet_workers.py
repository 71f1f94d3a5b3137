"""What each worker process of a fleet run does: its own AsyncThredfi, on the fake served on
loopback, with tokens and pacing in Redis or in memory.

Each function runs in one process of a pool (started with `spawn`, so it inherits nothing but
the pool's barrier), which benchmarks/fleets.py reuses for several runs, as starting Python and
importing the SDK costs more than a short run. Every worker of a run, and the parent, meet at
the barrier once set up, so the run starts at one moment; a worker that fails before then
breaks the barrier, so no one waits for it. The Redis clients get a long socket timeout, except
in the outage run: these runs prove coordination on a machine that may be busy.
"""

from __future__ import annotations

import os
import time
import traceback
from dataclasses import dataclass
from typing import Any, Literal

import anyio

from thredfi_async import AsyncThredfi, LocalThrottle, Rate, ThredfiError, Throttle, TokenStore

__all__ = ["Credentials", "joined", "outage_worker", "pacing_worker", "token_worker"]

SLOW = 5.0  # seconds: the Redis socket timeout of a busy machine

Pacing = Literal["redis", "local", "none"]


_barrier: Any = None


def joined(barrier: Any) -> None:
    """The pool's initializer: the barrier every run starts at."""
    global _barrier
    _barrier = barrier


def _start() -> None:
    _barrier.wait()


@dataclass(frozen=True)
class Credentials:
    base_url: str
    partner_uuid: str
    api_key: str


def _client(
    credentials: Credentials,
    *,
    token_store: TokenStore | None = None,
    throttle: Throttle | None = None,
    max_retries: int = 2,
) -> AsyncThredfi:
    return AsyncThredfi(
        credentials.partner_uuid,
        credentials.api_key,
        base_url=credentials.base_url,
        token_store=token_store,
        throttle=throttle,
        max_retries=max_retries,
    )


def _failure(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def token_worker(
    credentials: Credentials,
    businesses: list[str],
    redis_url: str | None,
    prefix: str,
) -> dict[str, Any]:
    """One call per business, all at once, from a cold token cache (Redis, else in memory)."""

    async def main() -> dict[str, Any]:
        from thredfi_async.redis import RedisTokenStore

        store = (
            None
            if redis_url is None
            else RedisTokenStore(redis_url, prefix=prefix, socket_timeout=SLOW)
        )
        failures: list[str] = []
        succeeded = 0

        async def call(business_id: str) -> None:
            nonlocal succeeded
            try:
                await thredfi.business(business_id).customers.list()
                succeeded += 1
            except ThredfiError as exc:
                failures.append(_failure(exc))

        async with _client(credentials, token_store=store) as thredfi:
            if store is not None:
                await store.redis.ping()  # connected: what follows is the race, not start-up
            _start()
            started = time.time()
            async with anyio.create_task_group() as tg:
                for business_id in businesses:
                    tg.start_soon(call, business_id)
            ended = time.time()
        if store is not None:
            await store.aclose()
        return {
            "pid": os.getpid(),
            "succeeded": succeeded,
            "failures": failures,
            "started": started,
            "ended": ended,
        }

    return _run(main)


def pacing_worker(
    credentials: Credentials,
    pacing: Pacing,
    rate: float,
    redis_url: str | None,
    prefix: str,
    tasks: int,
    seconds: float,
    max_retries: int,
) -> dict[str, Any]:
    """`tasks` partner-scoped calls at a time for `seconds`, paced by a RedisThrottle shared
    with the other workers, a LocalThrottle of this process's own, or not at all."""

    async def main() -> dict[str, Any]:
        from thredfi_async.redis import RedisThrottle

        throttle: Throttle | None = None
        redis_throttle = None
        if pacing == "redis":
            assert redis_url is not None
            throttle = redis_throttle = RedisThrottle(
                redis_url, prefix=prefix, partner=Rate(rate), socket_timeout=SLOW
            )
        elif pacing == "local":
            throttle = LocalThrottle(Rate(rate))
        failures: list[str] = []
        succeeded = 0
        async with _client(credentials, throttle=throttle, max_retries=max_retries) as thredfi:
            await thredfi.businesses.list()  # the partner token, and Redis connected
            _start()
            started = time.time()
            end = started + seconds

            async def loop() -> None:
                nonlocal succeeded
                while time.time() < end:
                    try:
                        await thredfi.businesses.list()
                        succeeded += 1
                    except ThredfiError as exc:
                        failures.append(_failure(exc))

            async with anyio.create_task_group() as tg:
                for _ in range(tasks):
                    tg.start_soon(loop)
            ended = time.time()
        stats = None if throttle is None else throttle.stats
        if redis_throttle is not None:
            await redis_throttle.aclose()
        return {
            "pid": os.getpid(),
            "succeeded": succeeded,
            "failures": failures,
            "started": started,
            "ended": ended,
            "rate_limited": 0 if stats is None else stats.rate_limited,
            "rates": {} if stats is None else stats.rates,
        }

    return _run(main)


def outage_worker(
    credentials: Credentials,
    businesses: list[str],
    redis_url: str,
    prefix: str,
    rate: float,
    tasks: int,
) -> dict[str, Any]:
    """Calls over every business, `tasks` at a time, with tokens and pacing in Redis (fail-fast
    clients, as a user gets from a URL), while the test stops Redis under them."""

    async def main() -> dict[str, Any]:
        from thredfi_async.redis import RedisThrottle, RedisTokenStore

        store = RedisTokenStore(redis_url, prefix=prefix)
        throttle = RedisThrottle(redis_url, prefix=prefix, partner=Rate(rate))
        failures: list[str] = []
        succeeded = 0
        pending = list(businesses)
        async with _client(credentials, token_store=store, throttle=throttle) as thredfi:
            await thredfi.businesses.list()
            _start()

            async def loop() -> None:
                nonlocal succeeded
                while pending:
                    business_id = pending.pop()
                    try:
                        await thredfi.business(business_id).customers.list()
                        succeeded += 1
                    except ThredfiError as exc:
                        failures.append(_failure(exc))

            async with anyio.create_task_group() as tg:
                for _ in range(tasks):
                    tg.start_soon(loop)
        stats = throttle.stats
        await store.aclose()
        await throttle.aclose()
        return {
            "pid": os.getpid(),
            "succeeded": succeeded,
            "failures": failures,
            "fallbacks": stats.fallbacks,
            "acquired": stats.acquired,
        }

    return _run(main)


def _run(main: Any) -> dict[str, Any]:
    """Run `main`; a failure breaks the barrier, so the others and the parent stop waiting,
    and is raised with its traceback in the message (the parent sees only a copy)."""
    try:
        result: dict[str, Any] = anyio.run(main)
    except BaseException as exc:
        _barrier.abort()
        raise RuntimeError(f"fleet worker {os.getpid()} failed:\n{traceback.format_exc()}") from exc
    return result
