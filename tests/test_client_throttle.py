"""AsyncThredfi(throttle=...): what the client asks of its throttle, and when, against the fake.

A recording throttle stands in for the real ones (their arithmetic has tests of its own), so
each test sees exactly which acquisitions and penalties a call made, and can hold an
acquisition to see what waits on it. Retry waits go through RecordingClock: nothing sleeps
except where a test needs a wait to be real.
"""

from __future__ import annotations

import logging

import anyio
import pytest

from thredfi_async import AsyncThredfi, Hook, InvalidRequestError, RateLimitError
from thredfi_async._hooks import AttemptInfo
from thredfi_async._throttle import LocalThrottle, Rate, ThrottleStats
from thredfi_async.redis import RedisThrottle
from thredfi_async.testing import FakeThredfi, RecordingClock

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class RecordingThrottle:
    """Records every acquire and penalize; `hold` makes acquisitions wait for `release`."""

    def __init__(self, delay: float = 0.0) -> None:
        self.acquired: list[str | None] = []
        self.penalized: list[tuple[str | None, float | None]] = []
        self.delay = delay
        self.hold: anyio.Event | None = None
        self.cancelled = 0

    async def acquire(self, business_id: str | None) -> None:
        self.acquired.append(business_id)
        try:
            if self.hold is not None:
                await self.hold.wait()
            if self.delay:
                await anyio.sleep(self.delay)
        except anyio.get_cancelled_exc_class():
            self.cancelled += 1
            raise

    def penalize(self, business_id: str | None, retry_after: float | None) -> None:
        self.penalized.append((business_id, retry_after))

    @property
    def stats(self) -> ThrottleStats:
        return ThrottleStats(acquired=len(self.acquired))


@pytest.fixture
def fake() -> FakeThredfi:
    return FakeThredfi()


@pytest.fixture
def business(fake: FakeThredfi) -> str:
    return fake.seed(1, customers_per_business=1).business_ids[0]


async def test_every_attempt_and_every_token_exchange_is_paced_in_its_scope(
    fake: FakeThredfi, business: str
) -> None:
    throttle = RecordingThrottle()
    fake.faults.fail(503, times=2, path="*/customers/")
    async with fake.client(throttle=throttle, clock=RecordingClock()) as thredfi:
        await thredfi.business(business).customers.list()
        assert throttle.acquired == [None, business, business, business, business]
        await thredfi.businesses.list()  # partner-scoped: the partner budget only
    # partner token, business token, then the three attempts of the list; then the partner call
    assert throttle.acquired == [None, business, business, business, business, None]
    assert fake.requests.count() == 6


async def test_a_401_replay_and_the_tokens_it_needs_are_paced_like_any_request(
    fake: FakeThredfi, business: str
) -> None:
    throttle = RecordingThrottle()
    async with fake.client(throttle=throttle, clock=RecordingClock()) as thredfi:
        await thredfi.business(business).customers.list()
        fake.faults.expire_tokens()  # both tokens: the business exchange gets a 401 too
        before = fake.requests.count()
        throttle.acquired.clear()
        await thredfi.business(business).customers.list()
    sent = fake.requests[before:]
    assert [r.operation_id for r in sent] == [
        "list_customers",  # 401
        "get_business_token",  # 401: the partner token expired too
        "get_partner_token",
        "get_business_token",
        "list_customers",  # the replay
    ]
    # One acquisition per request sent, each in the scope of the request's business.
    assert throttle.acquired == [r.business_id for r in sent]


async def test_every_429_is_reported_with_its_retry_after_or_none(
    fake: FakeThredfi, business: str
) -> None:
    throttle = RecordingThrottle()
    clock = RecordingClock()
    async with fake.client(throttle=throttle, clock=clock, max_retries=3) as thredfi:
        fake.faults.rate_limit(retry_after=2, path="*/customers/")
        fake.faults.rate_limit(retry_after=None, path="*/customers/")
        fake.faults.rate_limit(retry_after=3600, path="/v1/platform/businesses/")
        await thredfi.business(business).customers.list()
        with pytest.raises(RateLimitError):  # an hour is longer than the policy waits
            await thredfi.businesses.list()
    # The hour is passed on as the longest the retry policy would wait (60 s), not an hour.
    assert throttle.penalized == [(business, 2.0), (business, None), (None, 60.0)]


async def test_a_call_held_by_the_throttle_holds_no_concurrency_slot(
    fake: FakeThredfi, business: str
) -> None:
    throttle = RecordingThrottle()
    async with fake.client(throttle=throttle, max_concurrent_requests=1) as thredfi:
        await thredfi.business(business).customers.list()  # tokens in hand
        hold = throttle.hold = anyio.Event()

        async def partner_call() -> None:
            await thredfi.businesses.list()

        async with anyio.create_task_group() as tg:
            tg.start_soon(partner_call)  # held by the throttle
            await anyio.sleep(0.05)
            throttle.hold = None  # the next call passes the throttle at once
            with anyio.fail_after(5):
                await thredfi.business(business).customers.list()  # gets the only slot
            assert fake.requests.count("list_businesses") == 0
            hold.set()
        assert fake.requests.count("list_businesses") == 1


async def test_a_throttle_wait_does_not_count_against_the_timeout(
    fake: FakeThredfi, business: str
) -> None:
    throttle = RecordingThrottle(delay=0.4)
    async with fake.client(throttle=throttle, timeout=0.2) as thredfi:
        page = await thredfi.business(business).customers.list()
    assert page.count == 1
    assert len(throttle.acquired) == 3


async def test_the_callers_deadline_ends_a_throttle_wait_at_once(
    fake: FakeThredfi, business: str
) -> None:
    throttle = RecordingThrottle()
    async with fake.client(throttle=throttle) as thredfi:
        await thredfi.business(business).customers.list()
        throttle.hold = anyio.Event()  # never set
        sent = fake.requests.count()
        started = anyio.current_time()
        with pytest.raises(TimeoutError):
            with anyio.fail_after(0.1):
                await thredfi.business(business).customers.list()
        assert anyio.current_time() - started < 2
    assert throttle.cancelled == 1
    assert fake.requests.count() == sent  # nothing was sent for the cancelled call


async def test_a_hook_and_the_debug_log_see_the_throttle_wait(
    fake: FakeThredfi, business: str, caplog: pytest.LogCaptureFixture
) -> None:
    seen: list[AttemptInfo] = []

    class Seen(Hook):
        def after_attempt(self, attempt: AttemptInfo) -> None:
            seen.append(attempt)

    throttle = RecordingThrottle(delay=0.05)
    caplog.set_level(logging.DEBUG, logger="thredfi_async")
    async with fake.client(throttle=throttle, hooks=[Seen()]) as thredfi:
        await thredfi.business(business).customers.list()
    assert [a.call.operation_id for a in seen] == [
        "get_partner_token",
        "get_business_token",
        "list_customers",
    ]
    assert all(0.04 < a.throttle_wait < 2 for a in seen)
    held = [r.getMessage() for r in caplog.records if "held" in r.getMessage()]
    assert len(held) == 3
    assert all(fake.api_key not in line and "Bearer" not in line for line in held)


async def test_business_views_share_the_clients_throttle(fake: FakeThredfi, business: str) -> None:
    throttle = LocalThrottle(Rate(1000, burst=10))
    async with fake.client(throttle=throttle) as thredfi:
        assert thredfi.throttle is throttle
        await thredfi.business(business).customers.list()
        await thredfi.business(business).invoices.list()
    assert throttle.stats.acquired == 4  # two tokens, two calls


def test_something_that_is_not_a_throttle_is_refused(fake: FakeThredfi) -> None:
    with pytest.raises(InvalidRequestError, match="throttle must implement"):
        fake.client(throttle=Rate(10))


async def test_an_unnamed_redis_throttle_is_named_after_the_clients_partner_and_url(
    fake: FakeThredfi,
) -> None:
    throttle = RedisThrottle("redis://127.0.0.1:1/0", partner=Rate(10))
    with pytest.raises(InvalidRequestError, match="needs name="):
        await throttle.acquire(None)  # before any client named it
    first = fake.client(throttle=throttle)
    assert throttle.name == f"{fake.partner_uuid}@{fake.base_url}"
    again = fake.client(throttle=throttle)  # the same partner and URL: the same budget
    other = fake.add_partner()
    with pytest.raises(InvalidRequestError, match="another partner"):
        AsyncThredfi(other.partner_uuid, other.api_key, base_url=fake.base_url, throttle=throttle)
    named = RedisThrottle("redis://127.0.0.1:1/0", name="all-of-us", partner=Rate(10))
    fake.client(throttle=named)
    AsyncThredfi(other.partner_uuid, other.api_key, base_url=fake.base_url, throttle=named)
    assert named.name == "all-of-us"  # an explicit name is the user's: never replaced
    for client in (first, again):
        await client.aclose()
    await throttle.aclose()
    await named.aclose()
