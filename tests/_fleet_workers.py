"""What the worker processes of tests/test_redis_tokens.py and test_redis_throttle.py run.

Each function is the body of one real process (started with the `spawn` method, so nothing is
inherited but its arguments): its own event loop, its own Redis connection, results sent back on
a queue. The Redis clients get a long socket timeout: these processes prove coordination, on a
machine that may be busy, not the fail-fast behaviour of tests/test_redis_tokens.py.
"""

from __future__ import annotations

import os
import time
from typing import Any

import anyio

from thredfi_async._clock import SystemClock
from thredfi_async._throttle import Rate
from thredfi_async._tokens import Token, TokenManager
from thredfi_async.redis import RedisThrottle, RedisTokenStore

SLOW = 5.0


def token_for(owner: str, serial: str) -> Token:
    now = time.time()
    return Token(access_token=f"{owner}/{serial}", expires_at=now + 3600, refresh_at=now + 3000)


def mint_businesses(
    url: str, prefix: str, businesses: list[str], barrier: Any, fetch_seconds: float, results: Any
) -> None:
    """Get a token for every business at once, through a TokenManager on the shared store."""

    async def main() -> None:
        store = RedisTokenStore(url, prefix=prefix, socket_timeout=SLOW)
        minted: list[str] = []

        async def fetch(business_id: str | None) -> Token:
            assert business_id is not None
            minted.append(business_id)
            await anyio.sleep(fetch_seconds)
            return token_for(f"pid{os.getpid()}", business_id)

        manager = TokenManager(fetch=fetch, store=store, clock=SystemClock(), namespace="fleet")
        got: dict[str, str] = {}

        async def get(business_id: str) -> None:
            got[business_id] = (await manager.get(business_id)).access_token

        barrier.wait()
        async with anyio.create_task_group() as tg:
            for business_id in businesses:
                tg.start_soon(get, business_id)
        await store.aclose()
        results.put({"pid": os.getpid(), "minted": minted, "tokens": got})

    anyio.run(main)


def mint_one(
    url: str,
    prefix: str,
    key: str,
    lock_ttl: float,
    hang: bool,
    go: Any,
    started: Any,
    results: Any,
) -> None:
    """Once `go` is set, mint_once for `key`, setting `started` as it begins. With `hang`,
    `started` is set once the fetch runs (the lock is held), and the fetch never finishes: the
    process is killed there."""

    async def main() -> None:
        store = RedisTokenStore(url, prefix=prefix, lock_ttl=lock_ttl, socket_timeout=SLOW)
        minted: list[str] = []

        async def fetch() -> Token:
            minted.append(key)
            if hang:
                started.set()
                await anyio.sleep(3600)
            return token_for(f"pid{os.getpid()}", key)

        await store.redis.ping()  # connected: what follows is the wait, not the start-up
        go.wait()
        if not hang:
            started.set()
        token = await store.mint_once(key, fetch, lambda token: True)
        await store.aclose()
        results.put({"minted": minted, "token": token.access_token, "finished": time.time()})

    anyio.run(main)


def paced_requests(
    url: str,
    prefix: str,
    rate: float,
    burst: int,
    barrier: Any,
    seconds: float,
    results: Any,
) -> None:
    """Acquire from a shared RedisThrottle as fast as it lets this process, for `seconds`."""

    async def main() -> None:
        throttle = RedisThrottle(
            url, name="fleet", prefix=prefix, partner=Rate(rate, burst), socket_timeout=SLOW
        )
        admitted: list[float] = []
        await throttle.acquire(None)  # connected and scripts loaded before the clock starts
        barrier.wait()
        end = time.time() + seconds
        while time.time() < end:
            await throttle.acquire(None)
            admitted.append(time.time())
        stats = throttle.stats
        await throttle.aclose()
        results.put({"admitted": admitted, "fallbacks": stats.fallbacks})

    anyio.run(main)
