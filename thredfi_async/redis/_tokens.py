"""Tokens kept in Redis for every process, each minted once however many processes need it.

Keys: `{prefix}token:{K}` holds a token as JSON and expires with it; `{prefix}gen:{K}` counts
the invalidations of K; `{prefix}lock:{K}` is held by the one process minting K. K is the
TokenManager's key, which names the partner, the base URL and the business; it is wrapped in
braces so that a Redis Cluster keeps the three keys of one token in one slot (the scripts below
touch two of them at once).

* One mint: a process that needs a token takes the lock (SET NX PX, with a random owner), reads
  the token again under it, and mints only if it is still missing or unusable; the others wait
  for the token to appear. The lock expires by itself, so a holder that died blocks the others
  only until then: whoever takes the lock next mints. A waiter that has waited `wait_timeout`
  mints on its own: a slow mint costs an extra token, never a failed call.
* Waiting is polling, starting at 10 ms and doubling to 200 ms, with jitter. A wait lasts one
  token exchange, so polling costs a few GETs; keyspace notifications or pub/sub would need a
  connection held per waiter and a server setting (`notify-keyspace-events`) that managed Redis
  services often do not allow.
* Invalidation wins over a mint already under way: invalidating bumps the key's generation, and
  a mint stores its token only if the generation it read before fetching is unchanged (checked
  and set in one script). A token fetched before a 401 cannot bring back what the 401 removed.
* Fail fast: a client made from a URL times out in `socket_timeout` and never retries, so when
  Redis is down the TokenManager goes on with tokens it holds in this process, promptly.

No token appears in a log record or in this object's repr.
"""

from __future__ import annotations

import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

import anyio
from redis.asyncio import Redis
from redis.exceptions import RedisError

from .._clock import Clock, SystemClock
from .._exceptions import InvalidRequestError
from .._logging import logger
from .._shared_tokens import Mint, Usable
from .._tokens import Token
from ._connection import DEFAULT_SOCKET_TIMEOUT, resolve

__all__ = ["RedisTokenStore"]

DEFAULT_PREFIX = "thredfi-async:"
DEFAULT_LOCK_TTL = 10.0  # seconds: longer than a token exchange with its retries
_GENERATION_TTL_MS = 86_400_000  # a generation must outlive any mint that read it
_POLL_FIRST, _POLL_MAX = 0.01, 0.2

# Store the minted token only if no invalidation happened since the mint read the generation.
_SET_IF_GENERATION = """
if (redis.call('GET', KEYS[2]) or '0') ~= ARGV[3] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
"""

# Forget the token and make every mint under way stale, in one step.
_INVALIDATE = """
redis.call('DEL', KEYS[1])
local generation = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return generation
"""

# Release the lock only if this process still holds it (it may have expired and been retaken).
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
"""


@dataclass(frozen=True, slots=True)
class _Keys:
    token: str
    generation: str
    lock: str


class RedisTokenStore:
    """A TokenStore (and SharedTokenStore) on Redis, for every process of a deployment.

    `redis` is a `redis.asyncio.Redis` client, used as it is (give it short socket timeouts),
    or a URL, for which a fail-fast client is made (`socket_timeout` seconds) and closed by
    `aclose()`. Every process must use the same `prefix`. `clock` is what token expiry is read
    on (the client's clock, if it was given one).
    """

    def __init__(
        self,
        redis: Redis | str,
        *,
        prefix: str = DEFAULT_PREFIX,
        lock_ttl: float = DEFAULT_LOCK_TTL,
        wait_timeout: float | None = None,
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
        clock: Clock | None = None,
    ) -> None:
        if not lock_ttl > 0:
            raise InvalidRequestError(f"lock_ttl must be > 0 seconds, got {lock_ttl!r}")
        wait_timeout = 2 * lock_ttl if wait_timeout is None else wait_timeout
        if not wait_timeout >= 0:
            raise InvalidRequestError(f"wait_timeout must be >= 0 seconds, got {wait_timeout!r}")
        self._owns_client = isinstance(redis, str)
        self.redis = resolve(redis, socket_timeout)
        self.prefix = prefix
        self.lock_ttl = lock_ttl
        self.wait_timeout = wait_timeout
        self._release_timeout = socket_timeout * 2
        self._clock = clock or SystemClock()
        self._set_if_generation = self.redis.register_script(_SET_IF_GENERATION)
        self._invalidate = self.redis.register_script(_INVALIDATE)
        self._release = self.redis.register_script(_RELEASE)

    def __repr__(self) -> str:
        return f"RedisTokenStore(prefix={self.prefix!r}, lock_ttl={self.lock_ttl})"

    async def aclose(self) -> None:
        """Close the connection pool, if this store made it from a URL."""
        if self._owns_client:
            await self.redis.aclose()

    def _keys(self, key: str) -> _Keys:
        return _Keys(
            token=f"{self.prefix}token:{{{key}}}",
            generation=f"{self.prefix}gen:{{{key}}}",
            lock=f"{self.prefix}lock:{{{key}}}",
        )

    # -- TokenStore -----------------------------------------------------------------------------

    async def get(self, key: str) -> Token | None:
        return _decode(await self.redis.get(self._keys(key).token))

    async def set(self, key: str, token: Token) -> None:
        """Store `token` unconditionally (a mint through `mint_once` is generation-checked)."""
        ttl_ms = self._ttl_ms(token)
        if ttl_ms > 0:
            await self.redis.set(self._keys(key).token, _encode(token), px=ttl_ms)

    async def invalidate(self, key: str) -> None:
        keys = self._keys(key)
        await self._invalidate(keys=[keys.token, keys.generation], args=[_GENERATION_TTL_MS])

    # -- SharedTokenStore -----------------------------------------------------------------------

    async def mint_once(self, key: str, fetch: Mint, usable: Usable) -> Token:
        keys = self._keys(key)
        deadline = time.monotonic() + self.wait_timeout
        delay = _POLL_FIRST
        while True:
            owner = secrets.token_hex(16)
            if await self.redis.set(keys.lock, owner, nx=True, px=_ms(self.lock_ttl)):
                try:
                    return await self._mint(keys, fetch, usable)
                finally:
                    await self._unlock(keys.lock, owner)
            token = _decode(await self.redis.get(keys.token))
            if token is not None and usable(token):
                return token
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                logger.info("token lock still held after %.1f s; minting here", self.wait_timeout)
                return await self._mint(keys, fetch, usable)
            await anyio.sleep(min(remaining, delay * (0.5 + secrets.randbelow(1000) / 1000)))
            delay = min(delay * 2, _POLL_MAX)

    async def _mint(self, keys: _Keys, fetch: Mint, usable: Usable) -> Token:
        """Mint unless a usable token is stored; store it unless invalidated meanwhile."""
        generation, raw = await self.redis.mget([keys.generation, keys.token])
        token = _decode(raw)
        if token is not None and usable(token):
            return token
        minted = await fetch()
        ttl_ms = self._ttl_ms(minted)
        if ttl_ms > 0:
            stored = await self._set_if_generation(
                keys=[keys.token, keys.generation],
                args=[_encode(minted), ttl_ms, _text(generation) or "0"],
            )
            if not stored:
                logger.debug("token invalidated while it was minted; not stored")
        return minted

    async def _unlock(self, lock: str, owner: str) -> None:
        """Release the lock, even from a cancelled task; if Redis fails, the lock expires."""
        with anyio.CancelScope(shield=True), anyio.move_on_after(self._release_timeout):
            try:
                await self._release(keys=[lock], args=[owner])
            except RedisError as exc:
                logger.debug("token lock release failed (%s)", type(exc).__name__)

    def _ttl_ms(self, token: Token) -> int:
        return _ms(token.expires_at - self._clock.time())


def _ms(seconds: float) -> int:
    return max(int(seconds * 1000), 0)


def _text(value: Any) -> str | None:
    return value.decode() if isinstance(value, bytes) else value


def _encode(token: Token) -> str:
    return json.dumps(token.to_dict(), separators=(",", ":"))


def _decode(raw: Any) -> Token | None:
    """A stored token, or None for a missing or unreadable one (then it is minted again)."""
    text = _text(raw)
    if text is None:
        return None
    try:
        return Token.from_dict(json.loads(text))
    except (ValueError, KeyError, TypeError):
        logger.debug("unreadable token in the store; ignored")
        return None
