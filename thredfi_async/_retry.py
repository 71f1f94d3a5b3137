"""When to retry, and after how long. Retry policy is data: one small decision function.

Defaults (documented in the README): 2 retries (3 attempts), exponential backoff from 0.5 s
doubling to at most 8 s, minus up to 25 % random jitter; `Retry-After` (seconds or an HTTP
date) is honoured up to 60 s, plus up to 10 % at random so a fleet of clients told the same
wait does not come back in step (never sooner than asked, never past the 60 s ceiling). A
longer wait is not taken (the error is raised at once, RateLimitError carrying
`retry_after`); a negative one counts as absent (the usual backoff). Retried: connection
errors, timeouts, 408, 429 and 5xx. Never retried: any other 4xx (409 duplicate_external_id
included) and 401 (the attempt already refreshed the token and replayed once).

The safety rule: a request that may have reached the server is retried only when replaying
it cannot do something twice: its method is idempotent (GET, PUT, DELETE), or the API
deduplicates it, i.e. it carries an Idempotency-Key on an operation that honours one (the
three payment creates) or an `external_id` on a create the API deduplicates on it
(docs/api-behaviour.md, "Idempotency and deduplication"; both are recorded per operation from
codegen/patches.yaml). Every POST and PATCH still
carries a key; on the other creates the API has not said it honours it, and a lost response
replayed there would create a second customer or refund. A connect error or a 408/429 means
the server did not process the request, so those are always safe.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime

import httpx

from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    InvalidRequestError,
    ThredfiError,
)

__all__ = ["RetryPolicy", "parse_retry_after"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
NOT_PROCESSED_STATUSES = frozenset({408, 429})


@dataclass(frozen=True)
class RetryPolicy:
    """How the client retries. Pass one as `AsyncThredfi(retry_policy=...)` to change it.

    How many retries is the client's `max_retries` (per call: `max_retries=`); this says how.

    Attributes:
        initial_delay: The first backoff, in seconds; it doubles per retry.
        max_delay: The backoff cap, in seconds.
        jitter: Fraction of the backoff taken off at random, so clients do not retry in step.
        max_retry_after: The longest `Retry-After` the client will wait; beyond it the error
            is raised at once (RateLimitError.retry_after says how long the API asked for).
        retry_after_jitter: Fraction of a `Retry-After` added on top at random (default 0.1),
            so clients told the same wait spread out. Never shortens the wait, and never
            lengthens it past `max_retry_after`.
    """

    initial_delay: float = 0.5
    max_delay: float = 8.0
    jitter: float = 0.25
    max_retry_after: float = 60.0
    retry_after_jitter: float = 0.1
    random: random.Random = field(default_factory=random.Random, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.initial_delay < 0 or self.max_delay < 0 or self.max_retry_after < 0:
            raise InvalidRequestError("initial_delay, max_delay and max_retry_after must be >= 0")
        if not 0 <= self.jitter <= 1 or not 0 <= self.retry_after_jitter <= 1:
            raise InvalidRequestError("jitter and retry_after_jitter must be between 0 and 1")

    def backoff(self, retry_number: int) -> float:
        """The pause before retry number `retry_number` (1 for the first retry)."""
        # The exponent is capped so a huge max_retries cannot overflow the float.
        delay = min(self.initial_delay * 2.0 ** min(retry_number - 1, 64), self.max_delay)
        return float(delay * (1 - self.jitter * self.random.random()))

    def retry_after_wait(self, asked: float) -> float:
        """The pause for a `Retry-After` of `asked` seconds (at most `max_retry_after`).

        The API tells every client it throttled the same wait; taken exactly, they would all
        return at the same instant and be throttled together again. So a random extra of up to
        `retry_after_jitter` of it is added, never below what was asked, never above the
        ceiling.
        """
        extra = asked * self.retry_after_jitter * self.random.random()
        return max(asked, min(asked + extra, self.max_retry_after))

    def decide(
        self,
        error: ThredfiError,
        retry_number: int,
        *,
        replay_safe: bool,
        now: float | None = None,
    ) -> float | None:
        """Seconds to wait before retry number `retry_number`, or None to raise `error` now.

        `now` is the client clock's time, from which a `Retry-After` HTTP date is measured.
        """
        if isinstance(error, APIStatusError):
            status = error.status_code
            if status not in NOT_PROCESSED_STATUSES and status < 500:
                return None
            if status not in NOT_PROCESSED_STATUSES and not replay_safe:
                return None
            retry_after = parse_retry_after(error.response.headers.get("retry-after"), now=now)
            if retry_after is not None:
                if retry_after > self.max_retry_after:
                    return None
                return self.retry_after_wait(retry_after)
            return self.backoff(retry_number)
        if isinstance(error, APIConnectionError):
            if not replay_safe and not _never_sent(error):
                return None
            return self.backoff(retry_number)
        return None


def _never_sent(error: APIConnectionError) -> bool:
    """Errors raised before the request could reach the server: safe to replay anything."""
    cause = error.__cause__
    if isinstance(error, APITimeoutError):
        return isinstance(cause, httpx.ConnectTimeout | httpx.PoolTimeout)
    return isinstance(cause, httpx.ConnectError)


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Retry-After as seconds: a number, or an HTTP date turned into a delay from `now`."""
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = when.timestamp() - (time.time() if now is None else now)
        return max(0.0, seconds)  # a date already past: retry now
    # A negative delay (or NaN) is not one the header can express: treated as absent, so the
    # usual backoff applies rather than a retry at once.
    return seconds if seconds >= 0 else None
