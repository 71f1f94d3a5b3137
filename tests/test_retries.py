"""Retries, idempotency keys, timeouts and logging, on pytest-httpx.

Sleeps go through RecordingClock, which records each pause and advances without waiting; only the
bounded-time tests use real (0.05 s) timeouts, because the per-attempt limit is wall-clock.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Iterator
from email.utils import formatdate
from typing import Any

import anyio
import httpx
import pytest
from pytest_httpx import HTTPXMock

import thredfi_async as t
from thredfi_async import AsyncThredfi, RetryPolicy
from thredfi_async.testing import RecordingClock

from .conftest import API_KEY, BASE_URL, PARTNER_UUID, TokenEndpoints

BUSINESS = "b7a4f2d0-0c38-4f0e-9e58-3f5d6f1f2a11"
SCOPED = f"{BASE_URL}/v1/platform/businesses/{BUSINESS}"
CUSTOMERS = f"{SCOPED}/customers/"
CUSTOMER = f"{SCOPED}/customers/cus-1/"
TOKEN_URL = re.compile(r".*/oauth2/token/$")
CUSTOMER_JSON = {"id": "cus-1", "company_name": "Globex"}
# Invoice payments honour the Idempotency-Key (docs/api-behaviour.md, "Idempotency and
# deduplication"): the create that may be replayed.
PAYMENTS = f"{SCOPED}/invoices/payments/"
PAYMENT_BODY = {"customer_id": "cus-1", "total_amount_cents": 4000}
PAYMENT_JSON = {"payment": {"id": "pay-1", "total_amount_cents": 4000}}
DEFAULT_TIMEOUT = {"connect": 10.0, "read": 30.0, "write": 30.0, "pool": 30.0}


@pytest.fixture
def clock() -> RecordingClock:
    return RecordingClock(1_700_000_000.0)


@pytest.fixture
def connect(
    httpx_mock: HTTPXMock, tokens: TokenEndpoints, clock: RecordingClock
) -> Callable[..., AsyncThredfi]:
    """Build a client on httpx's transport (patched by pytest-httpx), the fake clock and
    the default retry policy; the token exchanges are answered by `tokens`."""

    def build(**kwargs: Any) -> AsyncThredfi:
        httpx_mock.add_callback(tokens.handle, url=TOKEN_URL, is_reusable=True, is_optional=True)
        kwargs.setdefault("clock", clock)
        return AsyncThredfi(
            PARTNER_UUID, API_KEY, base_url=BASE_URL, http_client=httpx.AsyncClient(), **kwargs
        )

    return build


def sent(httpx_mock: HTTPXMock, url: str, method: str = "POST") -> list[httpx.Request]:
    return httpx_mock.get_requests(url=url, method=method)


def keys(requests: list[httpx.Request]) -> list[list[str]]:
    return [request.headers.get_list("idempotency-key") for request in requests]


# -- Done when: POST 503, 503, 201 ------------------------------------------------------------


@pytest.mark.asyncio
async def test_retried_post_reuses_one_idempotency_key_and_returns_one_object(
    httpx_mock: HTTPXMock, connect: Any, clock: RecordingClock
) -> None:
    httpx_mock.add_response(url=PAYMENTS, method="POST", status_code=503)
    httpx_mock.add_response(url=PAYMENTS, method="POST", status_code=503)
    httpx_mock.add_response(url=PAYMENTS, method="POST", status_code=201, json=PAYMENT_JSON)
    async with connect() as thredfi:
        created = await thredfi.business(BUSINESS).payments.create(body=PAYMENT_BODY)

    assert created.payment.id == "pay-1"
    requests = sent(httpx_mock, PAYMENTS)
    assert len(requests) == 3
    (key,) = keys(requests)[0]
    assert key
    assert keys(requests) == [[key]] * 3
    assert len(clock.sleeps) == 2


@pytest.mark.asyncio
async def test_each_logical_call_gets_its_own_key(httpx_mock: HTTPXMock, connect: Any) -> None:
    for _ in range(2):
        httpx_mock.add_response(url=CUSTOMERS, method="POST", status_code=201, json=CUSTOMER_JSON)
    async with connect() as thredfi:
        books = thredfi.business(BUSINESS)
        await books.customers.create(body={"company_name": "G"})
        await books.customers.create(body={"company_name": "G"})
    first, second = keys(sent(httpx_mock, CUSTOMERS))
    assert first != second


# -- Done when: Retry-After -------------------------------------------------------------------


NO_SPREAD = RetryPolicy(retry_after_jitter=0)


@pytest.mark.asyncio
async def test_retry_after_seconds_is_waited_exactly_on_the_clock(
    httpx_mock: HTTPXMock, connect: Any, clock: RecordingClock
) -> None:
    httpx_mock.add_response(
        url=CUSTOMER, method="GET", status_code=429, headers={"Retry-After": "2"}
    )
    httpx_mock.add_response(url=CUSTOMER, method="GET", json=CUSTOMER_JSON)
    async with connect(retry_policy=NO_SPREAD) as thredfi:
        customer = await thredfi.business(BUSINESS).customers.get("cus-1")
    assert customer.id == "cus-1"
    assert clock.sleeps == [2.0]
    assert len(sent(httpx_mock, CUSTOMER, "GET")) == 2


@pytest.mark.asyncio
async def test_retry_after_http_date_is_measured_on_the_client_clock(
    httpx_mock: HTTPXMock, connect: Any, clock: RecordingClock
) -> None:
    date = formatdate(clock.now + 7, usegmt=True)
    httpx_mock.add_response(
        url=CUSTOMER, method="GET", status_code=429, headers={"Retry-After": date}
    )
    httpx_mock.add_response(url=CUSTOMER, method="GET", json=CUSTOMER_JSON)
    async with connect(retry_policy=NO_SPREAD) as thredfi:
        await thredfi.business(BUSINESS).customers.get("cus-1")
    assert clock.sleeps == [7.0]


@pytest.mark.asyncio
async def test_by_default_a_retry_after_is_waited_plus_up_to_a_tenth_more(
    httpx_mock: HTTPXMock, connect: Any, clock: RecordingClock
) -> None:
    httpx_mock.add_response(
        url=CUSTOMER, method="GET", status_code=429, headers={"Retry-After": "2"}
    )
    httpx_mock.add_response(url=CUSTOMER, method="GET", json=CUSTOMER_JSON)
    async with connect(retry_policy=RetryPolicy(random=random.Random(5))) as thredfi:
        await thredfi.business(BUSINESS).customers.get("cus-1")
    (wait,) = clock.sleeps
    assert 2.0 < wait <= 2.2


def rate_limited(retry_after: str) -> t.RateLimitError:
    request = httpx.Request("GET", CUSTOMER)
    response = httpx.Response(429, headers={"Retry-After": retry_after}, request=request)
    error = t.APIStatusError.from_response(response, now=0.0)
    assert isinstance(error, t.RateLimitError)
    return error


def test_a_fleet_told_the_same_retry_after_spreads_out_but_never_comes_back_early() -> None:
    """200 clients throttled at once, each with its own random source, as in 200 processes."""
    error = rate_limited("10")
    waits = [
        RetryPolicy(random=random.Random(seed)).decide(error, 1, replay_safe=True, now=0.0)
        for seed in range(200)
    ]
    assert all(w is not None and 10.0 <= w <= 11.0 for w in waits), waits
    spread = [w for w in waits if w is not None]
    assert max(spread) - min(spread) > 0.8  # uniform over one second: not all in step
    assert len(set(spread)) > 190


@pytest.mark.parametrize(("asked", "longest"), [(59.0, 60.0), (60.0, 60.0), (0.0, 0.0)])
def test_the_retry_after_spread_never_goes_past_the_ceiling(asked: float, longest: float) -> None:
    policy = RetryPolicy(retry_after_jitter=1.0, max_retry_after=60.0)
    error = rate_limited(str(asked))
    waits = [policy.decide(error, 1, replay_safe=True, now=0.0) for _ in range(100)]
    assert all(w is not None and asked <= w <= longest for w in waits), waits


@pytest.mark.parametrize("bad", [-0.1, 1.5, float("nan")])
def test_a_bad_retry_after_jitter_is_refused(bad: float) -> None:
    with pytest.raises(ValueError, match="retry_after_jitter"):
        RetryPolicy(retry_after_jitter=bad)


@pytest.mark.asyncio
@pytest.mark.parametrize("retry_after", ["-5", "-0.5", "nan"])
async def test_a_negative_retry_after_is_treated_as_absent(
    httpx_mock: HTTPXMock, connect: Any, clock: RecordingClock, retry_after: str
) -> None:
    """Not a retry at once: the usual backoff, and no retry_after on the error."""
    for _ in range(2):
        httpx_mock.add_response(
            url=CUSTOMER, method="GET", status_code=429, headers={"Retry-After": retry_after}
        )
    policy = RetryPolicy(jitter=0)
    async with connect(retry_policy=policy, max_retries=1) as thredfi:
        with pytest.raises(t.RateLimitError) as caught:
            await thredfi.business(BUSINESS).customers.get("cus-1")
    assert clock.sleeps == [0.5]  # the first backoff, not 0
    assert caught.value.retry_after is None


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("ceiling", "retry_after", "expected"),
    [(60.0, "120", 120.0), (1.0, "2", 2.0), (60.0, "date+90", 90.0)],
)
async def test_retry_after_above_the_ceiling_raises_rate_limit_error_at_once(
    httpx_mock: HTTPXMock,
    connect: Any,
    clock: RecordingClock,
    ceiling: float,
    retry_after: str,
    expected: float,
) -> None:
    if retry_after.startswith("date+"):
        retry_after = formatdate(clock.now + float(retry_after[5:]), usegmt=True)
    httpx_mock.add_response(
        url=CUSTOMER, method="GET", status_code=429, headers={"Retry-After": retry_after}
    )
    async with connect(retry_policy=RetryPolicy(max_retry_after=ceiling)) as thredfi:
        with pytest.raises(t.RateLimitError) as caught:
            await thredfi.business(BUSINESS).customers.get("cus-1")
    assert caught.value.retry_after == expected
    assert clock.sleeps == []
    assert len(sent(httpx_mock, CUSTOMER, "GET")) == 1


@pytest.mark.asyncio
async def test_a_429_is_retried_even_without_an_idempotency_key(
    httpx_mock: HTTPXMock, connect: Any, clock: RecordingClock
) -> None:
    """429 means the API did not process the request, so replaying it cannot duplicate."""
    httpx_mock.add_response(url=CUSTOMERS, method="POST", status_code=429)
    httpx_mock.add_response(url=CUSTOMERS, method="POST", status_code=201, json=CUSTOMER_JSON)
    async with connect() as thredfi:
        await thredfi.business(BUSINESS).customers.create(
            body={"company_name": "G"}, idempotency_key=None
        )
    assert keys(sent(httpx_mock, CUSTOMERS)) == [[], []]
    assert len(clock.sleeps) == 1


# -- Done when: timeouts and connection errors, by replay safety ------------------------------


@pytest.mark.asyncio
async def test_a_read_timeout_on_get_is_retried(httpx_mock: HTTPXMock, connect: Any) -> None:
    httpx_mock.add_exception(httpx.ReadTimeout("slow"), url=CUSTOMER, method="GET")
    httpx_mock.add_response(url=CUSTOMER, method="GET", json=CUSTOMER_JSON)
    async with connect() as thredfi:
        customer = await thredfi.business(BUSINESS).customers.get("cus-1")
    assert customer.id == "cus-1"
    assert len(sent(httpx_mock, CUSTOMER, "GET")) == 2


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "exception",
    [httpx.ReadTimeout("slow"), httpx.ReadError("reset"), httpx.RemoteProtocolError("gone")],
)
async def test_a_post_without_key_that_may_have_arrived_is_not_retried(
    httpx_mock: HTTPXMock, connect: Any, clock: RecordingClock, exception: Exception
) -> None:
    httpx_mock.add_exception(exception, url=CUSTOMERS, method="POST")
    async with connect() as thredfi:
        with pytest.raises(t.APIConnectionError) as caught:
            await thredfi.business(BUSINESS).customers.create(
                body={"company_name": "G"}, idempotency_key=None
            )
    assert isinstance(caught.value.__cause__, type(exception))
    assert keys(sent(httpx_mock, CUSTOMERS)) == [[]]
    assert clock.sleeps == []


@pytest.mark.asyncio
@pytest.mark.parametrize("exception", [httpx.ConnectError("refused"), httpx.ConnectTimeout("syn")])
async def test_a_post_without_key_that_never_connected_is_retried(
    httpx_mock: HTTPXMock, connect: Any, exception: Exception
) -> None:
    httpx_mock.add_exception(exception, url=CUSTOMERS, method="POST")
    httpx_mock.add_response(url=CUSTOMERS, method="POST", status_code=201, json=CUSTOMER_JSON)
    async with connect() as thredfi:
        customer = await thredfi.business(BUSINESS).customers.create(
            body={"company_name": "G"}, idempotency_key=None
        )
    assert customer.id == "cus-1"
    assert keys(sent(httpx_mock, CUSTOMERS)) == [[], []]


@pytest.mark.asyncio
async def test_a_post_without_key_answered_500_is_not_retried(
    httpx_mock: HTTPXMock, connect: Any, clock: RecordingClock
) -> None:
    httpx_mock.add_response(url=CUSTOMERS, method="POST", status_code=500)
    async with connect() as thredfi:
        with pytest.raises(t.InternalServerError):
            await thredfi.business(BUSINESS).customers.create(
                body={"company_name": "G"}, idempotency_key=None
            )
    assert len(sent(httpx_mock, CUSTOMERS)) == 1
    assert clock.sleeps == []


# -- Done when: max_retries and timeout overrides ---------------------------------------------


@pytest.mark.asyncio
async def test_max_retries_zero_per_call_makes_exactly_one_attempt(
    httpx_mock: HTTPXMock, connect: Any, clock: RecordingClock
) -> None:
    httpx_mock.add_response(url=CUSTOMER, method="GET", status_code=503)
    async with connect() as thredfi:
        with pytest.raises(t.InternalServerError):
            await thredfi.business(BUSINESS).customers.get("cus-1", max_retries=0)
    assert len(sent(httpx_mock, CUSTOMER, "GET")) == 1
    assert clock.sleeps == []


@pytest.mark.asyncio
@pytest.mark.parametrize(("client_retries", "call_retries", "attempts"), [(4, None, 5), (0, 1, 2)])
async def test_max_retries_per_client_and_per_call(
    httpx_mock: HTTPXMock,
    connect: Any,
    client_retries: int,
    call_retries: int | None,
    attempts: int,
) -> None:
    for _ in range(attempts):
        httpx_mock.add_response(url=CUSTOMER, method="GET", status_code=503)
    options = {} if call_retries is None else {"max_retries": call_retries}
    async with connect(max_retries=client_retries) as thredfi:
        with pytest.raises(t.InternalServerError):
            await thredfi.business(BUSINESS).customers.get("cus-1", **options)
    assert len(sent(httpx_mock, CUSTOMER, "GET")) == attempts


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("client_timeout", "call_timeout", "seen"),
    [
        (t.DEFAULT_TIMEOUT, None, DEFAULT_TIMEOUT),
        (t.DEFAULT_TIMEOUT, 5, dict.fromkeys(DEFAULT_TIMEOUT, 5.0)),
        (7, httpx.Timeout(1, read=3), {"connect": 1.0, "read": 3.0, "write": 1.0, "pool": 1.0}),
        (7, None, dict.fromkeys(DEFAULT_TIMEOUT, 7.0)),
    ],
)
async def test_a_per_call_timeout_overrides_the_client_default(
    httpx_mock: HTTPXMock,
    connect: Any,
    client_timeout: Any,
    call_timeout: Any,
    seen: dict[str, float],
) -> None:
    httpx_mock.add_response(url=CUSTOMER, method="GET", json=CUSTOMER_JSON)
    options = {} if call_timeout is None else {"timeout": call_timeout}
    async with connect(timeout=client_timeout) as thredfi:
        await thredfi.business(BUSINESS).customers.get("cus-1", **options)
    (request,) = sent(httpx_mock, CUSTOMER, "GET")
    assert request.extensions["timeout"] == seen


# -- Done when: logs --------------------------------------------------------------------------


def answer_after(clock: RecordingClock, seconds: float, response: httpx.Response) -> Any:
    """A callback that makes the attempt take `seconds` on the fake clock."""

    def callback(request: httpx.Request) -> httpx.Response:
        clock.now += seconds
        return response

    return callback


def assert_no_secret(text: str, tokens: TokenEndpoints) -> None:
    assert tokens.issued, "the test should have minted tokens"
    for secret in (API_KEY, *tokens.issued.values()):
        assert secret not in text
    assert "Bearer" not in text
    assert "Basic" not in text


@pytest.mark.asyncio
async def test_debug_logs_show_every_attempt_and_no_secret(
    httpx_mock: HTTPXMock,
    connect: Any,
    clock: RecordingClock,
    tokens: TokenEndpoints,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="thredfi_async")
    failed = httpx.Response(503, json={"error": "down", "request_id": "req-1"})
    created = httpx.Response(201, json=PAYMENT_JSON, headers={"X-Request-ID": "req-2"})
    httpx_mock.add_callback(answer_after(clock, 0.25, failed), url=PAYMENTS, method="POST")
    httpx_mock.add_callback(answer_after(clock, 0.04, created), url=PAYMENTS, method="POST")
    async with connect(retry_policy=RetryPolicy(jitter=0)) as thredfi:
        await thredfi.business(BUSINESS).payments.create(body=PAYMENT_BODY)

    messages = [r.getMessage() for r in caplog.records if r.name.startswith("thredfi_async")]
    path = f"/v1/platform/businesses/{BUSINESS}/invoices/payments/"
    assert f"POST {path} -> 503 in 250 ms (attempt 1/3) request_id=req-1" in messages
    assert f"POST {path} -> 503; retry 1/2 in 0.50 s" in messages
    assert f"POST {path} -> 201 in 40 ms (attempt 2/3) request_id=req-2" in messages
    assert_no_secret("\n".join(messages), tokens)


@pytest.fixture
def fresh_logger() -> Iterator[logging.Logger]:
    """The package logger without handlers or level, restored afterwards."""
    logger = logging.getLogger("thredfi_async")
    handlers, level = logger.handlers[:], logger.level
    logger.handlers, logger.level = [], logging.NOTSET
    yield logger
    logger.handlers, logger.level = handlers, level


@pytest.mark.asyncio
async def test_thredfi_log_debug_writes_attempts_to_stderr(
    httpx_mock: HTTPXMock,
    connect: Any,
    tokens: TokenEndpoints,
    fresh_logger: logging.Logger,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("THREDFI_LOG", "debug")
    httpx_mock.add_response(url=CUSTOMER, method="GET", json=CUSTOMER_JSON)
    async with connect() as thredfi:
        await thredfi.business(BUSINESS).customers.get("cus-1")
    err = capsys.readouterr().err
    assert f"DEBUG GET /v1/platform/businesses/{BUSINESS}/customers/cus-1/ -> 200 in" in err
    assert "(attempt 1/3)" in err
    assert_no_secret(err, tokens)


# -- Backoff ----------------------------------------------------------------------------------


def test_backoff_doubles_from_the_base_up_to_the_cap_minus_jitter() -> None:
    policy = RetryPolicy(random=random.Random(42))
    same_draws = random.Random(42)
    for retry_number in range(1, 10):
        delay = min(0.5 * 2 ** (retry_number - 1), 8.0)
        pause = policy.backoff(retry_number)
        assert delay * 0.75 <= pause <= delay
        assert pause == pytest.approx(delay * (1 - 0.25 * same_draws.random()))


def test_backoff_without_jitter_is_exact_and_never_overflows() -> None:
    policy = RetryPolicy(jitter=0)
    assert [policy.backoff(n) for n in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
    assert policy.backoff(10_000) == 8.0


@pytest.mark.asyncio
async def test_the_client_sleeps_the_backoff_between_attempts(
    httpx_mock: HTTPXMock, connect: Any, clock: RecordingClock
) -> None:
    for _ in range(2):
        httpx_mock.add_response(url=CUSTOMER, method="GET", status_code=502)
    httpx_mock.add_response(url=CUSTOMER, method="GET", json=CUSTOMER_JSON)
    async with connect(retry_policy=RetryPolicy(random=random.Random(3))) as thredfi:
        await thredfi.business(BUSINESS).customers.get("cus-1")
    draws = random.Random(3)
    assert clock.sleeps == [
        pytest.approx(0.5 * (1 - 0.25 * draws.random())),
        pytest.approx(1.0 * (1 - 0.25 * draws.random())),
    ]


# -- Which statuses are retried ---------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
async def test_408_429_and_5xx_are_retried(
    httpx_mock: HTTPXMock, connect: Any, status: int
) -> None:
    httpx_mock.add_response(url=PAYMENTS, method="POST", status_code=status)
    httpx_mock.add_response(url=PAYMENTS, method="POST", status_code=201, json=PAYMENT_JSON)
    async with connect() as thredfi:
        await thredfi.business(BUSINESS).payments.create(body=PAYMENT_BODY)
    assert len(sent(httpx_mock, PAYMENTS)) == 2


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "error_code", "error_class"),
    [
        (400, "validation_error", t.BadRequestError),
        (403, "permission_denied", t.PermissionDeniedError),
        (404, "customer_not_found", t.NotFoundError),
        (409, "duplicate_external_id", t.ConflictError),
        (422, "unprocessable_entity", t.UnprocessableEntityError),
    ],
)
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_other_4xx_are_never_retried(
    httpx_mock: HTTPXMock,
    connect: Any,
    clock: RecordingClock,
    status: int,
    error_code: str,
    error_class: type[t.APIStatusError],
    method: str,
) -> None:
    url = CUSTOMER if method == "GET" else CUSTOMERS
    httpx_mock.add_response(
        url=url, method=method, status_code=status, json={"error_code": error_code, "error": "no"}
    )
    async with connect() as thredfi:
        customers = thredfi.business(BUSINESS).customers
        call = (
            customers.get("cus-1")
            if method == "GET"
            else customers.create(body={"external_id": "c-1"})
        )
        with pytest.raises(error_class) as caught:
            await call
    assert caught.value.error_code == error_code
    assert len(sent(httpx_mock, url, method)) == 1
    assert clock.sleeps == []


@pytest.mark.asyncio
async def test_exhausted_retries_raise_the_last_error(httpx_mock: HTTPXMock, connect: Any) -> None:
    for status, code in [(503, "unavailable"), (502, "bad_gateway"), (500, "ledger_locked")]:
        httpx_mock.add_response(
            url=PAYMENTS, method="POST", status_code=status, json={"error_code": code}
        )
    async with connect() as thredfi:
        with pytest.raises(t.InternalServerError) as caught:
            await thredfi.business(BUSINESS).payments.create(body=PAYMENT_BODY)
    assert (caught.value.status_code, caught.value.error_code) == (500, "ledger_locked")
    assert len(sent(httpx_mock, PAYMENTS)) == 3


# -- Idempotency keys -------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_callers_idempotency_key_is_sent_as_given_on_every_attempt(
    httpx_mock: HTTPXMock, connect: Any
) -> None:
    httpx_mock.add_response(url=PAYMENTS, method="POST", status_code=500)
    httpx_mock.add_response(url=PAYMENTS, method="POST", status_code=201, json=PAYMENT_JSON)
    async with connect() as thredfi:
        await thredfi.business(BUSINESS).payments.create(
            body=PAYMENT_BODY, idempotency_key="payment-20240115-001"
        )
    assert keys(sent(httpx_mock, PAYMENTS)) == [["payment-20240115-001"]] * 2


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("resource", "path"),
    [("bill_payments", "bills/payments/"), ("vendor_refund_payments", "vendor-refunds/payments/")],
)
@pytest.mark.parametrize(
    "options",
    [{}, {"idempotency_key": "pay-7"}, {"extra_headers": {"idempotency-key": "pay-7"}}],
)
async def test_operations_declaring_the_header_send_one_value_on_every_attempt(
    httpx_mock: HTTPXMock, connect: Any, resource: str, path: str, options: dict[str, Any]
) -> None:
    url = f"{SCOPED}/{path}"
    httpx_mock.add_response(url=url, method="POST", status_code=503)
    httpx_mock.add_response(url=url, method="POST", status_code=201, json={"id": "pay-1"})
    async with connect() as thredfi:
        create = getattr(thredfi.business(BUSINESS), resource).create
        await create(body={"amount_cents": 100}, **options)
    first, second = keys(sent(httpx_mock, url))
    assert len(first) == 1
    assert first == second
    if options:
        assert first == ["pay-7"]


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [200, 201])
async def test_a_create_keyed_by_external_id_answering_200_returns_the_object(
    httpx_mock: HTTPXMock, connect: Any, status: int
) -> None:
    url = f"{BASE_URL}/v1/platform/businesses/"
    body = {"id": BUSINESS, "external_id": "merchant-42", "legal_name": "Acme Ltd"}
    httpx_mock.add_response(url=url, method="POST", status_code=status, json=body)
    async with connect() as thredfi:
        business = await thredfi.businesses.create(
            body={"external_id": "merchant-42", "legal_name": "Acme Ltd"}
        )
    assert str(business.id) == BUSINESS
    assert business.external_id == "merchant-42"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("method", "url", "call"),
    [
        ("GET", CUSTOMER, lambda books: books.customers.get("cus-1")),
        (
            "PUT",
            f"{SCOPED}/invoices/inv-1/",
            lambda books: books.invoices.update("inv-1", body={"memo": "m"}),
        ),
        (
            "DELETE",
            f"{SCOPED}/vendor-credits/vc-1/",
            lambda books: books.vendor_credits.delete("vc-1"),
        ),
    ],
)
async def test_idempotent_methods_are_retried_on_5xx_without_a_key(
    httpx_mock: HTTPXMock, connect: Any, method: str, url: str, call: Any
) -> None:
    httpx_mock.add_response(url=url, method=method, status_code=500)
    success = {"status_code": 204} if method == "DELETE" else {"json": {"id": "x-1"}}
    httpx_mock.add_response(url=url, method=method, **success)
    async with connect() as thredfi:
        await call(thredfi.business(BUSINESS))
    assert keys(sent(httpx_mock, url, method)) == [[], []]


@pytest.mark.asyncio
async def test_patch_carries_an_idempotency_key_but_a_5xx_is_not_replayed(
    httpx_mock: HTTPXMock, connect: Any, clock: RecordingClock
) -> None:
    """A PATCH may move a status (pending -> completed); the API does not say it honours the
    key there, so a 502 that may have applied the change is raised, not replayed."""
    httpx_mock.add_response(url=CUSTOMER, method="PATCH", status_code=502)
    async with connect() as thredfi:
        with pytest.raises(t.InternalServerError):
            await thredfi.business(BUSINESS).customers.update("cus-1", body={"company_name": "G"})
    (only,) = keys(sent(httpx_mock, CUSTOMER, "PATCH"))
    assert len(only) == 1
    assert clock.sleeps == []


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [500, 502, 503, 504])
async def test_a_create_the_api_does_not_deduplicate_is_not_replayed_after_a_5xx(
    httpx_mock: HTTPXMock, connect: Any, clock: RecordingClock, status: int
) -> None:
    """create_customer carries a key, but the API documents no deduplication for it
    (docs/api-behaviour.md, "Idempotency and deduplication"): a 5xx may come after the customer
    was stored, and a replay would store a second."""
    httpx_mock.add_response(url=CUSTOMERS, method="POST", status_code=status)
    async with connect() as thredfi:
        with pytest.raises(t.InternalServerError):
            await thredfi.business(BUSINESS).customers.create(body={"company_name": "G"})
    assert len(sent(httpx_mock, CUSTOMERS)) == 1
    assert clock.sleeps == []


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [408, 429])
async def test_a_create_refused_unprocessed_is_retried_whatever_the_operation(
    httpx_mock: HTTPXMock, connect: Any, status: int
) -> None:
    httpx_mock.add_response(url=CUSTOMERS, method="POST", status_code=status)
    httpx_mock.add_response(url=CUSTOMERS, method="POST", status_code=201, json=CUSTOMER_JSON)
    async with connect() as thredfi:
        customer = await thredfi.business(BUSINESS).customers.create(body={"company_name": "G"})
    assert customer.id == "cus-1"
    assert len(sent(httpx_mock, CUSTOMERS)) == 2


@pytest.mark.asyncio
@pytest.mark.parametrize(("external_id", "attempts"), [("inv-7", 2), (None, 1)])
async def test_a_create_deduplicated_on_external_id_is_replayed_only_when_it_carries_one(
    httpx_mock: HTTPXMock, connect: Any, external_id: str | None, attempts: int
) -> None:
    url = f"{SCOPED}/invoices/"
    httpx_mock.add_response(url=url, method="POST", status_code=503)
    if attempts == 2:
        httpx_mock.add_response(url=url, method="POST", status_code=200, json={"id": "inv-1"})
    body: dict[str, Any] = {"customer_id": "cus-1"}
    if external_id:
        body["external_id"] = external_id
    async with connect() as thredfi:
        invoices = thredfi.business(BUSINESS).invoices
        if attempts == 2:
            invoice = await invoices.create(body=body)
            assert invoice.id == "inv-1"
        else:
            with pytest.raises(t.InternalServerError):
                await invoices.create(body=body)
    assert len(sent(httpx_mock, url)) == attempts


# -- Bounded time -----------------------------------------------------------------------------


async def never_answer(request: httpx.Request) -> httpx.Response:
    await anyio.sleep_forever()
    raise AssertionError("unreachable")


@pytest.mark.asyncio
async def test_a_server_that_never_answers_times_out_on_every_attempt(
    httpx_mock: HTTPXMock, connect: Any, clock: RecordingClock
) -> None:
    httpx_mock.add_callback(never_answer, url=CUSTOMER, method="GET", is_reusable=True)
    started = time.monotonic()
    async with connect() as thredfi:
        with anyio.fail_after(5), pytest.raises(t.APITimeoutError):  # fail, not hang, if unbounded
            await thredfi.business(BUSINESS).customers.get("cus-1", timeout=0.05)
    assert time.monotonic() - started < 2
    assert len(sent(httpx_mock, CUSTOMER, "GET")) == 3
    assert len(clock.sleeps) == 2


@pytest.mark.asyncio
async def test_a_keyless_post_that_never_answers_is_not_replayed(
    httpx_mock: HTTPXMock, connect: Any
) -> None:
    httpx_mock.add_callback(never_answer, url=CUSTOMERS, method="POST")
    async with connect() as thredfi:
        with anyio.fail_after(5), pytest.raises(t.APITimeoutError):
            await thredfi.business(BUSINESS).customers.create(
                body={"company_name": "G"}, idempotency_key=None, timeout=0.05
            )
    assert len(sent(httpx_mock, CUSTOMERS)) == 1


@pytest.mark.asyncio
async def test_a_failing_token_exchange_is_not_retried_again_by_the_call(
    httpx_mock: HTTPXMock, connect: Any
) -> None:
    """The token exchange retries on its own; the call waiting for the token must not multiply
    that (3 x 3 x 3 partner-token attempts through the two nested token scopes)."""
    partner_token = f"{BASE_URL}/v1/platform/oauth2/token/"
    for _ in range(3):
        httpx_mock.add_exception(httpx.ConnectError("refused"), url=partner_token)
    async with connect() as thredfi:
        with pytest.raises(t.APIConnectionError):
            await thredfi.business(BUSINESS).customers.get("cus-1")
    assert len(sent(httpx_mock, partner_token)) == 3
    assert sent(httpx_mock, CUSTOMER, "GET") == []
