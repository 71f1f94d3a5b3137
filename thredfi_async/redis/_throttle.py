"""One request budget for every process: the throttle's GCRA kept in Redis, updated atomically.

Each budget is a hash: `tat` (theoretical arrival time, microseconds of Redis's own clock), and
while a 429 has it lowered, `rate` and `at` (the rate applying since then). Both scripts read the
time with TIME on the server, so the processes' clocks never matter, and do the whole
read-decide-write in one step, so no two processes take the same slot. The arithmetic is the
one of thredfi_async/_throttle.py; the configuration travels with each call, so every process
must be given the same rates.

A penalty (a 429) lowers the shared rate for every process: `penalize` is synchronous (the send
path calls it as it reads the response), so the penalty is noted and written to Redis at the
start of this process's next acquisition, which follows at once when the call is retried.

When Redis fails, this process paces itself with a LocalThrottle of the same settings (each
process then admits the full rate: an outage loosens pacing, never fails a call), warns once,
and tries Redis again every `retry_interval` seconds.
"""

from __future__ import annotations

import time
from typing import Any

import anyio
from redis.asyncio import Redis

from .._exceptions import InvalidRequestError
from .._logging import logger
from .._throttle import (
    DEFAULT_ADAPTIVE,
    PARTNER,
    Adaptive,
    LocalThrottle,
    Rate,
    ThrottleStats,
    budget_name,
)
from ._connection import DEFAULT_SOCKET_TIMEOUT, resolve

__all__ = ["RedisThrottle"]

DEFAULT_PREFIX = "thredfi-async:"

# Shared by both scripts: the applying rate of a budget at `now` (microseconds), and its TTL:
# a budget whose slot has passed and whose rate has recovered is the same as a missing one.
_COMMON = """
local function applying(cfg, rate, at, now, recovery)
  if not rate then return cfg end
  local r = rate + recovery * cfg * (now - at) / 1000000
  if r >= cfg then return cfg end
  return r
end
local function keep(key, tat, now, recovery)
  local ms = math.max(0, tat - now) / 1000 + 1000 / recovery + 60000
  redis.call('PEXPIRE', key, math.ceil(ms))
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
"""

# KEYS: the budgets; ARGV: recovery, then per budget its rate per second and burst.
# Returns the wait in microseconds and each budget's applying rate, as strings (Redis would
# truncate Lua numbers to integers).
_ACQUIRE = (
    _COMMON
    + """
local recovery = tonumber(ARGV[1])
local at = now
local budgets = {}
for i, key in ipairs(KEYS) do
  local cfg, burst = tonumber(ARGV[2 * i]), tonumber(ARGV[2 * i + 1])
  local h = redis.call('HMGET', key, 'tat', 'rate', 'at')
  local rate = applying(cfg, tonumber(h[2]), tonumber(h[3]), now, recovery)
  if h[2] and rate >= cfg then redis.call('HDEL', key, 'rate', 'at') end
  local tat = tonumber(h[1]) or now
  local interval = 1000000 / rate
  at = math.max(at, math.max(tat, now) - (burst - 1) * interval)
  budgets[i] = {tat, rate, interval}
end
local reply = {string.format('%.17g', at - now)}
for i, key in ipairs(KEYS) do
  local b = budgets[i]
  local tat = math.floor(math.max(b[1], at) + b[3])
  redis.call('HSET', key, 'tat', string.format('%d', tat))
  keep(key, tat, now, recovery)
  reply[i + 1] = string.format('%.17g', b[2])
end
return reply
"""
)

# KEYS: the budgets a 429 came from; ARGV: retry-after (microseconds, 0: none), decrease,
# floor, cooldown (microseconds), recovery, adapt (1/0), then per budget rate and burst.
_PENALIZE = (
    _COMMON
    + """
local retry_after, decrease, floor = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local cooldown, recovery, adapt = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6] == '1'
for i, key in ipairs(KEYS) do
  local cfg, burst = tonumber(ARGV[5 + 2 * i]), tonumber(ARGV[6 + 2 * i])
  local h = redis.call('HMGET', key, 'tat', 'rate', 'at')
  local rate = applying(cfg, tonumber(h[2]), tonumber(h[3]), now, recovery)
  if adapt and (rate >= cfg or now - tonumber(h[3]) >= cooldown) then
    rate = math.max(cfg * floor, rate * decrease)
    redis.call('HSET', key, 'rate', string.format('%.17g', rate), 'at', string.format('%d', now))
  end
  local tat = tonumber(h[1]) or now
  if retry_after > 0 then
    tat = math.max(tat, math.floor(now + retry_after + (burst - 1) * 1000000 / rate))
    redis.call('HSET', key, 'tat', string.format('%d', tat))
  end
  keep(key, tat, now, recovery)
end
return 1
"""
)


class RedisThrottle:
    """A Throttle whose budgets every process shares through Redis.

    Processes whose throttles have the same `name` and `prefix` share one budget. Given to
    `AsyncThredfi(throttle=...)` without a name, it is named after that client's partner UUID
    and base URL, the scope an API limit applies to; used on its own, or to pace several
    partners as one, it needs an explicit `name`. `redis` is a `redis.asyncio.Redis` client
    or a URL (a fail-fast client is made, closed by `aclose()`). Rates are as for
    LocalThrottle.
    """

    def __init__(
        self,
        redis: Redis | str,
        *,
        name: str | None = None,
        partner: Rate | None = None,
        business: Rate | None = None,
        adaptive: Adaptive | None = DEFAULT_ADAPTIVE,
        prefix: str = DEFAULT_PREFIX,
        socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
        retry_interval: float = 1.0,
    ) -> None:
        if name is not None and (not isinstance(name, str) or not name):
            raise InvalidRequestError(f"name must be a non-empty str or None, got {name!r}")
        # The fallback, and the validation of the settings.
        self.local = LocalThrottle(partner, business, adaptive=adaptive)
        self.partner, self.business, self.adaptive = partner, business, adaptive
        self.name = name
        self._client_namespace: str | None = None
        self.prefix = prefix
        self.retry_interval = retry_interval
        self._owns_client = isinstance(redis, str)
        self.redis = resolve(redis, socket_timeout)
        self._acquire = self.redis.register_script(_ACQUIRE)
        self._penalize = self.redis.register_script(_PENALIZE)
        self._pending: dict[str | None, float] = {}  # business id -> longest Retry-After (0: none)
        self._down_until: float | None = None
        self._stats = ThrottleStats()
        self._rates: dict[str, float] = {}

    def __repr__(self) -> str:
        return (
            f"RedisThrottle(name={self.name!r}, partner={self.partner}, business={self.business})"
        )

    def name_for_client(self, namespace: str) -> None:
        """Take the client's partner and base URL as the budget's name, unless named already.

        One unnamed throttle given to clients of two partners would pace both as one budget
        under the first one's name: refused, as they are limited apart.
        """
        if self.name is None:
            self.name = self._client_namespace = namespace
        elif self._client_namespace is not None and self._client_namespace != namespace:
            raise InvalidRequestError(
                "this RedisThrottle is already named after another partner or base URL; give "
                "each client its own throttle, or pass name= to pace them as one"
            )

    async def aclose(self) -> None:
        if self._owns_client:
            await self.redis.aclose()

    @property
    def stats(self) -> ThrottleStats:
        local = self.local.stats
        return ThrottleStats(
            acquired=self._stats.acquired + local.acquired,
            waits=self._stats.waits + local.waits,
            wait_seconds=self._stats.wait_seconds + local.wait_seconds,
            rate_limited=self._stats.rate_limited + local.rate_limited,
            fallbacks=local.acquired,
            rates=dict(local.rates if self._down_until is not None else self._rates),
        )

    def penalize(self, business_id: str | None, retry_after: float | None) -> None:
        if self._down_until is not None:
            self.local.penalize(business_id, retry_after)
            return
        self._stats.rate_limited += 1
        self._pending[business_id] = max(self._pending.get(business_id, 0.0), retry_after or 0.0)

    async def acquire(self, business_id: str | None) -> None:
        if self.name is None:  # before the fallback below, which would hide the mistake
            raise InvalidRequestError(
                "RedisThrottle needs name= when used without an AsyncThredfi to name it"
            )
        if self._down_until is not None and time.monotonic() < self._down_until:
            await self.local.acquire(business_id)
            return
        try:
            await self._flush()
            reply = await self._acquire(keys=self._keys(business_id), args=self._args(business_id))
        except Exception as exc:  # never fail a call for the throttle: pace this process alone
            self._failed(exc)
            await self.local.acquire(business_id)
            return
        if self._down_until is not None:
            self._down_until = None
            logger.info("throttle store answering again; pacing shared again")
        wait = float(reply[0]) / 1_000_000
        self._note_rates(business_id, [float(r) for r in reply[1:]])
        self._stats.acquired += 1
        if wait > 0:
            self._stats.waits += 1
            self._stats.wait_seconds += wait
            await anyio.sleep(wait)

    async def _flush(self) -> None:
        """Write the penalties noted since the last acquisition."""
        adaptive = self.adaptive or Adaptive()  # its numbers unused when not adaptive
        while self._pending:
            # Taken off before the await: another task of this process may flush meanwhile.
            business_id, retry_after = self._pending.popitem()
            try:
                await self._penalize(
                    keys=self._keys(business_id),
                    args=[
                        round(retry_after * 1_000_000),
                        adaptive.decrease,
                        adaptive.floor,
                        round(adaptive.cooldown * 1_000_000),
                        adaptive.recovery,
                        1 if self.adaptive else 0,
                        *self._rate_args(business_id),
                    ],
                )
            except BaseException:  # kept for the next flush, or for the fallback to apply
                noted = self._pending.get(business_id, 0.0)
                self._pending[business_id] = max(noted, retry_after)
                raise

    def _failed(self, exc: Exception) -> None:
        if self._down_until is None:
            # Only the type: a Redis error's message may carry the server's address or user.
            logger.warning(
                "throttle store failed (%s); pacing this process alone until it answers",
                type(exc).__name__,
            )
            for business_id, retry_after in self._pending.items():
                self.local.penalize(business_id, retry_after or None)
                self._stats.rate_limited -= 1  # counted again by the local throttle
            self._pending.clear()
        self._down_until = time.monotonic() + self.retry_interval

    def _rated(self, business_id: str | None) -> list[tuple[str, Rate]]:
        budgets = []
        if self.partner is not None:
            budgets.append((PARTNER, self.partner))
        if self.business is not None and business_id is not None:
            budgets.append((budget_name(business_id), self.business))
        return budgets

    def _keys(self, business_id: str | None) -> list[str]:
        return [
            f"{self.prefix}throttle:{{{self.name}}}:{name}" for name, _ in self._rated(business_id)
        ]

    def _rate_args(self, business_id: str | None) -> list[Any]:
        return [value for _, rate in self._rated(business_id) for value in rate_args(rate)]

    def _args(self, business_id: str | None) -> list[Any]:
        recovery = self.adaptive.recovery if self.adaptive else 1
        return [recovery, *self._rate_args(business_id)]

    def _note_rates(self, business_id: str | None, rates: list[float]) -> None:
        for (name, rate), applying in zip(self._rated(business_id), rates, strict=True):
            if name == PARTNER or applying < rate.per_second:
                self._rates[name] = applying
            else:
                self._rates.pop(name, None)


def rate_args(rate: Rate) -> tuple[str, int]:
    return repr(float(rate.per_second)), rate.burst
