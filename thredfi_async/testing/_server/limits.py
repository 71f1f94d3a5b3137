"""Request rates the fake enforces, so that pacing can be tested offline.

Thredfi publishes no rate limits (docs/api-behaviour.md, "Rate limits"), so the fake enforces
none until a test sets them: ``fake.limits.set(partner_rps=100, business_rps=10, burst=10)``.
Each is a token bucket on the fake's clock (the wall clock unless a test froze it, so
``fake.advance`` refills it too): a partner's bucket counts every request made with that
partner's credentials or tokens, a business's bucket every request whose path names that
business. A request must find a token in each bucket it draws from; one that does not is
answered 429 with ``Retry-After`` (whole seconds, as the header's delta-seconds are) and takes
none, as a limiter that counted refusals would lock out a client that retries.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import ApiError

__all__ = ["Bucket", "Limits", "RateLimit", "rate_limited"]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """``per_second`` requests per second on average, up to ``burst`` at once after a pause."""

    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if not (isinstance(self.per_second, int | float) and 0 < self.per_second < math.inf):
            raise ValueError(f"a rate must be a positive number, got {self.per_second!r}")
        if isinstance(self.burst, bool) or not isinstance(self.burst, int) or self.burst < 1:
            raise ValueError(f"burst must be an int >= 1, got {self.burst!r}")


@dataclass(slots=True)
class Bucket:
    limit: RateLimit
    tokens: float
    at: float

    def refill(self, now: float) -> None:
        elapsed = max(0.0, now - self.at)
        self.tokens = min(float(self.limit.burst), self.tokens + elapsed * self.limit.per_second)
        self.at = max(self.at, now)

    def wait(self) -> float:
        """Seconds until a token is available (0: one is)."""
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.limit.per_second


@dataclass
class Limits:
    """``fake.limits``: set or clear the rates; ``refused`` counts the 429s they caused."""

    clock: Callable[[], float]
    partner: RateLimit | None = None
    business: RateLimit | None = None
    refused: int = 0
    _buckets: dict[tuple[str, str], Bucket] = field(default_factory=dict, repr=False)

    def set(
        self,
        *,
        partner_rps: float | None = None,
        business_rps: float | None = None,
        burst: int = 1,
        business_burst: int | None = None,
    ) -> None:
        """Limit each partner to ``partner_rps`` and each business to ``business_rps`` requests
        per second (None: no limit), with ``burst`` (for businesses ``business_burst``, by
        default the same) requests at once. Buckets start full."""
        self.partner = None if partner_rps is None else RateLimit(partner_rps, burst)
        self.business = (
            None if business_rps is None else RateLimit(business_rps, business_burst or burst)
        )
        self._buckets.clear()

    def clear(self) -> None:
        """No limits again."""
        self.set()

    @property
    def active(self) -> bool:
        return self.partner is not None or self.business is not None

    def admit(self, partner_uuid: str, business_id: str | None) -> float:
        """0 if the request fits every bucket it draws from (and takes a token from each),
        else the seconds until it would (and takes nothing)."""
        now = self.clock()
        buckets = []
        if self.partner is not None:
            buckets.append(self._bucket(("partner", partner_uuid), self.partner, now))
        if self.business is not None and business_id is not None:
            buckets.append(self._bucket(("business", business_id), self.business, now))
        wait = max((bucket.wait() for bucket in buckets), default=0.0)
        if wait > 0:
            self.refused += 1
            return wait
        for bucket in buckets:
            bucket.tokens -= 1
        return 0.0

    def _bucket(self, key: tuple[str, str], limit: RateLimit, now: float) -> Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = Bucket(limit, float(limit.burst), now)
        else:
            bucket.refill(now)
        return bucket


def rate_limited(wait: float) -> ApiError:
    """The 429 for a request ``wait`` seconds early, in the API's standard error shape."""
    seconds = max(1, math.ceil(wait))
    unit = "second" if seconds == 1 else "seconds"
    return ApiError(
        429,
        "rate_limited",
        f"Request was throttled. Expected available in {seconds} {unit}.",
        headers={"Retry-After": str(seconds)},
    )
