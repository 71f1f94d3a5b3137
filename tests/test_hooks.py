"""Hooks see every call and attempt in order, may tag requests, and cannot break the rules."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import httpx
import pytest

from tests._readme import readme_block
from tests._served import free_port
from thredfi_async import (
    APIConnectionError,
    AsyncThredfi,
    AttemptInfo,
    CallInfo,
    Hook,
    HookError,
    InternalServerError,
    InvalidRequestError,
    NotFoundError,
)
from thredfi_async._hooks import check_hooks
from thredfi_async.testing import FakeThredfi, RecordingClock


class Recorder(Hook):
    """Writes down every stage it is told of, as one line each."""

    def __init__(self) -> None:
        self.events: list[str] = []
        self.attempts: list[AttemptInfo] = []
        self.calls: list[CallInfo] = []

    def before_call(self, call: CallInfo) -> None:
        self.events.append(f"call {call.operation_id}")

    def before_attempt(self, attempt: AttemptInfo) -> None:
        self.events.append(f"attempt {attempt.call.operation_id} #{attempt.number}")

    def after_attempt(self, attempt: AttemptInfo) -> None:
        status = attempt.response.status_code if attempt.response is not None else None
        error = type(attempt.error).__name__ if attempt.error is not None else None
        self.events.append(
            f"attempted {attempt.call.operation_id} #{attempt.number} {status} {error}"
        )
        self.attempts.append(attempt)

    def after_call(self, call: CallInfo) -> None:
        error = type(call.error).__name__ if call.error is not None else None
        self.events.append(f"called {call.operation_id} {error}")
        self.calls.append(call)


@pytest.fixture
def fake() -> FakeThredfi:
    served = FakeThredfi()
    served.seed(businesses=1, customers_per_business=2)
    return served


def client(fake: FakeThredfi, *hooks: Hook, **kwargs: Any) -> AsyncThredfi:
    kwargs.setdefault("clock", RecordingClock())
    return fake.client(hooks=list(hooks), **kwargs)


@pytest.mark.asyncio
async def test_a_call_and_the_token_exchanges_it_needs_in_order(fake: FakeThredfi) -> None:
    recorder = Recorder()
    business_id = fake.business_ids[0]
    async with client(fake, recorder) as thredfi:
        page = await thredfi.business(business_id).customers.list()
    assert len(page.results) == 2
    # The business token is fetched inside the attempt that needs it, and the partner token
    # inside that exchange's attempt: tracers nest them where they happened.
    assert recorder.events == [
        "call list_customers",
        "attempt list_customers #1",
        "call get_business_token",
        "attempt get_business_token #1",
        "call get_partner_token",
        "attempt get_partner_token #1",
        "attempted get_partner_token #1 200 None",
        "called get_partner_token None",
        "attempted get_business_token #1 200 None",
        "called get_business_token None",
        "attempted list_customers #1 200 None",
        "called list_customers None",
    ]
    listed, business_token, partner_token = recorder.calls[::-1]
    assert listed.business_id == business_id
    assert not listed.token_exchange
    assert business_token.token_exchange
    assert business_token.business_id == business_id
    assert partner_token.token_exchange
    assert partner_token.business_id is None
    assert listed.client_method == "customers.list"
    assert listed.path == "/v1/platform/businesses/{business_id}/customers/"
    assert listed.response is not None
    assert listed.response.status_code == 200


@pytest.mark.asyncio
async def test_retries_are_attempts_with_their_waits(fake: FakeThredfi) -> None:
    recorder = Recorder()
    clock = RecordingClock()
    fake.faults.fail(503, times=2, operation_id="list_customers")
    async with client(fake, recorder, clock=clock) as thredfi:
        await thredfi.business(fake.business_ids[0]).customers.list()
    attempts = [a for a in recorder.attempts if a.call.operation_id == "list_customers"]
    assert [a.number for a in attempts] == [1, 2, 3]
    assert [a.response.status_code for a in attempts if a.response] == [503, 503, 200]
    assert [type(a.error) for a in attempts] == [
        InternalServerError,
        InternalServerError,
        type(None),
    ]
    # Each failed attempt says how long until the next; the next says how long it waited.
    assert [a.retry_in for a in attempts] == [clock.sleeps[0], clock.sleeps[1], None]
    assert [a.retry_wait for a in attempts] == [0.0, clock.sleeps[0], clock.sleeps[1]]
    assert attempts[0].request_id == fake.requests.for_operation("list_customers")[0].request_id
    assert all(a.elapsed is not None and a.elapsed >= 0 for a in attempts)
    assert recorder.calls[-1].attempts == 3


@pytest.mark.asyncio
async def test_a_failed_call_ends_with_its_error(fake: FakeThredfi) -> None:
    recorder = Recorder()
    async with client(fake, recorder) as thredfi:
        with pytest.raises(NotFoundError) as caught:
            await thredfi.business(fake.business_ids[0]).customers.get(
                "9f0d9c8e-0000-4000-8000-000000000000"
            )
    assert recorder.events[-2:] == [
        "attempted get_customer #1 404 NotFoundError",
        "called get_customer NotFoundError",
    ]
    assert recorder.calls[-1].error is caught.value
    assert recorder.attempts[-1].retry_in is None


@pytest.mark.asyncio
async def test_connection_errors_are_attempts_without_a_response() -> None:
    recorder = Recorder()
    async with AsyncThredfi(
        access_token="token",
        base_url=f"http://127.0.0.1:{free_port()}",  # nothing listens
        max_retries=1,
        clock=RecordingClock(),
        hooks=[recorder],
    ) as thredfi:
        with pytest.raises(APIConnectionError):
            await thredfi.businesses.list()
    assert [a.response for a in recorder.attempts] == [None, None]
    assert all(isinstance(a.error, APIConnectionError) for a in recorder.attempts)
    assert recorder.attempts[0].retry_in is not None
    assert recorder.attempts[1].retry_wait == recorder.attempts[0].retry_in


@pytest.mark.asyncio
async def test_a_cancelled_call_still_ends_its_attempt_and_itself(fake: FakeThredfi) -> None:
    recorder = Recorder()
    async with client(fake, recorder) as thredfi:
        await thredfi.businesses.list()  # the partner token, fetched before the latency
        fake.faults.latency(5.0)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(thredfi.businesses.list(), 0.05)
    assert recorder.events[-4:] == [
        "call list_businesses",
        "attempt list_businesses #1",
        "attempted list_businesses #1 None CancelledError",
        "called list_businesses CancelledError",
    ]


class Tagger(Hook):
    def before_attempt(self, attempt: AttemptInfo) -> None:
        attempt.headers["X-Partner-Trace"] = f"trace-{attempt.number}"


@pytest.mark.asyncio
async def test_a_hook_adds_headers_each_attempt_and_never_sees_the_credential(
    fake: FakeThredfi,
) -> None:
    sent: list[httpx.Headers] = []
    seen: list[dict[str, str]] = []

    class Looker(Hook):
        def before_attempt(self, attempt: AttemptInfo) -> None:
            seen.append(dict(attempt.headers))
            assert "Authorization" not in attempt.headers
            with pytest.raises(KeyError):
                attempt.headers["authorization"]

    async def capture(request: httpx.Request) -> None:
        if "vendors" in request.url.path:
            sent.append(httpx.Headers(request.headers))  # the request is reused per attempt

    http_client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=fake.app), event_hooks={"request": [capture]}
    )
    fake.faults.fail(503, times=1, operation_id="create_vendor")
    async with client(fake, Tagger(), Looker(), http_client=http_client) as thredfi:
        # The API deduplicates vendor creates on external_id, so the SDK retries this one.
        await thredfi.business(fake.business_ids[0]).vendors.create(
            body={"company_name": "Initech", "external_id": "vendor-initech"}
        )
    assert [h["x-partner-trace"] for h in sent] == ["trace-1", "trace-2"]
    assert all(h["authorization"].startswith("Bearer ") for h in sent)
    # The same idempotency key on both attempts: a hook cannot make a retry a new request.
    assert sent[0]["idempotency-key"] == sent[1]["idempotency-key"]
    assert all("authorization" not in {k.lower() for k in headers} for headers in seen)
    assert any("idempotency-key" in headers for headers in seen)


@pytest.mark.parametrize(
    "name", ["Authorization", "idempotency-key", "Content-Type", "Host", "Content-Length"]
)
@pytest.mark.asyncio
async def test_a_hook_cannot_set_the_headers_the_sdk_owns(fake: FakeThredfi, name: str) -> None:
    class Forger(Hook):
        def before_attempt(self, attempt: AttemptInfo) -> None:
            attempt.headers[name] = "forged"

    async with client(fake, Forger()) as thredfi:
        with pytest.raises(HookError, match=name):
            await thredfi.businesses.list()
    assert fake.requests.count("list_businesses") == 0, "nothing was sent"


@pytest.mark.asyncio
async def test_a_hook_header_value_is_checked_like_any_header(fake: FakeThredfi) -> None:
    class Injector(Hook):
        def before_attempt(self, attempt: AttemptInfo) -> None:
            attempt.headers["X-Tag"] = "a\r\nX-Evil: 1"

    async with client(fake, Injector()) as thredfi:
        with pytest.raises(HookError, match="control character"):
            await thredfi.businesses.list()
    assert fake.requests.count("list_businesses") == 0


@pytest.mark.asyncio
async def test_a_hook_that_raises_before_sending_stops_the_call_and_is_named(
    fake: FakeThredfi,
) -> None:
    recorder = Recorder()

    class Broken(Hook):
        def before_call(self, call: CallInfo) -> None:
            raise RuntimeError("metrics backend down")

    async with client(fake, recorder, Broken()) as thredfi:
        with pytest.raises(HookError, match=r"Broken\.before_call raised RuntimeError") as caught:
            await thredfi.businesses.list()
    assert isinstance(caught.value.__cause__, RuntimeError)
    assert fake.requests.count() == 0
    # The hooks that started the call are still told it ended.
    assert recorder.events == ["call list_businesses", "called list_businesses HookError"]


@pytest.mark.asyncio
async def test_a_hook_that_raises_after_a_success_says_the_request_was_made(
    fake: FakeThredfi,
) -> None:
    class Broken(Hook):
        def after_call(self, call: CallInfo) -> None:
            if not call.token_exchange:
                raise ValueError("bad metric name")

    async with client(fake, Broken()) as thredfi:
        with pytest.raises(HookError) as caught:
            await thredfi.business(fake.business_ids[0]).customers.create(
                body={"company_name": "Initech", "email": "ap@initech.example"}
            )
    assert caught.value.response is not None
    assert caught.value.response.status_code == 201
    assert fake.requests.count("create_customer") == 1


@pytest.mark.asyncio
async def test_a_hook_failing_while_a_call_fails_does_not_hide_the_call_error(
    fake: FakeThredfi, caplog: pytest.LogCaptureFixture
) -> None:
    class Broken(Hook):
        def after_call(self, call: CallInfo) -> None:
            if call.error is not None:
                raise ValueError("bad metric name")

    async with client(fake, Broken()) as thredfi:
        with (
            caplog.at_level(logging.ERROR, logger="thredfi_async"),
            pytest.raises(NotFoundError) as caught,
        ):
            await thredfi.business(fake.business_ids[0]).customers.get(
                "9f0d9c8e-0000-4000-8000-000000000000"
            )
    assert any("Broken.after_call also raised ValueError" in n for n in caught.value.__notes__)
    assert "Broken.after_call failed" in caplog.text


def test_only_the_methods_a_hook_overrides_are_run() -> None:
    class Nothing(Hook):
        pass

    hooks = check_hooks([Nothing(), Tagger()])
    assert hooks is not None
    assert hooks.before_call == ()
    assert hooks.after_attempt == ()
    assert len(hooks.before_attempt) == 1
    assert check_hooks([]) is None
    assert check_hooks(None) is None


@pytest.mark.parametrize("bad", [Tagger(), [object()], "hook", [Tagger, Tagger()]])
def test_hooks_must_be_a_list_of_hooks(bad: Any) -> None:
    with pytest.raises(InvalidRequestError, match="hooks must be"):
        AsyncThredfi(access_token="token", hooks=bad)


def test_the_readme_hook_example_runs_and_prints_what_it_shows(
    capsys: pytest.CaptureFixture[str],
) -> None:
    exec(readme_block("class Timings(Hook)"), {"__name__": "readme"})
    shown = readme_block("businesses.list #1: 503", language="text")
    # The wait is jittered: the README shows one draw of it.
    wait = r"retry in \d+\.\d\d s"
    assert re.sub(wait, "W", capsys.readouterr().out) == re.sub(wait, "W", shown)
