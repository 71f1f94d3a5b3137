"""Fleets: worker processes sharing tokens and a request budget through one real redis-server,
side by side with the same run on in-memory stores (each process on its own).

Tokens: W processes make one call per business for the same B businesses at once, from a cold
cache; the fake counts the token exchanges (Redis: 1 partner token and B business tokens in all;
in memory: W and W * B). Pacing: the fake limits the partner to R requests per second, and W
processes call as fast as their throttle lets them, sharing a RedisThrottle at R (in memory:
each its own LocalThrottle at R, so together W * R). Read from the fake's request log: the most
requests in any one-second window, the admitted rate, and the share answered 429. Then the same
with the throttle set above the fake's limit, where the adaptive rate must bring 429s down.

The scenario functions serve their own fake, so tests/test_fleet_figures.py asserts the same
runs that `make bench` prints.
"""

from __future__ import annotations

import multiprocessing
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Protocol

from thredfi_async.testing import FakeThredfi, RecordedRequest

from ._fleet_servers import RedisProcess, serve
from ._fleet_workers import (
    Credentials,
    Pacing,
    joined,
    outage_worker,
    pacing_worker,
    token_worker,
)
from ._harness import Figure, Target
from ._sizes import Sizes

__all__ = ["Fleet", "PacingRun", "TokenRun", "outage_run", "pacing_run", "run", "token_run"]

RESULT_TIMEOUT = 120.0  # seconds a worker may take to report, start-up included


class Stoppable(Protocol):
    """A Redis server a run can stop (RedisProcess here, tests/_redis.py's RedisServer)."""

    url: str

    def stop(self) -> None: ...


@dataclass
class TokenRun:
    workers: int
    businesses: int
    partner_tokens: int
    business_tokens: int
    succeeded: int
    failures: list[str]


@dataclass
class PacingRun:
    workers: int
    pacing: Pacing
    limit: float  # the fake's, requests per second
    configured: float  # the throttle's
    seconds: float
    arrivals: list[float]  # when each request of the run reached the fake
    refusals: list[float]  # when each one the limit refused did
    succeeded: int
    failures: list[str]
    throttle_429s: int  # as the throttles counted them
    rates: list[dict[str, float]] = field(default_factory=list)  # each worker's, at the end

    @property
    def sent(self) -> int:
        return len(self.arrivals)

    @property
    def admitted_rate(self) -> float:
        return (self.sent - len(self.refusals)) / self.seconds

    @property
    def peak_one_second(self) -> int:
        """The most requests that reached the fake within any one second."""
        times, peak, first = sorted(self.arrivals), 0, 0
        for last, at in enumerate(times):
            while at - times[first] >= 1.0:
                first += 1
            peak = max(peak, last - first + 1)
        return peak

    def refused_fraction(self, after: float = 0.0) -> float:
        """The share of requests answered 429, counting from `after` seconds into the run."""
        start = min(self.arrivals, default=0.0) + after
        sent = sum(1 for at in self.arrivals if at >= start)
        return sum(1 for at in self.refusals if at >= start) / max(sent, 1)


class Fleet:
    """`size` worker processes, started once and reused by every run given this fleet."""

    def __init__(self, size: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.size = size
        self._barrier = context.Barrier(size + 1)  # the workers of a run, and this process
        self._pool = ProcessPoolExecutor(
            size, mp_context=context, initializer=joined, initargs=(self._barrier,)
        )

    def __enter__(self) -> Fleet:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def run(
        self,
        target: Callable[..., dict[str, Any]],
        arguments: Sequence[tuple[Any, ...]],
        started: Callable[[], None] | None = None,
    ) -> list[dict[str, Any]]:
        """One call of `target` per worker, each with its arguments; their results. `started`
        is called as the run begins (once every worker has passed the barrier). Each worker
        blocks at the barrier, so no process takes two calls of one run."""
        if len(arguments) != self.size:
            raise ValueError(f"a run of this fleet needs {self.size} argument tuples")
        self._barrier.reset()
        futures = [self._pool.submit(target, *args) for args in arguments]
        try:
            self._barrier.wait(timeout=RESULT_TIMEOUT)
        except threading.BrokenBarrierError:
            for future in futures:
                future.result(timeout=RESULT_TIMEOUT)  # raises the worker's failure
            raise
        if started is not None:
            started()
        return [future.result(timeout=RESULT_TIMEOUT) for future in futures]


@contextmanager
def _fleet(fleet: Fleet | None, size: int) -> Iterator[Fleet]:
    """The given fleet, or one of `size` processes for this run only."""
    if fleet is not None:
        if fleet.size != size:
            raise ValueError(f"the fleet has {fleet.size} workers, the run needs {size}")
        yield fleet
        return
    with Fleet(size) as made:
        yield made


def _credentials(fake: FakeThredfi, base_url: str) -> Credentials:
    return Credentials(base_url, fake.partner_uuid, fake.api_key)


def token_run(
    *, workers: int, businesses: int, redis_url: str | None, fleet: Fleet | None = None
) -> TokenRun:
    """Every worker calls every business at once; tokens in Redis, or in each process."""
    fake = FakeThredfi()
    ids = fake.seed(businesses).business_ids
    prefix = f"fleet-{uuid.uuid4().hex}:"
    with _fleet(fleet, workers) as pool, serve(fake.app) as base_url:
        credentials = _credentials(fake, base_url)
        results = pool.run(
            token_worker, [(credentials, ids, redis_url, prefix) for _ in range(workers)]
        )
    return TokenRun(
        workers=workers,
        businesses=businesses,
        partner_tokens=fake.requests.count("get_partner_token"),
        business_tokens=fake.requests.count("get_business_token"),
        succeeded=sum(r["succeeded"] for r in results),
        failures=[failure for r in results for failure in r["failures"]],
    )


def pacing_run(
    *,
    workers: int,
    pacing: Pacing,
    limit: float,
    configured: float,
    seconds: float,
    redis_url: str | None,
    tasks: int = 10,
    fake_burst: int = 20,
    max_retries: int = 6,
    fleet: Fleet | None = None,
) -> PacingRun:
    """The fake limits the partner to `limit` per second (up to `fake_burst` at once); the
    workers call for `seconds`, each with `tasks` calls in flight, paced at `configured`, and
    retry a 429 up to `max_retries` times (each retry waits at least the whole second of its
    Retry-After)."""
    fake = FakeThredfi()
    fake.seed(2)
    prefix = f"fleet-{uuid.uuid4().hex}:"
    with _fleet(fleet, workers) as pool, serve(fake.app) as base_url:
        credentials = _credentials(fake, base_url)
        fake.limits.set(partner_rps=limit, burst=fake_burst)
        results = pool.run(
            pacing_worker,
            [
                (credentials, pacing, configured, redis_url, prefix, tasks, seconds, max_retries)
                for _ in range(workers)
            ],
        )
    started = min(r["started"] for r in results)
    ended = max(r["ended"] for r in results)

    def at(record: RecordedRequest) -> float:
        return record.at.timestamp()

    run = [r for r in fake.requests if started <= at(r) <= ended]
    return PacingRun(
        workers=workers,
        pacing=pacing,
        limit=limit,
        configured=configured,
        seconds=ended - started,
        arrivals=[at(r) for r in run],
        refusals=[at(r) for r in run if r.refused_by == "rate_limit"],
        succeeded=sum(r["succeeded"] for r in results),
        failures=[failure for r in results for failure in r["failures"]],
        throttle_429s=sum(r["rate_limited"] for r in results),
        rates=[r["rates"] for r in results],
    )


def outage_run(
    *,
    workers: int,
    businesses: int,
    redis: Stoppable,
    stop_after: float,
    rate: float,
    tasks: int = 5,
) -> tuple[TokenRun, list[dict[str, Any]]]:
    """Workers with tokens and pacing in `redis` call every business; `redis` is stopped
    `stop_after` seconds into the run. The token counts and each worker's report."""
    fake = FakeThredfi()
    ids = fake.seed(businesses).business_ids
    prefix = f"fleet-{uuid.uuid4().hex}:"
    with Fleet(workers) as pool, serve(fake.app) as base_url:
        credentials = _credentials(fake, base_url)
        stopper = threading.Timer(stop_after, redis.stop)
        try:
            results = pool.run(
                outage_worker,
                [(credentials, ids, redis.url, prefix, rate, tasks) for _ in range(workers)],
                started=stopper.start,
            )
        finally:
            stopper.cancel()
            stopper.join()
    tokens = TokenRun(
        workers=workers,
        businesses=businesses,
        partner_tokens=fake.requests.count("get_partner_token"),
        business_tokens=fake.requests.count("get_business_token"),
        succeeded=sum(r["succeeded"] for r in results),
        failures=[failure for r in results for failure in r["failures"]],
    )
    return tokens, results


# -- make bench ------------------------------------------------------------------------------


def run(sizes: Sizes) -> list[Figure]:
    workers, businesses = sizes.fleet_workers, sizes.fleet_businesses
    rate, seconds = sizes.fleet_rate, sizes.fleet_seconds
    with RedisProcess() as redis, Fleet(workers) as fleet:
        shared = token_run(workers=workers, businesses=businesses, redis_url=redis.url, fleet=fleet)
        alone = token_run(workers=workers, businesses=businesses, redis_url=None, fleet=fleet)
        paced = {
            pacing: pacing_run(
                workers=workers,
                pacing=pacing,
                limit=rate,
                configured=rate,
                seconds=seconds,
                redis_url=redis.url,
                max_retries=sizes.fleet_max_retries,
                fleet=fleet,
            )
            for pacing in ("redis", "local")
        }
        adaptive = pacing_run(
            workers=workers,
            pacing="redis",
            limit=rate,
            configured=2 * rate,
            seconds=sizes.fleet_adaptive_seconds,
            redis_url=redis.url,
            max_retries=sizes.fleet_max_retries,
            fleet=fleet,
        )
    for token in (shared, alone):
        if token.failures:
            raise RuntimeError(f"fleet calls failed: {token.failures[:3]}")
    where = f"{workers} processes x {businesses} businesses, cold cache"
    figures = [
        Figure(
            name="fleets.tokens.partner_requests",
            value=shared.partner_tokens,
            target=Target("==", 1),
            description=f"partner token requests at the fake, tokens in Redis ({where})",
            note=f"in memory: {alone.partner_tokens} (one per process)",
            context={"memory": alone.partner_tokens},
        ),
        Figure(
            name="fleets.tokens.business_requests",
            value=shared.business_tokens,
            target=Target("==", businesses),
            description=f"business token requests at the fake, tokens in Redis ({where})",
            note=f"in memory: {alone.business_tokens} (one per process and business)",
            context={"memory": alone.business_tokens},
        ),
    ]
    shared_run, local_run = paced["redis"], paced["local"]
    figures += [
        Figure(
            name="fleets.pacing.peak_vs_limit",
            value=shared_run.peak_one_second / rate,
            target=Target("<=", 1.05),
            description=(
                f"most requests in any second over the fake's limit of {rate:g}/s, {workers} "
                "processes sharing a RedisThrottle at the limit"
            ),
            note=_pacing_note(shared_run, local_run),
            context={"memory": local_run.peak_one_second / rate},
        ),
        Figure(
            name="fleets.pacing.admitted_vs_limit",
            value=shared_run.admitted_rate / rate,
            target=Target(">=", 0.9),
            description="requests admitted per second over the limit, RedisThrottle at the limit",
            note=f"in memory: {local_run.admitted_rate / rate:.2f}",
            context={"memory": local_run.admitted_rate / rate},
        ),
        Figure(
            name="fleets.pacing.answered_share",
            value=1 - shared_run.refused_fraction(),
            target=Target(">=", 0.99),
            description="share of requests not answered 429, RedisThrottle at the limit",
            note=(
                f"429s: {shared_run.refused_fraction():.3f}; in memory: "
                f"{local_run.refused_fraction():.3f}"
            ),
            context={"memory": 1 - local_run.refused_fraction()},
        ),
        Figure(
            name="fleets.pacing.adaptive_answered_share",
            value=1 - adaptive.refused_fraction(after=sizes.fleet_adaptive_settle),
            target=Target(">=", 0.95),
            description=(
                f"share of requests not answered 429 after {sizes.fleet_adaptive_settle:g} s, "
                "RedisThrottle set at twice the fake's limit (the adaptive rate finds it)"
            ),
            note=(
                f"429s after {sizes.fleet_adaptive_settle:g} s: "
                f"{adaptive.refused_fraction(after=sizes.fleet_adaptive_settle):.3f}, over the "
                f"whole {adaptive.seconds:.0f} s run: {adaptive.refused_fraction():.3f}; "
                f"admitted {adaptive.admitted_rate / rate:.2f} of the limit"
            ),
        ),
    ]
    return figures


def _pacing_note(shared: PacingRun, alone: PacingRun) -> str:
    def line(run: PacingRun) -> str:
        return (
            f"peak {run.peak_one_second}/s, admitted {run.admitted_rate:.0f}/s, "
            f"429s {run.refused_fraction():.1%} of {run.sent}"
        )

    return f"Redis: {line(shared)}; in memory (LocalThrottle per process): {line(alone)}"
