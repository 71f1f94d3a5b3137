"""Every injected fault is either recovered by the SDK's retries or raised as its typed error.

The client's clock records every retry wait (and never blocks), so the waits themselves are
asserted: the backoff schedule, and Retry-After honoured (never sooner, at most 10 % later).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from email.utils import format_datetime

import pytest

from thredfi_async import (
    APIConnectionError,
    APITimeoutError,
    AsyncThredfi,
    InternalServerError,
    RateLimitError,
    RetryPolicy,
    models,
)
from thredfi_async.testing import FakeThredfi, RecordingClock

from .conftest import EVERY_WAY, NOW, Receivable, payment_body, payment_of, receivable

pytestmark = [pytest.mark.asyncio, pytest.mark.ways(*EVERY_WAY)]


def statuses(fake: FakeThredfi, operation_id: str) -> list[int | None]:
    """The status of each attempt the fake saw (None: the connection was lost)."""
    return [r.status for r in fake.requests.for_operation(operation_id)]


async def warmed_up(thredfi: AsyncThredfi) -> Receivable:
    """A business whose token the client already holds, so faults meet only the calls tested."""
    return await receivable(thredfi)


# -- 5xx ---------------------------------------------------------------------------------------


async def test_5xx_within_max_retries_is_recovered_with_backoff(
    fake: FakeThredfi, thredfi: AsyncThredfi, clock: RecordingClock
) -> None:
    shop = await warmed_up(thredfi)
    fake.faults.fail(503, times=2, operation_id="list_customers")

    page = await shop.books.customers.list()

    assert [str(c.id) for c in page.results] == [shop.customer_id]
    assert statuses(fake, "list_customers") == [503, 503, 200]
    # Default policy: 0.5 s doubling, minus up to 25 % jitter.
    assert len(clock.sleeps) == 2
    assert 0.375 <= clock.sleeps[0] <= 0.5
    assert 0.75 <= clock.sleeps[1] <= 1.0


async def test_5xx_outlasting_max_retries_is_internal_server_error(
    fake: FakeThredfi, thredfi: AsyncThredfi, clock: RecordingClock
) -> None:
    shop = await warmed_up(thredfi)
    fake.faults.fail(500, times=3, operation_id="get_invoice")

    with pytest.raises(InternalServerError) as failed:
        await shop.books.invoices.get(shop.invoice_id)

    error = failed.value
    assert (error.status_code, error.error_code) == (500, "internal_error")
    assert statuses(fake, "get_invoice") == [500, 500, 500]
    assert error.request_id == fake.requests.for_operation("get_invoice")[-1].request_id
    assert len(clock.sleeps) == 2
    # The rule is spent: the same call with more retries allowed would have got through.
    invoice = await shop.books.invoices.get(shop.invoice_id)
    assert str(invoice.id) == shop.invoice_id


async def test_per_call_max_retries_outlasts_a_longer_outage(
    fake: FakeThredfi, thredfi: AsyncThredfi, clock: RecordingClock
) -> None:
    shop = await warmed_up(thredfi)
    fake.faults.fail(502, times=4, operation_id="get_invoice")

    invoice = await shop.books.invoices.get(shop.invoice_id, max_retries=4)

    assert str(invoice.id) == shop.invoice_id
    assert statuses(fake, "get_invoice") == [502, 502, 502, 502, 200]
    assert len(clock.sleeps) == 4


async def test_5xx_on_a_create_the_api_deduplicates_is_retried_and_creates_once(
    fake: FakeThredfi, thredfi: AsyncThredfi
) -> None:
    """create_vendor is deduplicated on external_id, so a lost response is safe to replay."""
    shop = await warmed_up(thredfi)
    fake.faults.fail(503, after_processing=True, operation_id="create_vendor")

    vendor = await shop.books.vendors.create(
        body={"company_name": "Initech", "external_id": "vendor-initech"}
    )

    assert statuses(fake, "create_vendor")[-2:] == [503, 200]
    vendors = await shop.books.vendors.list().collect()
    assert [str(v.company_name) for v in vendors] == ["Initech"]
    assert str(vendor.id) == str(vendors[0].id)


async def test_5xx_on_a_create_the_api_does_not_deduplicate_is_raised_not_replayed(
    fake: FakeThredfi, thredfi: AsyncThredfi, clock: RecordingClock
) -> None:
    """create_customer carries an Idempotency-Key, but the API does not say it honours one
    there: replaying a lost response would create a second customer, so the SDK raises."""
    shop = await warmed_up(thredfi)
    fake.faults.fail(503, after_processing=True, operation_id="create_customer")

    with pytest.raises(InternalServerError):
        await shop.books.customers.create(body={"company_name": "Initech"})

    assert statuses(fake, "create_customer")[-1:] == [503]
    assert clock.sleeps == []
    customers = await shop.books.customers.list().collect()
    assert sorted(str(c.company_name) for c in customers) == ["Globex", "Initech"]


# -- 429 ---------------------------------------------------------------------------------------


def spread_of(asked: float) -> tuple[float, float]:
    """The default policy's wait for a Retry-After: what was asked plus up to a tenth."""
    return asked, asked * 1.1


async def test_429_waits_retry_after_then_succeeds(
    fake: FakeThredfi, thredfi: AsyncThredfi, clock: RecordingClock
) -> None:
    shop = await warmed_up(thredfi)
    fake.faults.rate_limit(retry_after=7, operation_id="list_invoices")

    page = await shop.books.invoices.list()

    assert [str(i.id) for i in page.results] == [shop.invoice_id]
    assert statuses(fake, "list_invoices") == [429, 200]
    (wait,) = clock.sleeps
    low, high = spread_of(7.0)
    assert low <= wait <= high


async def test_429_with_an_http_date_waits_until_that_date(
    fake: FakeThredfi, thredfi: AsyncThredfi, clock: RecordingClock
) -> None:
    shop = await warmed_up(thredfi)
    clock.now = NOW.timestamp()
    retry_at = format_datetime(NOW.replace(second=30), usegmt=True)  # 30 s after the clock
    fake.faults.rate_limit(retry_after=retry_at, operation_id="get_customer")

    customer = await shop.books.customers.get(shop.customer_id)

    assert str(customer.id) == shop.customer_id
    (wait,) = clock.sleeps
    low, high = spread_of(30.0)
    assert low <= wait <= high


async def test_429_on_a_payment_is_retried_and_pays_once(
    fake: FakeThredfi, thredfi: AsyncThredfi, clock: RecordingClock
) -> None:
    shop = await warmed_up(thredfi)
    fake.faults.rate_limit(retry_after=2, operation_id="create_invoice_payment")

    created = await shop.books.payments.create(
        body=payment_body(shop.customer_id, shop.invoice_id, 1_000)
    )

    assert payment_of(created).total_amount_cents == 1_000
    assert statuses(fake, "create_invoice_payment") == [429, 201]
    (wait,) = clock.sleeps
    low, high = spread_of(2.0)
    assert low <= wait <= high
    invoice = await shop.books.invoices.get(shop.invoice_id)
    assert invoice.outstanding_amount_cents == 9_000


async def test_429_outlasting_max_retries_is_rate_limit_error(
    fake: FakeThredfi, thredfi: AsyncThredfi, clock: RecordingClock
) -> None:
    shop = await warmed_up(thredfi)
    fake.faults.rate_limit(retry_after=1, times=None, operation_id="list_customers")

    with pytest.raises(RateLimitError) as limited:
        await shop.books.customers.list()

    assert (limited.value.status_code, limited.value.error_code) == (429, "rate_limited")
    assert limited.value.retry_after == 1.0
    assert statuses(fake, "list_customers") == [429, 429, 429]
    assert len(clock.sleeps) == 2
    low, high = spread_of(1.0)
    assert all(low <= wait <= high for wait in clock.sleeps), clock.sleeps


@pytest.mark.parametrize(
    ("policy", "retry_after"),
    [(None, 61), (RetryPolicy(max_retry_after=5), 6)],
    ids=["default-ceiling-60s", "policy-ceiling-5s"],
)
async def test_retry_after_above_the_ceiling_is_raised_at_once(
    fake: FakeThredfi,
    connect: Callable[..., AsyncThredfi],
    clock: RecordingClock,
    policy: RetryPolicy | None,
    retry_after: int,
) -> None:
    async with connect(clock=clock, retry_policy=policy) as thredfi:
        shop = await warmed_up(thredfi)
        fake.faults.rate_limit(retry_after=retry_after, operation_id="list_customers")

        with pytest.raises(RateLimitError) as limited:
            await shop.books.customers.list()

    assert limited.value.retry_after == float(retry_after)
    assert statuses(fake, "list_customers") == [429]
    assert clock.sleeps == []


# -- latency -----------------------------------------------------------------------------------


async def test_latency_beyond_the_timeout_is_api_timeout_error(
    fake: FakeThredfi, thredfi: AsyncThredfi, clock: RecordingClock
) -> None:
    shop = await warmed_up(thredfi)
    fake.faults.latency(0.5, times=None, operation_id="get_invoice")

    started = time.perf_counter()
    with pytest.raises(APITimeoutError):
        await shop.books.invoices.get(shop.invoice_id, timeout=0.05)
    elapsed = time.perf_counter() - started

    # Every attempt was cut off at 0.05 s: three of them, never the 0.5 s the server took.
    assert statuses(fake, "get_invoice") == [None, None, None]
    assert len(clock.sleeps) == 2
    assert elapsed < 0.45


async def test_latency_within_the_timeout_succeeds(
    fake: FakeThredfi, thredfi: AsyncThredfi, clock: RecordingClock
) -> None:
    shop = await warmed_up(thredfi)
    fake.faults.latency(0.05, times=1, operation_id="get_invoice")

    started = time.perf_counter()
    invoice = await shop.books.invoices.get(shop.invoice_id, timeout=5)
    elapsed = time.perf_counter() - started

    assert str(invoice.id) == shop.invoice_id
    assert elapsed >= 0.045  # the server's 0.05 s (timer granularity aside)
    assert statuses(fake, "get_invoice") == [200]
    assert clock.sleeps == []


async def test_client_timeout_applies_to_every_call(
    fake: FakeThredfi, connect: Callable[..., AsyncThredfi], clock: RecordingClock
) -> None:
    async with connect(clock=clock, timeout=0.05, max_retries=0) as thredfi:
        shop = await warmed_up(thredfi)
        fake.faults.latency(0.5, times=1, operation_id="list_invoices")
        with pytest.raises(APITimeoutError):
            await shop.books.invoices.list()
    assert statuses(fake, "list_invoices") == [None]


# -- dropped connections ----------------------------------------------------------------------


async def test_dropped_connection_on_a_get_is_recovered(
    fake: FakeThredfi, thredfi: AsyncThredfi, clock: RecordingClock
) -> None:
    shop = await warmed_up(thredfi)
    fake.faults.drop_connection(operation_id="get_customer")

    customer = await shop.books.customers.get(shop.customer_id)

    assert str(customer.id) == shop.customer_id
    assert statuses(fake, "get_customer") == [None, 200]
    assert len(clock.sleeps) == 1


async def test_dropped_connection_without_retries_is_api_connection_error(
    fake: FakeThredfi, thredfi: AsyncThredfi, clock: RecordingClock
) -> None:
    shop = await warmed_up(thredfi)
    fake.faults.drop_connection(operation_id="get_customer")

    with pytest.raises(APIConnectionError) as dropped:
        await shop.books.customers.get(shop.customer_id, max_retries=0)

    assert not isinstance(dropped.value, APITimeoutError)
    assert dropped.value.request.url.path.endswith(f"/customers/{shop.customer_id}/")
    assert statuses(fake, "get_customer") == [None]
    assert clock.sleeps == []


async def test_connection_dropped_after_a_payment_was_made_replays_it(
    fake: FakeThredfi, thredfi: AsyncThredfi
) -> None:
    shop = await warmed_up(thredfi)
    fake.faults.drop_connection(after_processing=True, operation_id="create_invoice_payment")

    created = await shop.books.payments.create(
        body=payment_body(shop.customer_id, shop.invoice_id, 6_000)
    )

    attempts = fake.requests.for_operation("create_invoice_payment")
    assert [(a.status, a.replayed) for a in attempts] == [(None, False), (200, True)]
    assert attempts[0].idempotency_key == attempts[1].idempotency_key
    assert [str(p.id) for p in await shop.books.payments.list().collect()] == [
        str(payment_of(created).id)
    ]
    invoice = await shop.books.invoices.get(shop.invoice_id)
    assert invoice.outstanding_amount_cents == 4_000


# -- expired tokens ----------------------------------------------------------------------------


async def test_expired_partner_token_is_refetched_once_and_the_call_replayed(
    fake: FakeThredfi, thredfi: AsyncThredfi, clock: RecordingClock
) -> None:
    shop = await warmed_up(thredfi)
    tokens_before = len(fake.requests.token_requests)
    fake.faults.expire_tokens()

    business = await thredfi.businesses.get(business_id=shop.business_id)

    assert isinstance(business, models.Business)
    assert str(business.id) == shop.business_id
    attempts = fake.requests.for_operation("get_business")
    assert [(a.status, a.error_code) for a in attempts] == [(401, "invalid_token"), (200, None)]
    new_tokens = fake.requests.token_requests[tokens_before:]
    assert [(t.operation_id, t.status) for t in new_tokens] == [("get_partner_token", 200)]
    assert clock.sleeps == []  # a 401 is answered by the token refresh, not by a retry


async def test_expired_business_token_is_refetched_once_and_the_call_replayed(
    fake: FakeThredfi, thredfi: AsyncThredfi, clock: RecordingClock
) -> None:
    shop = await warmed_up(thredfi)
    tokens_before = len(fake.requests.token_requests)
    fake.faults.expire_tokens()

    invoice = await shop.books.invoices.get(shop.invoice_id)

    assert str(invoice.id) == shop.invoice_id
    attempts = fake.requests.for_operation("get_invoice")
    assert [(a.status, a.error_code) for a in attempts] == [(401, "invalid_token"), (200, None)]
    # The partner token had expired too, so the business exchange itself met a 401 first.
    new_tokens = fake.requests.token_requests[tokens_before:]
    assert [(t.operation_id, t.status) for t in new_tokens] == [
        ("get_business_token", 401),
        ("get_partner_token", 200),
        ("get_business_token", 200),
    ]
    assert clock.sleeps == []

    # And the new tokens are cached: the next calls fetch none.
    await shop.books.customers.get(shop.customer_id)
    await thredfi.businesses.get(business_id=shop.business_id)
    assert len(fake.requests.token_requests) == tokens_before + 3


async def test_expired_business_token_alone_costs_one_token_request(
    fake: FakeThredfi, thredfi: AsyncThredfi, clock: RecordingClock
) -> None:
    """With the partner token still valid, the refresh is exactly one business exchange."""
    shop = await warmed_up(thredfi)
    fake.faults.expire_tokens()
    await thredfi.businesses.list()  # refreshes the partner token only
    tokens_before = len(fake.requests.token_requests)

    invoice = await shop.books.invoices.get(shop.invoice_id)

    assert str(invoice.id) == shop.invoice_id
    assert statuses(fake, "get_invoice") == [401, 200]
    new_tokens = fake.requests.token_requests[tokens_before:]
    assert [(t.operation_id, t.status) for t in new_tokens] == [("get_business_token", 200)]
