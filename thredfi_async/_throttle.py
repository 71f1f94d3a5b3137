"""Pacing requests within a budget: a partner-wide rate and a rate per business.

Thredfi publishes no rate limits (docs/api-behaviour.md), so the rates are configuration and a
429 is the only signal: it lowers the rate that applies, and the rate recovers gradually while
no 429 comes (additive increase per quiet second, back to the configured rate).

Each budget is a GCRA (the generic cell rate algorithm: a token bucket kept as one timestamp,
the "theoretical arrival time"). A request reserves its slot in every budget it draws from at
once (the partner's, and its business's when a business rate is set) and sleeps until that
slot: no retry loop, no thundering herd, and over any window of W seconds a budget admits at
most `per_second * W + burst` requests. `LocalThrottle` keeps the budgets in this process;
`thredfi_async.redis.RedisThrottle` keeps the same arithmetic in Redis, for many processes.

A throttle is applied before each attempt (retries included) and before each token exchange;
`penalize` is told of every 429.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import anyio

from ._clock import Clock
from ._exceptions import InvalidRequestError

__all__ = ["DEFAULT_ADAPTIVE", "Adaptive", "LocalThrottle", "Rate", "Throttle", "ThrottleStats"]

PARTNER = "partner"


def budget_name(business_id: str | None) -> str:
    return PARTNER if business_id is None else f"business:{business_id}"


def _positive(name: str, value: float, *, maximum: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 < value <= maximum:
        raise InvalidRequestError(f"{name} must be a number in (0, {maximum}], got {value!r}")
    return float(value)


@dataclass(frozen=True, slots=True)
class Rate:
    """`per_second` requests per second on average, and up to `burst` at once after a pause."""

    per_second: float
    burst: int = 1

    def __post_init__(self) -> None:
        _positive("Rate.per_second", self.per_second)
        if isinstance(self.burst, bool) or not isinstance(self.burst, int) or self.burst < 1:
            raise InvalidRequestError(f"Rate.burst must be an int >= 1, got {self.burst!r}")


@dataclass(frozen=True, slots=True)
class Adaptive:
    """How a 429 lowers the rate that applies, and how it comes back.

    A 429 multiplies the applying rate by `decrease`, never below `floor` times the configured
    rate; 429s within `cooldown` seconds of that lowering do not lower it again (the requests
    already in flight when the limit was hit all come back 429 at once). Every second without
    a lowering gives back `recovery` times the configured rate.
    """

    decrease: float = 0.5
    recovery: float = 0.05
    floor: float = 0.05
    cooldown: float = 1.0

    def __post_init__(self) -> None:
        _positive("Adaptive.decrease", self.decrease, maximum=1)
        _positive("Adaptive.recovery", self.recovery)
        _positive("Adaptive.floor", self.floor, maximum=1)
        if not 0 <= self.cooldown < math.inf:
            raise InvalidRequestError(f"Adaptive.cooldown must be >= 0, got {self.cooldown!r}")


DEFAULT_ADAPTIVE = Adaptive()


@dataclass
class ThrottleStats:
    """Counters for metrics. `rates`: the applying rate of the partner budget, and of every
    business budget a 429 has lowered and that has not recovered yet."""

    acquired: int = 0
    waits: int = 0
    wait_seconds: float = 0.0
    rate_limited: int = 0
    fallbacks: int = 0  # acquisitions paced in this process because the shared store was down
    rates: dict[str, float] = field(default_factory=dict)


@runtime_checkable
class Throttle(Protocol):
    async def acquire(self, business_id: str | None) -> None:
        """Wait until a request for `business_id` (None: partner-scoped) fits the budgets."""
        ...

    def penalize(self, business_id: str | None, retry_after: float | None) -> None:
        """A request for `business_id` got a 429 (with its Retry-After in seconds, if any)."""
        ...

    @property
    def stats(self) -> ThrottleStats: ...


@runtime_checkable
class NamedByClient(Protocol):
    """A throttle whose budget may take its name from the client it is given to (the partner
    and base URL), so the user need not invent one that every process must spell alike."""

    def name_for_client(self, namespace: str) -> None: ...


def check_throttle(throttle: object, namespace: str) -> Throttle | None:
    """The client's throttle, checked, and named after the client if it wants a name."""
    if throttle is None:
        return None
    if not isinstance(throttle, Throttle):
        raise InvalidRequestError(
            "throttle must implement acquire(business_id), penalize(business_id, retry_after) "
            f"and stats (LocalThrottle, RedisThrottle), got {throttle!r}"
        )
    if isinstance(throttle, NamedByClient):
        throttle.name_for_client(namespace)
    return throttle


class MonotonicClock:
    """The throttle's default clock: monotonic, so a wall-clock step does not open the gates."""

    def time(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)


@dataclass(slots=True)
class _Budget:
    tat: float = -math.inf  # theoretical arrival time of the next request
    rate: float | None = None  # the applying rate since `lowered_at`; None: the configured
    lowered_at: float = 0.0


def applying_rate(
    budget: _Budget, configured: Rate, adaptive: Adaptive | None, now: float
) -> float:
    if budget.rate is None or adaptive is None:
        return configured.per_second
    rate = budget.rate + adaptive.recovery * configured.per_second * (now - budget.lowered_at)
    if rate >= configured.per_second:
        budget.rate = None
        return configured.per_second
    return rate


class LocalThrottle:
    """A Throttle for one process: budgets kept in memory, on the given clock.

    `partner` paces every request; `business` paces each business on its own (up to
    `max_businesses` budgets kept, least recently used forgotten). Either may be None, not both.
    """

    def __init__(
        self,
        partner: Rate | None = None,
        business: Rate | None = None,
        *,
        adaptive: Adaptive | None = DEFAULT_ADAPTIVE,
        clock: Clock | None = None,
        max_businesses: int = 10_000,
    ) -> None:
        if partner is None and business is None:
            raise InvalidRequestError("a throttle needs a partner rate, a business rate or both")
        self.partner = partner
        self.business = business
        self.adaptive = adaptive
        self.clock: Clock = clock or MonotonicClock()
        self.max_businesses = max_businesses
        self._partner = _Budget()
        self._businesses: OrderedDict[str, _Budget] = OrderedDict()
        self._stats = ThrottleStats()

    def __repr__(self) -> str:
        return f"LocalThrottle(partner={self.partner}, business={self.business})"

    @property
    def stats(self) -> ThrottleStats:
        now = self.clock.time()
        stats = ThrottleStats(**{**self._stats.__dict__, "rates": {}})
        if self.partner is not None:
            stats.rates[PARTNER] = applying_rate(self._partner, self.partner, self.adaptive, now)
        if self.business is not None:
            for business_id, budget in self._businesses.items():
                rate = applying_rate(budget, self.business, self.adaptive, now)
                if rate < self.business.per_second:
                    stats.rates[budget_name(business_id)] = rate
        return stats

    async def acquire(self, business_id: str | None) -> None:
        now = self.clock.time()
        wait = self.reserve(business_id, now)
        if wait > 0:
            await self.clock.sleep(wait)

    def reserve(self, business_id: str | None, now: float) -> float:
        """Take the request's slot in each of its budgets; the seconds until that slot."""
        budgets = self._budgets(business_id)
        intervals = [1 / applying_rate(b, rate, self.adaptive, now) for b, rate in budgets]
        at = max(
            [now]
            + [
                max(b.tat, now) - (rate.burst - 1) * t
                for (b, rate), t in zip(budgets, intervals, strict=True)
            ]
        )
        for (budget, _), interval in zip(budgets, intervals, strict=True):
            budget.tat = max(budget.tat, at) + interval
        self._stats.acquired += 1
        if at > now:
            self._stats.waits += 1
            self._stats.wait_seconds += at - now
        return at - now

    def penalize(self, business_id: str | None, retry_after: float | None) -> None:
        now = self.clock.time()
        self._stats.rate_limited += 1
        # A 429 does not say which limit refused it: every budget the request drew from slows.
        for budget, rate in self._budgets(business_id):
            applying = applying_rate(budget, rate, self.adaptive, now)
            adaptive = self.adaptive
            if adaptive is not None and (
                budget.rate is None or now - budget.lowered_at >= adaptive.cooldown
            ):
                floor = adaptive.floor * rate.per_second
                applying = budget.rate = max(floor, applying * adaptive.decrease)
                budget.lowered_at = now
            if retry_after is not None and retry_after > 0:
                # Nothing before Retry-After, then one request, then the (lowered) rate.
                pause_end = now + retry_after + (rate.burst - 1) / applying
                budget.tat = max(budget.tat, pause_end)

    def _budgets(self, business_id: str | None) -> list[tuple[_Budget, Rate]]:
        budgets = []
        if self.partner is not None:
            budgets.append((self._partner, self.partner))
        if self.business is not None and business_id is not None:
            budget = self._businesses.get(business_id)
            if budget is None:
                budget = self._businesses[business_id] = _Budget()
                if len(self._businesses) > self.max_businesses:
                    self._businesses.popitem(last=False)
            else:
                self._businesses.move_to_end(business_id)
            budgets.append((budget, self.business))
        return budgets
