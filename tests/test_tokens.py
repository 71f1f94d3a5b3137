"""Tokens: the user never handles one, and the client never fetches one twice at once.

Every async test runs under asyncio and trio. Requests go through CountingTransport, which
yields to the scheduler on each request so concurrent calls really interleave, and counts the
token exchanges. Time is a RecordingClock: nothing here sleeps.
"""

from __future__ import annotations

import base64
import inspect
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any
from urllib.parse import parse_qs

import anyio
import anyio.lowlevel
import httpx
import pytest

import thredfi_async as t
from thredfi_async import AsyncThredfi, InMemoryTokenStore, RetryPolicy, Token, TokenStore
from thredfi_async._auth import TokenAuth
from thredfi_async._generated.api.businesses import get_business, list_businesses
from thredfi_async._generated.api.customers import get_customer
from thredfi_async._generated.api.oauth import get_business_token
from thredfi_async._logging import RedactingFilter, setup_logging
from thredfi_async._logging import logger as sdk_logger
from thredfi_async._tokens import TokenManager
from thredfi_async.testing import RecordingClock

from .conftest import API_KEY, BASE_URL, PARTNER_UUID, TokenEndpoints, fake_jwt

pytestmark = pytest.mark.anyio

PARTNER_TOKEN_PATH = "/v1/platform/oauth2/token/"
BUSINESS = "6f1c2d3e-4b5a-4c7d-8e9f-0a1b2c3d4e5f"
OTHER_BUSINESS = "7a2b3c4d-5e6f-4a8b-9c0d-1e2f3a4b5c6d"
T0 = 1_750_000_000.0


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


Reply = httpx.Response | None
Handler = Callable[[httpx.Request], Reply | Awaitable[Reply]]


def is_token_request(request: httpx.Request) -> bool:
    return request.url.path.endswith("/oauth2/token/")


def business_of(request: httpx.Request) -> str:
    """The business a data request or a business-token request is for."""
    parts = request.url.path.strip("/").split("/")
    return parts[2] if parts[2] != "businesses" else parts[3]


class CountingTransport(httpx.AsyncBaseTransport):
    """`handler` answers first (None: fall through); then the token endpoints; else 200.

    Every request yields to the scheduler before it is answered, so tasks interleave as they
    would on a network, and the transport records how many requests were in flight at once.
    """

    def __init__(self, handler: Handler | None = None) -> None:
        self.handler = handler
        self.tokens = TokenEndpoints()
        self.requests: list[httpx.Request] = []
        self.in_flight = 0
        self.max_in_flight = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        # A snapshot: the auth flow replays a 401 by re-sending the same, mutated, object.
        request = httpx.Request(
            request.method, request.url, headers=request.headers, content=request.content
        )
        self.requests.append(request)
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            await anyio.lowlevel.checkpoint()
            response = self.handler(request) if self.handler else None
            if inspect.isawaitable(response):
                response = await response
            return (
                response
                or self.tokens.handle(request)
                or httpx.Response(200, json={"id": request.url.path.rstrip("/").split("/")[-1]})
            )
        finally:
            self.in_flight -= 1

    @property
    def data_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if not is_token_request(r)]

    @property
    def partner_token_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == PARTNER_TOKEN_PATH]

    @property
    def business_token_requests(self) -> list[httpx.Request]:
        return [
            r for r in self.requests if is_token_request(r) and r.url.path != PARTNER_TOKEN_PATH
        ]

    def every_issued_token(self) -> list[str]:
        return [
            fake_jwt(subject, serial)
            for subject, count in self.tokens.calls.items()
            for serial in range(1, count + 1)
        ]


class Once:
    """True on the first call only: marks the first request of a kind (a replay is the same
    httpx.Request object, so identity cannot tell the two apart)."""

    def __init__(self) -> None:
        self.used = False

    def __call__(self) -> bool:
        first, self.used = not self.used, True
        return first


def make_thredfi(transport: httpx.AsyncBaseTransport, **kwargs: Any) -> AsyncThredfi:
    kwargs.setdefault("retry_policy", RetryPolicy(initial_delay=0, max_delay=0))
    kwargs.setdefault("clock", RecordingClock(T0))
    return AsyncThredfi(
        kwargs.pop("partner_uuid", PARTNER_UUID),
        kwargs.pop("api_key", API_KEY),
        base_url=BASE_URL,
        http_client=httpx.AsyncClient(transport=transport),
        **kwargs,
    )


def bearer(token: str) -> str:
    return f"Bearer {token}"


def basic_credentials(request: httpx.Request) -> str:
    scheme, _, value = request.headers["authorization"].partition(" ")
    assert scheme == "Basic"
    return base64.b64decode(value).decode()


def error(status: int, error_code: str, message: str = "nope") -> httpx.Response:
    return httpx.Response(status, json={"error_code": error_code, "error": message})


async def get_customer_of(thredfi: AsyncThredfi, business_id: str, n: int = 1) -> t.models.Customer:
    return await thredfi.business(business_id).customers.get(f"cus-{n}")


# -- concurrency: single flight ----------------------------------------------------------------


async def test_200_concurrent_calls_over_20_businesses_fetch_each_token_exactly_once(
    anyio_backend: str,
) -> None:
    transport = CountingTransport()
    businesses = [f"biz-{n:02d}" for n in range(20)]
    answered: list[tuple[str, str]] = []

    async with make_thredfi(transport) as thredfi:

        async def call(n: int) -> None:
            business_id = businesses[n % 20]
            customer = await get_customer_of(thredfi, business_id, n)
            answered.append((business_id, str(customer.id)))

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                for n in range(200):
                    tg.start_soon(call, n)

        assert thredfi._tokens._flights == {}

    assert len(answered) == 200
    assert transport.tokens.calls["partner"] == 1
    assert transport.tokens.business_fetches == 20
    assert {b: transport.tokens.calls[b] for b in businesses} == dict.fromkeys(businesses, 1)
    assert transport.max_in_flight >= 20  # the calls really overlapped
    partner = bearer(transport.tokens.issued["partner"])
    for request in transport.business_token_requests:
        assert request.headers["authorization"] == partner
    data = transport.data_requests
    assert len(data) == 200
    for request in data:
        business_id = business_of(request)
        assert request.headers["authorization"] == bearer(fake_jwt(business_id, 1))


async def test_a_token_that_expires_mid_run_is_refreshed_once_for_all_waiters(
    anyio_backend: str,
) -> None:
    clock = RecordingClock(T0)
    expired = False

    def expire_after_the_first_wave(request: httpx.Request) -> Reply:
        nonlocal expired
        if not expired and len(transport.data_requests) >= 30:
            expired = True
            clock.advance(3600)  # every token the client holds is now expired
        return None

    transport = CountingTransport(expire_after_the_first_wave)
    async with make_thredfi(transport, clock=clock) as thredfi:

        async def three_calls(n: int) -> None:
            for i in range(3):
                await get_customer_of(thredfi, BUSINESS, n * 10 + i)

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                for n in range(30):
                    tg.start_soon(three_calls, n)

    assert len(transport.data_requests) == 90
    assert transport.tokens.calls[BUSINESS] == 2  # one refresh, shared by every waiting call
    assert transport.tokens.calls["partner"] == 2  # the partner token had expired too
    used = Counter(r.headers["authorization"] for r in transport.data_requests)
    assert set(used) == {bearer(fake_jwt(BUSINESS, 1)), bearer(fake_jwt(BUSINESS, 2))}
    assert transport.data_requests[-1].headers["authorization"] == bearer(fake_jwt(BUSINESS, 2))


@pytest.mark.parametrize(
    ("leeway", "refreshed_after"),
    [(None, 3300), (600, 3000), (0, 3600), (3000, 1800)],
    ids=["default-300s", "600s", "0s", "capped-at-half-the-lifetime"],
)
async def test_tokens_are_refreshed_proactively_by_the_leeway(
    anyio_backend: str, leeway: float | None, refreshed_after: float
) -> None:
    clock = RecordingClock(T0)
    transport = CountingTransport()
    options: dict[str, Any] = {} if leeway is None else {"token_refresh_leeway": leeway}
    async with make_thredfi(transport, clock=clock, **options) as thredfi:
        await get_customer_of(thredfi, BUSINESS)
        clock.advance(refreshed_after - 1)
        await get_customer_of(thredfi, BUSINESS)
        assert transport.tokens.calls[BUSINESS] == 1
        clock.advance(1)
        await get_customer_of(thredfi, BUSINESS)
        assert transport.tokens.calls[BUSINESS] == 2
    assert transport.data_requests[-1].headers["authorization"] == bearer(fake_jwt(BUSINESS, 2))


@pytest.mark.parametrize("leeway", [-1, float("nan"), "300", True])
def test_a_bad_refresh_leeway_is_refused(leeway: Any) -> None:
    with pytest.raises(t.InvalidRequestError, match="token_refresh_leeway"):
        AsyncThredfi(PARTNER_UUID, API_KEY, token_refresh_leeway=leeway)


# -- 401: invalidate the used token, fetch once, replay once ----------------------------------


async def test_a_401_on_a_data_call_refetches_once_and_replays_once(anyio_backend: str) -> None:
    first = Once()

    def first_data_call_401(request: httpx.Request) -> Reply:
        if not is_token_request(request) and first():
            return error(401, "invalid_token")
        return None

    transport = CountingTransport(first_data_call_401)
    async with make_thredfi(transport) as thredfi:
        customer = await get_customer_of(thredfi, BUSINESS)
        await get_customer_of(thredfi, BUSINESS)  # the refreshed token is cached

    assert customer.id == "cus-1"
    assert [r.headers["authorization"] for r in transport.data_requests] == [
        bearer(fake_jwt(BUSINESS, 1)),
        bearer(fake_jwt(BUSINESS, 2)),
        bearer(fake_jwt(BUSINESS, 2)),
    ]
    assert transport.tokens.calls[BUSINESS] == 2
    assert transport.tokens.calls["partner"] == 1  # only the rejected token was dropped


async def test_two_401s_in_a_row_raise_authentication_error_with_the_api_error_code(
    anyio_backend: str,
) -> None:
    def always_401(request: httpx.Request) -> Reply:
        return None if is_token_request(request) else error(401, "invalid_token", "expired")

    transport = CountingTransport(always_401)
    async with make_thredfi(transport) as thredfi:
        with pytest.raises(t.AuthenticationError) as caught:
            await thredfi.business(BUSINESS).customers.create(body={"individual_name": "Ada"})

    assert caught.value.status_code == 401
    assert caught.value.error_code == "invalid_token"
    assert len(transport.data_requests) == 2  # the call and its one replay, no retries
    assert transport.tokens.calls[BUSINESS] == 2
    keys = {r.headers["idempotency-key"] for r in transport.data_requests}
    assert len(keys) == 1  # the replay is the same logical call


async def test_a_401_keeps_a_token_another_task_refreshed_meanwhile(anyio_backend: str) -> None:
    clock = RecordingClock(T0)
    first_request_sent, release = anyio.Event(), anyio.Event()
    stale = bearer(fake_jwt(BUSINESS, 1))

    first = Once()

    async def slow_first_call(request: httpx.Request) -> Reply:
        if is_token_request(request):
            return None
        if first():
            first_request_sent.set()
            await release.wait()
        if request.headers["authorization"] == stale:
            return error(401, "invalid_token")
        return None

    transport = CountingTransport(slow_first_call)
    async with make_thredfi(transport, clock=clock) as thredfi:
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(get_customer_of, thredfi, BUSINESS, 1)
                await first_request_sent.wait()
                clock.advance(3600)  # task B finds the token expired and refreshes it
                await get_customer_of(thredfi, BUSINESS, 2)
                release.set()  # now task A's request comes back 401 with the old token

    assert transport.tokens.calls[BUSINESS] == 2  # not 3: the newer token was kept
    assert [r.headers["authorization"] for r in transport.data_requests] == [
        stale,
        bearer(fake_jwt(BUSINESS, 2)),
        bearer(fake_jwt(BUSINESS, 2)),
    ]


async def test_the_401_response_is_released_before_the_token_is_fetched_again(
    anyio_backend: str,
) -> None:
    """With a bounded pool, a 401 holding its connection while the refresh waits for one
    would deadlock once every connection is held by such a 401."""

    class TrackedStream(httpx.AsyncByteStream):
        closed = False

        async def __aiter__(self) -> AsyncIterator[bytes]:
            yield b'{"error_code": "invalid_token"}'

        async def aclose(self) -> None:
            self.closed = True

    stream = TrackedStream()

    closed_when_refetching: list[bool] = []
    first = Once()

    def handler(request: httpx.Request) -> Reply:
        if is_token_request(request):
            if request.url.path != PARTNER_TOKEN_PATH and transport.tokens.calls[BUSINESS] == 1:
                closed_when_refetching.append(stream.closed)
            return None
        if first():
            return httpx.Response(401, stream=stream)
        return None

    transport = CountingTransport(handler)
    async with make_thredfi(transport) as thredfi:
        await get_customer_of(thredfi, BUSINESS)
    assert closed_when_refetching == [True]


async def test_a_401_on_the_business_token_request_refreshes_the_partner_token(
    anyio_backend: str,
) -> None:
    first = Once()

    def first_business_token_401(request: httpx.Request) -> Reply:
        if request.url.path == f"/v1/platform/{BUSINESS}/oauth2/token/" and first():
            return error(401, "invalid_token")
        return None

    transport = CountingTransport(first_business_token_401)
    async with make_thredfi(transport) as thredfi:
        await get_customer_of(thredfi, BUSINESS)

    assert transport.tokens.calls["partner"] == 2
    assert [r.headers["authorization"] for r in transport.business_token_requests] == [
        bearer(fake_jwt("partner", 1)),
        bearer(fake_jwt("partner", 2)),
    ]


# -- failures and cancellation ------------------------------------------------------------------


@pytest.mark.parametrize("failing", ["partner", "business"])
async def test_a_failed_token_fetch_wakes_every_waiter_and_is_not_cached(
    anyio_backend: str, failing: str
) -> None:
    failed = False

    async def first_fetch_fails(request: httpx.Request) -> Reply:
        nonlocal failed
        is_target = (
            request.url.path == PARTNER_TOKEN_PATH
            if failing == "partner"
            else request in transport.business_token_requests
        )
        if is_target and not failed:
            failed = True
            for _ in range(20):  # every other call reaches the token it waits for
                await anyio.lowlevel.checkpoint()
            return error(500, "server_error", "token service down")
        return None

    transport = CountingTransport(first_fetch_fails)
    outcomes: list[BaseException | str] = []
    store = InMemoryTokenStore()
    async with make_thredfi(transport, max_retries=0, token_store=store) as thredfi:

        async def call(n: int) -> None:
            try:
                outcomes.append(str((await get_customer_of(thredfi, BUSINESS, n)).id))
            except t.ThredfiError as exc:
                outcomes.append(exc)

        with anyio.fail_after(10):  # a waiter left hanging would fail here, not hang the suite
            async with anyio.create_task_group() as tg:
                for n in range(10):
                    tg.start_soon(call, n)

        assert len(outcomes) == 10
        assert all(isinstance(o, t.InternalServerError) for o in outcomes), outcomes
        assert transport.data_requests == []
        assert thredfi._tokens._flights == {}
        assert len(store) == (1 if failing == "business" else 0)  # the partner token, if fetched
        fetches_before = len(transport.requests)

        customer = await get_customer_of(thredfi, BUSINESS, 99)  # fetches again, and succeeds

    assert customer.id == "cus-99"
    assert fetches_before == (1 if failing == "partner" else 2)  # one fetch for all ten calls
    assert transport.tokens.calls[BUSINESS] == 1
    assert transport.tokens.calls["partner"] == 1


@pytest.mark.parametrize("failing", ["partner", "business"])
async def test_a_token_exchange_answered_5xx_is_retried_like_any_safe_request(
    anyio_backend: str, failing: str
) -> None:
    """Minting a token twice does no harm, so a 503 or a read timeout on a token exchange is
    retried under the client's max_retries although the exchange is a POST without a key."""
    failures: Iterator[httpx.Response | Exception] = iter(
        [error(503, "server_error"), httpx.ReadTimeout("slow token service")]
    )

    def flaky(request: httpx.Request) -> Reply:
        is_target = (
            request.url.path == PARTNER_TOKEN_PATH
            if failing == "partner"
            else is_token_request(request) and request.url.path != PARTNER_TOKEN_PATH
        )
        failure = next(failures, None) if is_target else None
        if isinstance(failure, Exception):
            raise failure
        return failure

    transport = CountingTransport(flaky)
    async with make_thredfi(transport) as thredfi:  # default max_retries=2
        customer = await get_customer_of(thredfi, BUSINESS)

    assert customer.id == "cus-1"
    attempts = (
        transport.partner_token_requests
        if failing == "partner"
        else transport.business_token_requests
    )
    assert len(attempts) == 3
    assert "idempotency-key" not in attempts[0].headers


async def test_cancelling_the_task_leading_a_fetch_hands_over_to_a_waiter(
    anyio_backend: str,
) -> None:
    arrived = anyio.Event()
    never = anyio.Event()

    first = Once()

    async def first_partner_fetch_hangs(request: httpx.Request) -> Reply:
        if request.url.path == PARTNER_TOKEN_PATH and first():
            arrived.set()
            await never.wait()
        return None

    transport = CountingTransport(first_partner_fetch_hangs)
    waiters_done: list[str] = []
    async with make_thredfi(transport) as thredfi:
        leader_scope = anyio.CancelScope()

        async def leader() -> None:
            with leader_scope:
                await get_customer_of(thredfi, BUSINESS, 0)
            assert leader_scope.cancelled_caught

        async def waiter(n: int) -> None:
            waiters_done.append(str((await get_customer_of(thredfi, BUSINESS, n)).id))

        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                tg.start_soon(leader)
                await arrived.wait()
                for n in range(1, 6):
                    tg.start_soon(waiter, n)
                for _ in range(20):
                    await anyio.lowlevel.checkpoint()
                assert len(transport.requests) == 1  # the waiters are waiting, not fetching
                leader_scope.cancel()

        assert thredfi._tokens._flights == {}  # no flight (lock) left behind

    assert sorted(waiters_done) == [f"cus-{n}" for n in range(1, 6)]
    assert len(transport.partner_token_requests) == 2  # one waiter took over the fetch
    assert transport.tokens.calls[BUSINESS] == 1


# -- credentials and the two token exchanges ----------------------------------------------------


async def test_credentials_from_arguments_are_sent_as_basic_auth(anyio_backend: str) -> None:
    transport = CountingTransport()
    async with make_thredfi(transport, partner_uuid="p-uuid-arg", api_key="key-from-args") as c:
        await get_customer_of(c, BUSINESS)
    assert basic_credentials(transport.partner_token_requests[0]) == "p-uuid-arg:key-from-args"


async def test_credentials_from_the_environment_are_sent_as_basic_auth(
    anyio_backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("THREDFI_PARTNER_UUID", "p-uuid-env")
    monkeypatch.setenv("THREDFI_API_KEY", "key-from-env")
    transport = CountingTransport()
    async with AsyncThredfi(
        base_url=BASE_URL, http_client=httpx.AsyncClient(transport=transport)
    ) as thredfi:
        await get_customer_of(thredfi, BUSINESS)
    assert basic_credentials(transport.partner_token_requests[0]) == "p-uuid-env:key-from-env"
    form = parse_qs(transport.partner_token_requests[0].content.decode())
    assert form["client_id"] == ["p-uuid-env"]


@pytest.mark.parametrize(
    ("env", "args", "missing"),
    [
        ({}, {}, "partner_uuid and api_key"),
        ({"THREDFI_PARTNER_UUID": PARTNER_UUID}, {}, "missing api_key"),
        ({"THREDFI_API_KEY": API_KEY, "THREDFI_PARTNER_UUID": ""}, {}, "missing partner_uuid"),
        ({}, {"partner_uuid": PARTNER_UUID}, "missing api_key"),
    ],
)
def test_a_missing_credential_fails_before_any_request(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], args: dict[str, str], missing: str
) -> None:
    monkeypatch.delenv("THREDFI_PARTNER_UUID", raising=False)
    monkeypatch.delenv("THREDFI_API_KEY", raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    transport = CountingTransport()
    with pytest.raises(t.MissingCredentialsError, match=missing) as caught:
        AsyncThredfi(
            args.get("partner_uuid"),
            args.get("api_key"),
            base_url=BASE_URL,
            http_client=httpx.AsyncClient(transport=transport),
        )
    assert transport.requests == []
    assert API_KEY not in str(caught.value)


async def test_the_partner_token_request_is_basic_auth_and_a_client_credentials_form(
    anyio_backend: str,
) -> None:
    transport = CountingTransport()
    async with make_thredfi(transport) as thredfi:
        await get_customer_of(thredfi, BUSINESS)

    (request,) = transport.partner_token_requests
    assert request.method == "POST"
    assert basic_credentials(request) == f"{PARTNER_UUID}:{API_KEY}"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.content.decode(), strict_parsing=True) == {
        "grant_type": ["client_credentials"],
        "client_id": [PARTNER_UUID],
    }
    assert "idempotency-key" not in request.headers
    (business_request,) = transport.business_token_requests
    assert business_request.method == "POST"
    assert business_request.url.path == f"/v1/platform/{BUSINESS}/oauth2/token/"
    assert business_request.headers["authorization"] == bearer(fake_jwt("partner", 1))
    assert business_request.content == b""


@pytest.mark.parametrize("status", [400, 415])
async def test_a_refused_form_is_retried_once_as_json(anyio_backend: str, status: int) -> None:
    def refuse_forms(request: httpx.Request) -> Reply:
        if request.url.path == PARTNER_TOKEN_PATH and request.headers.get(
            "content-type", ""
        ).startswith("application/x-www-form-urlencoded"):
            return error(status, "validation_error", "send JSON")
        return None

    transport = CountingTransport(refuse_forms)
    async with make_thredfi(transport) as thredfi:
        await get_customer_of(thredfi, BUSINESS)

    _, as_json = transport.partner_token_requests
    assert as_json.headers["content-type"] == "application/json"
    assert json.loads(as_json.content) == {
        "grant_type": "client_credentials",
        "client_id": PARTNER_UUID,
    }
    assert basic_credentials(as_json) == f"{PARTNER_UUID}:{API_KEY}"
    assert len(transport.data_requests) == 1


async def test_the_json_fallback_happens_once_and_other_errors_have_none(
    anyio_backend: str,
) -> None:
    responses = {PARTNER_UUID: error(400, "validation_error"), "bad-creds": error(401, "x")}

    def refuse_every_partner_token(request: httpx.Request) -> Reply:
        if request.url.path == PARTNER_TOKEN_PATH:
            return responses[basic_credentials(request).split(":")[0]]
        return None

    transport = CountingTransport(refuse_every_partner_token)
    async with make_thredfi(transport) as thredfi:
        with pytest.raises(t.BadRequestError):
            await get_customer_of(thredfi, BUSINESS)
    assert len(transport.partner_token_requests) == 2

    transport = CountingTransport(refuse_every_partner_token)
    async with make_thredfi(transport, partner_uuid="bad-creds") as thredfi:
        with pytest.raises(t.AuthenticationError):
            await get_customer_of(thredfi, BUSINESS)
    assert len(transport.partner_token_requests) == 1


def unsigned_jwt(claims: dict[str, Any]) -> str:
    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none'})}.{b64(claims)}.c2ln"


@pytest.mark.parametrize(
    ("body", "lifetime"),
    [
        ({"access_token": unsigned_jwt({"exp": T0 + 99_999}), "expires_in": 1800}, 1800),
        ({"access_token": "opaque-token-0001", "expires_in": "7200"}, 7200),
        # A JSON float decodes as Decimal (money is never a float); it is seconds all the same.
        ({"access_token": unsigned_jwt({"exp": T0 + 99_999}), "expires_in": 300.0}, 300),
        ({"access_token": "opaque-token-0003", "expires_in": 90.0}, 90),
        ({"access_token": unsigned_jwt({"exp": T0 + 1234})}, 1234),
        ({"access_token": unsigned_jwt({"exp": T0 + 1234}), "expires_in": None}, 1234),
        ({"access_token": unsigned_jwt({"sub": "no-exp"})}, 3600),
        ({"access_token": "opaque-token-0002", "expires_in": 0}, 3600),
    ],
    ids=[
        "expires_in",
        "numeric-string",
        "json-float",
        "json-float-opaque",
        "jwt-exp",
        "null-expires_in",
        "jwt-without-exp",
        "zero",
    ],
)
async def test_expiry_comes_from_expires_in_else_the_jwt_exp_else_an_hour(
    anyio_backend: str, body: dict[str, Any], lifetime: int
) -> None:
    def business_token(request: httpx.Request) -> Reply:
        if is_token_request(request) and request.url.path != PARTNER_TOKEN_PATH:
            return httpx.Response(200, json=body)
        return None

    transport = CountingTransport(business_token)
    async with make_thredfi(transport) as thredfi:
        issued = await thredfi.business(BUSINESS).frontend_token()
        stored = await thredfi.token_store.get(thredfi._tokens.key(BUSINESS))
    assert issued == {"access_token": body["access_token"], "expires_in": lifetime}
    assert stored is not None
    assert stored.expires_at == T0 + lifetime


# -- the token store ----------------------------------------------------------------------------


def token(name: str) -> Token:
    return Token(access_token=name, expires_at=T0 + 3600, refresh_at=T0 + 3300)


async def test_the_in_memory_store_evicts_the_least_recently_used(anyio_backend: str) -> None:
    store = InMemoryTokenStore(max_size=3)
    for key in "abc":
        await store.set(key, token(key))
    assert await store.get("a") == token("a")  # a is now the most recently used
    await store.set("d", token("d"))  # evicts b
    assert await store.get("b") is None
    await store.set("c", token("c2"))  # an update counts as a use: order is now a, d, c
    await store.set("e", token("e"))  # evicts a
    assert [await store.get(k) for k in "acde"] == [None, token("c2"), token("d"), token("e")]
    assert len(store) == 3
    await store.invalidate("d")
    await store.invalidate("never-stored")
    assert await store.get("d") is None
    assert len(store) == 2


async def test_the_default_store_holds_10000_and_a_small_one_refetches_evicted_tokens(
    anyio_backend: str,
) -> None:
    assert InMemoryTokenStore().max_size == 10_000
    default = make_thredfi(CountingTransport()).token_store
    assert isinstance(default, InMemoryTokenStore)
    assert default.max_size == 10_000
    with pytest.raises(ValueError, match="max_size"):
        InMemoryTokenStore(max_size=0)

    transport = CountingTransport()
    async with make_thredfi(transport, token_store=InMemoryTokenStore(max_size=3)) as thredfi:
        # Room for the partner token and two business tokens. b1 is used again before b3
        # arrives, so b2 is the least recently used and the one evicted (first-in-first-out
        # would have evicted the partner token).
        for business_id in ("b1", "b2", "b1", "b3", "b1", "b2"):
            await get_customer_of(thredfi, business_id)
    assert dict(transport.tokens.calls) == {"partner": 1, "b1": 1, "b2": 2, "b3": 1}


class DictTokenStore:
    """A store like one a deployment would back with Redis: it suspends on every operation."""

    def __init__(self) -> None:
        self.tokens: dict[str, Token] = {}
        self.calls: Counter[str] = Counter()

    async def get(self, key: str) -> Token | None:
        self.calls["get"] += 1
        await anyio.lowlevel.checkpoint()
        return self.tokens.get(key)

    async def set(self, key: str, token: Token) -> None:
        self.calls["set"] += 1
        await anyio.lowlevel.checkpoint()
        self.tokens[key] = Token.from_dict(json.loads(json.dumps(token.to_dict())))

    async def invalidate(self, key: str) -> None:
        self.calls["invalidate"] += 1
        await anyio.lowlevel.checkpoint()
        self.tokens.pop(key, None)


async def test_a_custom_token_store_is_used_and_shared_between_clients(
    anyio_backend: str,
) -> None:
    store = DictTokenStore()
    assert isinstance(store, TokenStore)
    worker_1 = CountingTransport()
    async with make_thredfi(worker_1, token_store=store) as thredfi:
        with anyio.fail_after(10):
            async with anyio.create_task_group() as tg:
                for n in range(50):
                    tg.start_soon(get_customer_of, thredfi, BUSINESS, n)
    assert worker_1.tokens.calls == Counter({"partner": 1, BUSINESS: 1})
    # Keyed by partner and base URL: one store may serve several partners and environments.
    assert sorted(store.tokens) == [
        f"thredfi:{PARTNER_UUID}@{BASE_URL}:business:{BUSINESS}",
        f"thredfi:{PARTNER_UUID}@{BASE_URL}:partner",
    ]

    first = Once()

    def first_call_401(request: httpx.Request) -> Reply:
        return error(401, "invalid_token") if first() else None

    worker_2 = CountingTransport(first_call_401)  # another process, same store
    async with make_thredfi(worker_2, token_store=store) as thredfi:
        await get_customer_of(thredfi, BUSINESS)
    from_the_store = worker_2.requests[0].headers["authorization"]
    assert from_the_store == bearer(fake_jwt(BUSINESS, 1))  # no token request before it
    assert store.calls["invalidate"] == 1
    assert worker_2.tokens.calls == Counter({BUSINESS: 1})


async def test_a_401_invalidates_only_the_token_that_was_used(anyio_backend: str) -> None:
    """The TokenManager itself: a token replaced in the store is not thrown away."""
    store = InMemoryTokenStore()
    fetched: list[str | None] = []

    async def fetch(business_id: str | None) -> Token:
        fetched.append(business_id)
        return token(f"fetched-{len(fetched)}")

    manager = TokenManager(fetch=fetch, store=store, clock=RecordingClock(T0), namespace="p")
    used = await manager.get(BUSINESS)
    await store.set(manager.key(BUSINESS), token("refreshed-by-another-task"))
    await manager.invalidate(BUSINESS, used)
    assert await manager.get(BUSINESS) == token("refreshed-by-another-task")
    await manager.invalidate(BUSINESS, token("refreshed-by-another-task"))
    assert await manager.get(BUSINESS) == token("fetched-2")
    assert fetched == [BUSINESS, BUSINESS]


# -- which token each operation gets ------------------------------------------------------------


async def test_partner_operations_use_the_partner_token_and_business_ones_the_business_token(
    anyio_backend: str,
) -> None:
    assert list_businesses.OPERATION.scope == "partner"
    assert get_business.OPERATION.scope == "partner"
    assert get_business_token.OPERATION.scope == "partner"
    assert get_customer.OPERATION.scope == "business"

    def envelopes(request: httpx.Request) -> Reply:
        if request.url.path == "/v1/platform/businesses/":
            return httpx.Response(200, json={"count": 0, "next": None, "results": []})
        return None

    transport = CountingTransport(envelopes)
    async with make_thredfi(transport) as thredfi:
        await thredfi.businesses.list()
        await thredfi.businesses.get(business_id=BUSINESS)
        await thredfi.customers.get("cus-1", business_id=BUSINESS)
        await thredfi.business(OTHER_BUSINESS).customers.get("cus-2")
        minted = await thredfi.oauth.get_business_token(business_id=BUSINESS)

    partner = bearer(fake_jwt("partner", 1))
    seen = [(r.url.path, r.headers["authorization"]) for r in transport.requests]
    assert [a for path, a in seen if path == PARTNER_TOKEN_PATH] == [
        "Basic " + base64.b64encode(f"{PARTNER_UUID}:{API_KEY}".encode()).decode()
    ]
    assert ("/v1/platform/businesses/", partner) in seen
    assert (f"/v1/platform/businesses/{BUSINESS}/", partner) in seen
    assert (
        f"/v1/platform/businesses/{BUSINESS}/customers/cus-1/",
        bearer(fake_jwt(BUSINESS, 1)),
    ) in seen
    assert (
        f"/v1/platform/businesses/{OTHER_BUSINESS}/customers/cus-2/",
        bearer(fake_jwt(OTHER_BUSINESS, 1)),
    ) in seen
    assert len(transport.business_token_requests) == 3  # two cached, one asked for
    assert {r.headers["authorization"] for r in transport.business_token_requests} == {partner}
    assert minted.access_token == fake_jwt(BUSINESS, 2)


async def test_frontend_token_hands_out_the_business_token(anyio_backend: str) -> None:
    clock = RecordingClock(T0)
    transport = CountingTransport()
    async with make_thredfi(transport, clock=clock) as thredfi:
        books = thredfi.business(BUSINESS)
        first = await books.frontend_token()
        clock.advance(100)
        second = await books.frontend_token()
        await books.customers.get("cus-1")

    assert first == {"access_token": fake_jwt(BUSINESS, 1), "expires_in": 3600}
    assert second == {"access_token": fake_jwt(BUSINESS, 1), "expires_in": 3500}
    assert first["access_token"] != fake_jwt("partner", 1)
    assert transport.tokens.calls == Counter({"partner": 1, BUSINESS: 1})  # shared with calls
    assert transport.data_requests[0].headers["authorization"] == bearer(first["access_token"])


async def test_frontend_token_needs_partner_credentials(anyio_backend: str) -> None:
    transport = CountingTransport()
    async with AsyncThredfi(
        access_token="held-token-123456",
        base_url=BASE_URL,
        http_client=httpx.AsyncClient(transport=transport),
    ) as thredfi:
        with pytest.raises(t.InvalidRequestError, match="partner credentials"):
            await thredfi.business(BUSINESS).frontend_token()
    assert transport.requests == []


async def test_a_bound_view_refuses_another_business_before_sending(anyio_backend: str) -> None:
    transport = CountingTransport()
    async with make_thredfi(transport) as thredfi:
        books = thredfi.business(BUSINESS)
        with pytest.raises(t.InvalidRequestError, match="bound to business"):
            await books.customers.get("cus-1", business_id=OTHER_BUSINESS)
        with pytest.raises(t.InvalidRequestError, match="bound to business"):
            await books.oauth.get_business_token(business_id=OTHER_BUSINESS)
        await books.customers.get("cus-1", business_id=BUSINESS)  # the same one is fine
    assert [r.url.path for r in transport.requests if not is_token_request(r)] == [
        f"/v1/platform/businesses/{BUSINESS}/customers/cus-1/"
    ]
    assert OTHER_BUSINESS not in transport.tokens.calls


# -- no secret anywhere -------------------------------------------------------------------------


def assert_no_secret(texts: list[str], secrets: list[str]) -> None:
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"a secret leaked into: {text[:200]}"


async def test_no_secret_in_debug_logs_reprs_or_exceptions(
    anyio_backend: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    basic = base64.b64encode(f"{PARTNER_UUID}:{API_KEY}".encode()).decode()

    def echoing_server(request: httpx.Request) -> Reply:
        """An API that is careless with what it was sent, in every way a message can carry it."""
        path = request.url.path
        auth = request.headers["authorization"]
        if path.endswith("/cus-401/"):
            return error(401, "invalid_token", f"rejected {auth}; token={auth.split()[-1]}")
        if path.endswith("/cus-500/"):
            return httpx.Response(500, text=f"crash dump: headers={dict(request.headers)!r}")
        if path.endswith("/cus-drop/"):
            raise httpx.RemoteProtocolError(f"peer hung up on {auth}", request=request)
        if path.endswith("/cus-422/"):
            body = {"error": "bad", "details": {"note": [f"got {auth.split()[-1]}"]}}
            return httpx.Response(422, json=body)
        if path == PARTNER_TOKEN_PATH and "bad-creds" in basic_credentials(request):
            return error(401, "authentication_required", f"unknown key {API_KEY} ({auth})")
        return None

    transport = CountingTransport(echoing_server)
    errors: list[BaseException] = []
    reprs: list[str] = []
    async with make_thredfi(transport, max_retries=1) as thredfi:
        books = thredfi.business(BUSINESS)
        await books.customers.get("cus-ok")
        for customer_id in ("cus-401", "cus-500", "cus-drop", "cus-422"):
            with pytest.raises(t.ThredfiError) as caught:
                await books.customers.get(customer_id)
            errors.append(caught.value)
        partner_response = await thredfi.oauth.get_partner_token(
            body={"grant_type": "client_credentials", "client_id": PARTNER_UUID}
        )
        business_response = await books.oauth.get_business_token()
        stored = [
            await thredfi.token_store.get(thredfi._tokens.key(key)) for key in (None, BUSINESS)
        ]
        reprs += [repr(thredfi), repr(books), repr(books.customers), repr(thredfi.token_store)]
        reprs += [repr(thredfi._tokens), repr(TokenAuth(thredfi._tokens, BUSINESS))]
        reprs += [repr(partner_response), repr(business_response), *map(repr, stored)]
        reprs += [str(s) for s in stored]
        sdk_logger.debug("token was %s", stored[0])

    async with make_thredfi(transport, partner_uuid="bad-creds") as bad:
        with pytest.raises(t.AuthenticationError) as caught:
            await get_customer_of(bad, BUSINESS)
        errors.append(caught.value)
        reprs.append(repr(bad))

    assert [type(e) for e in errors] == [
        t.AuthenticationError,
        t.InternalServerError,
        t.APIConnectionError,
        t.UnprocessableEntityError,
        t.AuthenticationError,
    ]
    assert "[redacted" in str(errors[0])
    assert "token fetched" in caplog.text  # debug logging was on and captured
    assert "401 with the business" in caplog.text
    secrets = [API_KEY, basic, *transport.every_issued_token()]
    assert len(secrets) > 5
    assert_no_secret(
        [
            caplog.text,
            *(record.getMessage() for record in caplog.records),
            *reprs,
            *(text for e in errors for text in (str(e), repr(e), *map(str, e.args))),
            *(e.message for e in errors if isinstance(e, t.APIStatusError)),
        ],
        secrets,
    )


async def test_thredfi_log_debug_logs_to_stderr_without_secrets(
    anyio_backend: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("THREDFI_LOG", "debug")
    saved_handlers, saved_level = sdk_logger.handlers[:], sdk_logger.level
    sdk_logger.handlers.clear()
    try:
        transport = CountingTransport()
        async with make_thredfi(transport) as thredfi:
            assert sdk_logger.getEffectiveLevel() == logging.DEBUG
            await get_customer_of(thredfi, BUSINESS)
        stderr = capsys.readouterr().err
    finally:
        sdk_logger.handlers[:] = saved_handlers
        sdk_logger.setLevel(saved_level)
    assert "partner token fetched" in stderr
    assert f"GET /v1/platform/businesses/{BUSINESS}/customers/cus-1/ -> 200" in stderr
    assert_no_secret([stderr], [API_KEY, *transport.every_issued_token()])


def test_the_logging_filter_redacts_a_record_carrying_a_bearer_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    AsyncThredfi(PARTNER_UUID, API_KEY)  # a client registers its API key for redaction
    opaque = "opaque-token-9f8e7d6c5b4a"
    jwt = fake_jwt("partner", 7)
    record = logging.LogRecord(
        "thredfi_async",
        logging.DEBUG,
        __file__,
        1,
        "headers %s",
        ({"a": f"Bearer {opaque}"},),
        None,
    )
    assert RedactingFilter().filter(record) is True
    assert opaque not in record.getMessage()
    assert "Bearer [redacted]" in record.getMessage()

    setup_logging()
    caplog.set_level(logging.DEBUG, logger="thredfi_async")
    sdk_logger.debug("Authorization: Bearer %s", opaque)
    sdk_logger.debug("sent %s", {"access_token": opaque, "jwt": jwt})
    sdk_logger.info("key %s", API_KEY)
    assert len(caplog.records) == 3
    assert_no_secret([caplog.text], [opaque, jwt, API_KEY])
    assert "Bearer [redacted]" in caplog.text
