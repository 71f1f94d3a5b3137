"""Fleets of worker processes, each its own AsyncThredfi, against the fake served on loopback
and a real redis-server: the token and pacing figures `make bench` prints, asserted.

The runs are benchmarks/fleets.py's (so the bench prints what is asserted here). The limit is R
= 100 requests per second for 5 s (15 s where the adaptive rate has to find the limit), so each
test takes well under a minute; the fake's bucket holds 20 (0.2 s at R), room for the jitter of
requests on their way to it on a busy machine.
"""

from __future__ import annotations

import pytest

from benchmarks._fleet_workers import Pacing
from benchmarks.fleets import outage_run, pacing_run, token_run
from tests._redis import RedisServer

R = 100.0
SECONDS = 5.0


def test_four_workers_on_one_redis_mint_one_partner_token_and_one_per_business(
    redis_url: str,
) -> None:
    shared = token_run(workers=4, businesses=200, redis_url=redis_url)
    assert shared.failures == []
    assert shared.succeeded == 4 * 200
    assert (shared.partner_tokens, shared.business_tokens) == (1, 200)

    alone = token_run(workers=4, businesses=200, redis_url=None)  # each process its own cache
    assert alone.failures == []
    assert alone.succeeded == 4 * 200
    assert (alone.partner_tokens, alone.business_tokens) == (4, 800)


# Four processes sharing one RedisThrottle, and one process with its own LocalThrottle.
BOTH_PACINGS = pytest.mark.parametrize(
    ("pacing", "workers", "tasks"),
    [("redis", 4, 10), ("local", 1, 40)],
    ids=["four-processes-one-redis-throttle", "one-process-local-throttle"],
)


@BOTH_PACINGS
def test_a_throttle_at_the_limit_keeps_within_it_and_uses_it(
    redis_url: str, pacing: Pacing, workers: int, tasks: int
) -> None:
    run = pacing_run(
        workers=workers,
        pacing=pacing,
        limit=R,
        configured=R,
        seconds=SECONDS,
        redis_url=redis_url,
        tasks=tasks,
    )
    assert run.failures == []
    assert run.peak_one_second <= 1.05 * R, run.peak_one_second
    assert run.admitted_rate >= 0.9 * R, run.admitted_rate
    assert run.refused_fraction() < 0.01, (len(run.refusals), run.sent)


@BOTH_PACINGS
def test_a_throttle_set_above_the_limit_adapts_to_it_within_ten_seconds(
    redis_url: str, pacing: Pacing, workers: int, tasks: int
) -> None:
    run = pacing_run(
        workers=workers,
        pacing=pacing,
        limit=R,
        configured=2 * R,
        seconds=15.0,
        redis_url=redis_url,
        tasks=tasks,
    )
    assert run.failures == []  # every 429 was retried
    assert run.refused_fraction(after=0) < 0.2
    assert len(run.refusals) > 0  # it was above the limit, and learnt so from 429s
    assert run.throttle_429s >= len(run.refusals)  # every 429 was reported to a throttle
    assert run.refused_fraction(after=10.0) < 0.05, run.refused_fraction(after=10.0)


def test_with_redis_stopped_mid_run_no_call_fails() -> None:
    redis = RedisServer()
    redis.start()
    try:
        tokens, workers = outage_run(workers=4, businesses=50, redis=redis, stop_after=1.0, rate=R)
    finally:
        redis.close()
    assert tokens.failures == []
    assert tokens.succeeded == 4 * 50
    # Each worker paced itself once Redis was gone (and had shared the budget before).
    assert all(0 < worker["fallbacks"] < worker["acquired"] for worker in workers)
