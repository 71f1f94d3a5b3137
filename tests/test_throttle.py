"""LocalThrottle on a clock the test moves: GCRA pacing, per-business budgets, and the adaptive
rate a 429 lowers and quiet time restores. No test sleeps."""

from __future__ import annotations

import anyio
import anyio.lowlevel
import pytest

from thredfi_async import InvalidRequestError
from thredfi_async._throttle import Adaptive, LocalThrottle, Rate, Throttle

pytestmark = pytest.mark.anyio


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class FakeClock:
    """Monotonic time that moves only when the throttle sleeps (or the test says so)."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds
        await anyio.lowlevel.checkpoint()


async def admitted(
    throttle: LocalThrottle, clock: FakeClock, n: int, business_id: str | None = None
) -> list[float]:
    times = []
    for _ in range(n):
        await throttle.acquire(business_id)
        times.append(round(clock.now - 1000.0, 9))
    return times


def most_in_any_window(times: list[float], window: float) -> int:
    return max(sum(1 for t in times if start <= t < start + window) for start in times)


async def test_a_burst_passes_at_once_then_requests_are_spaced_at_the_rate(
    anyio_backend: str,
) -> None:
    clock = FakeClock()
    throttle = LocalThrottle(Rate(10, burst=3), clock=clock)
    assert isinstance(throttle, Throttle)
    times = await admitted(throttle, clock, 8)
    assert times == [0, 0, 0, 0.1, 0.2, 0.3, 0.4, 0.5]
    stats = throttle.stats
    assert (stats.acquired, stats.waits) == (8, 5)
    assert stats.wait_seconds == pytest.approx(0.5)
    assert stats.rates == {"partner": 10}


async def test_no_window_admits_more_than_rate_times_window_plus_burst(
    anyio_backend: str,
) -> None:
    clock = FakeClock()
    throttle = LocalThrottle(Rate(20, burst=5), clock=clock)
    times = await admitted(throttle, clock, 60)
    clock.now += 3  # idle: the burst comes back, no more
    times += await admitted(throttle, clock, 60)
    for window in (0.25, 1.0, 2.0):
        assert most_in_any_window(times, window) <= 20 * window + 5


async def test_each_business_has_its_own_budget_inside_the_partner_one(
    anyio_backend: str,
) -> None:
    clock = FakeClock()
    throttle = LocalThrottle(Rate(100, burst=100), Rate(2, burst=1), clock=clock)
    assert await admitted(throttle, clock, 3, "b1") == [0, 0.5, 1.0]
    assert await admitted(throttle, clock, 1, "b2") == [1.0]  # b1's pace is not b2's
    assert await admitted(throttle, clock, 1, None) == [1.0]  # partner-scoped: partner only

    partner_bound = LocalThrottle(Rate(1, burst=1), Rate(100, burst=100), clock=clock)
    start = clock.now
    await partner_bound.acquire("b1")
    await partner_bound.acquire("b2")  # another business, the same partner budget
    assert clock.now - start == pytest.approx(1.0)


async def test_a_429_lowers_the_rate_once_per_cooldown_and_quiet_seconds_restore_it(
    anyio_backend: str,
) -> None:
    clock = FakeClock()
    adaptive = Adaptive(decrease=0.5, recovery=0.1, floor=0.2, cooldown=1.0)
    throttle = LocalThrottle(Rate(10, burst=1), adaptive=adaptive, clock=clock)
    throttle.penalize(None, None)
    throttle.penalize(None, None)  # the same wave of 429s: lowered once
    assert throttle.stats.rates == {"partner": 5}
    assert throttle.stats.rate_limited == 2
    times = await admitted(throttle, clock, 3)
    assert times == pytest.approx([0, 0.2, 0.4], abs=0.02)  # about 5 per second

    clock.now += 1.0
    throttle.penalize(None, None)  # after the cooldown: lowered again, (5 + 1.4 * 1) * 0.5
    assert throttle.stats.rates["partner"] == pytest.approx(3.2)
    for _ in range(5):
        clock.now += 1.0
        throttle.penalize(None, None)
    assert throttle.stats.rates["partner"] == pytest.approx(2.0, abs=0.05)  # the floor

    clock.now += 4.0  # + 0.1 * 10 per second
    assert throttle.stats.rates["partner"] == pytest.approx(6.0, abs=0.05)
    clock.now += 10.0
    assert throttle.stats.rates == {"partner": 10}  # recovered, and no higher


async def test_retry_after_holds_every_request_until_it_has_passed(anyio_backend: str) -> None:
    clock = FakeClock()
    throttle = LocalThrottle(Rate(10, burst=5), adaptive=None, clock=clock)
    throttle.penalize(None, 2.0)
    assert throttle.stats.rates == {"partner": 10}  # not adaptive: only the pause
    times = await admitted(throttle, clock, 3)
    assert times == pytest.approx([2.0, 2.1, 2.2])  # then paced, not a burst


async def test_a_business_429_slows_that_business_and_the_partner(anyio_backend: str) -> None:
    clock = FakeClock()
    throttle = LocalThrottle(Rate(10), Rate(4), clock=clock)
    throttle.penalize("b1", None)
    assert throttle.stats.rates == {"partner": 5, "business:b1": 2}
    throttle.penalize("b2", None)  # within the partner's cooldown: b2 lowered, partner not
    assert throttle.stats.rates == {"partner": 5, "business:b1": 2, "business:b2": 2}


async def test_many_businesses_keep_a_bounded_number_of_budgets(anyio_backend: str) -> None:
    clock = FakeClock()
    throttle = LocalThrottle(business=Rate(1), clock=clock, max_businesses=10)
    for n in range(100):
        await throttle.acquire(f"b{n}")
    assert len(throttle._businesses) == 10
    assert clock.slept == []


async def test_the_default_clock_really_waits(anyio_backend: str) -> None:
    throttle = LocalThrottle(Rate(50, burst=1))
    started = anyio.current_time()
    for _ in range(6):
        await throttle.acquire(None)
    assert anyio.current_time() - started >= 0.09


@pytest.mark.parametrize(
    "make",
    [
        lambda: Rate(0),
        lambda: Rate(-1),
        lambda: Rate(float("nan")),
        lambda: Rate(10, burst=0),
        lambda: Rate(10, burst=1.5),  # type: ignore[arg-type]
        lambda: Adaptive(decrease=1.5),
        lambda: Adaptive(recovery=0),
        lambda: Adaptive(cooldown=-1),
        lambda: LocalThrottle(),
    ],
)
def test_bad_settings_are_refused(make: object) -> None:
    with pytest.raises(InvalidRequestError):
        make()  # type: ignore[operator]
