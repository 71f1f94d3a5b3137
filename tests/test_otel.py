"""OpenTelemetryHook: one span per call and one per attempt, nested where things happened.

Read back through the OpenTelemetry SDK's in-memory exporter, so what is asserted is what a
collector would receive.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import INVALID_SPAN, SpanKind, StatusCode, get_current_span

from tests._readme import readme_block
from thredfi_async import AsyncThredfi, NotFoundError
from thredfi_async.otel import OpenTelemetryHook
from thredfi_async.testing import FakeThredfi, RecordingClock

MISSING = "9f0d9c8e-0000-4000-8000-000000000000"


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def provider(exporter: InMemorySpanExporter) -> Iterator[TracerProvider]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield provider
    provider.shutdown()


@pytest.fixture
def fake() -> FakeThredfi:
    served = FakeThredfi()
    served.seed(businesses=3, customers_per_business=2)
    return served


@pytest.fixture
def clock() -> RecordingClock:
    return RecordingClock()


@pytest.fixture
def thredfi(fake: FakeThredfi, provider: TracerProvider, clock: RecordingClock) -> AsyncThredfi:
    client: AsyncThredfi = fake.client(hooks=[OpenTelemetryHook(provider)], clock=clock)
    return client


def spans(exporter: InMemorySpanExporter) -> dict[str, ReadableSpan]:
    found = {span.name: span for span in exporter.get_finished_spans()}
    assert len(found) == len(exporter.get_finished_spans()), "span names are unique here"
    return found


def parent_name(span: ReadableSpan, exporter: InMemorySpanExporter) -> str | None:
    if span.parent is None:
        return None
    by_id = {s.context.span_id: s.name for s in exporter.get_finished_spans()}
    return by_id.get(span.parent.span_id, "<outside>")


def attributes(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


@pytest.mark.asyncio
async def test_a_call_its_attempt_and_the_token_exchanges_nested_where_they_happened(
    fake: FakeThredfi, thredfi: AsyncThredfi, exporter: InMemorySpanExporter
) -> None:
    business_id = fake.business_ids[0]
    async with thredfi:
        await thredfi.business(business_id).customers.list()
    found = spans(exporter)
    assert set(found) == {
        "thredfi customers.list",
        "thredfi customers.list attempt 1",
        "thredfi oauth.get_business_token",
        "thredfi oauth.get_business_token attempt 1",
        "thredfi oauth.get_partner_token",
        "thredfi oauth.get_partner_token attempt 1",
    }
    call = found["thredfi customers.list"]
    attempt = found["thredfi customers.list attempt 1"]
    business_call = found["thredfi oauth.get_business_token"]
    partner_call = found["thredfi oauth.get_partner_token"]
    partner_attempt = found["thredfi oauth.get_partner_token attempt 1"]

    assert parent_name(call, exporter) is None
    assert parent_name(attempt, exporter) == call.name
    # The business token was fetched by the attempt that needed it, the partner token by the
    # business-token exchange's attempt.
    assert parent_name(business_call, exporter) == attempt.name
    assert parent_name(partner_call, exporter) == business_call.name + " attempt 1"
    assert parent_name(partner_attempt, exporter) == partner_call.name
    assert {s.context.trace_id for s in found.values()} == {call.context.trace_id}
    assert all(s.kind is SpanKind.CLIENT for s in found.values())

    assert attributes(call) == {
        "thredfi.operation_id": "list_customers",
        "thredfi.method": "customers.list",
        "thredfi.token_exchange": False,
        "http.request.method": "GET",
        "url.template": "/v1/platform/businesses/{business_id}/customers/",
        "thredfi.business_id": business_id,
        "thredfi.attempts": 1,
        "thredfi.token_exchanges": 1,  # the business token; the partner token is its own
        "http.response.status_code": 200,
    }
    request = fake.requests.for_operation("list_customers")[0]
    assert attributes(attempt) == {
        "thredfi.attempt": 1,
        "http.request.resend_count": 0,
        "http.request.method": "GET",
        "server.address": "thredfi.fake",
        "http.response.status_code": 200,
        "thredfi.request_id": request.request_id,
    }
    assert attributes(business_call)["thredfi.token_exchange"] is True
    assert attributes(business_call)["thredfi.token_exchanges"] == 1  # the partner token
    assert attributes(partner_call)["thredfi.token_exchanges"] == 0
    assert all(s.status.status_code is StatusCode.UNSET for s in found.values())


@pytest.mark.asyncio
async def test_retries_are_attempt_spans_with_their_waits(
    fake: FakeThredfi, thredfi: AsyncThredfi, exporter: InMemorySpanExporter, clock: RecordingClock
) -> None:
    fake.faults.fail(503, times=2, operation_id="list_customers")
    async with thredfi:
        await thredfi.business(fake.business_ids[0]).customers.list()
    found = spans(exporter)
    call = found["thredfi customers.list"]
    attempts = [found[f"thredfi customers.list attempt {n}"] for n in (1, 2, 3)]
    assert all(parent_name(a, exporter) == call.name for a in attempts)
    assert [attributes(a)["http.response.status_code"] for a in attempts] == [503, 503, 200]
    assert [attributes(a)["http.request.resend_count"] for a in attempts] == [0, 1, 2]
    assert [attributes(a).get("thredfi.retry_wait_s") for a in attempts] == [
        None,
        clock.sleeps[0],
        clock.sleeps[1],
    ]
    assert [attributes(a).get("thredfi.retry_in_s") for a in attempts] == [
        clock.sleeps[0],
        clock.sleeps[1],
        None,
    ]
    assert [a.status.status_code for a in attempts] == [
        StatusCode.ERROR,
        StatusCode.ERROR,
        StatusCode.UNSET,
    ]
    assert attributes(attempts[0])["error.type"] == "InternalServerError"
    # The call succeeded: its span is not an error, and says it took three attempts.
    assert call.status.status_code is StatusCode.UNSET
    assert attributes(call)["thredfi.attempts"] == 3
    assert attributes(call)["http.response.status_code"] == 200


@pytest.mark.asyncio
async def test_a_failed_call_is_an_error_span_with_the_exception(
    fake: FakeThredfi, thredfi: AsyncThredfi, exporter: InMemorySpanExporter
) -> None:
    async with thredfi:
        with pytest.raises(NotFoundError):
            await thredfi.business(fake.business_ids[0]).customers.get(MISSING)
    call = spans(exporter)["thredfi customers.get"]
    assert call.status.status_code is StatusCode.ERROR
    assert attributes(call)["error.type"] == "NotFoundError"
    assert attributes(call)["http.response.status_code"] == 404
    assert [event.name for event in call.events] == ["exception"]
    assert call.events[0].attributes is not None
    assert str(call.events[0].attributes["exception.type"]).endswith("NotFoundError")


@pytest.mark.asyncio
async def test_the_call_span_is_a_child_of_the_callers_span(
    fake: FakeThredfi,
    thredfi: AsyncThredfi,
    exporter: InMemorySpanExporter,
    provider: TracerProvider,
) -> None:
    tracer = provider.get_tracer("partner-app")
    async with thredfi:
        with tracer.start_as_current_span("sync merchant") as handler:
            await thredfi.business(fake.business_ids[0]).customers.list()
            # The hook leaves the caller's context as it found it.
            assert get_current_span() is handler
    assert get_current_span() is INVALID_SPAN
    call = spans(exporter)["thredfi customers.list"]
    assert parent_name(call, exporter) == "sync merchant"


@pytest.mark.asyncio
async def test_a_cancelled_call_ends_its_spans_and_restores_the_context(
    fake: FakeThredfi, thredfi: AsyncThredfi, exporter: InMemorySpanExporter
) -> None:
    async with thredfi:
        await thredfi.businesses.list()  # the partner token, before the latency
        exporter.clear()
        fake.faults.latency(5.0)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(thredfi.businesses.list(), 0.05)
        assert get_current_span() is INVALID_SPAN
    found = spans(exporter)
    assert set(found) == {"thredfi businesses.list", "thredfi businesses.list attempt 1"}
    for span in found.values():
        assert span.end_time is not None
        assert attributes(span)["error.type"] == "CancelledError"
        assert span.status.status_code is StatusCode.ERROR
        assert span.events == ()  # a cancellation is not recorded as an exception


@pytest.mark.asyncio
async def test_concurrent_calls_each_get_their_own_tree(
    fake: FakeThredfi,
    thredfi: AsyncThredfi,
    exporter: InMemorySpanExporter,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with thredfi:
        with caplog.at_level(logging.ERROR):
            await asyncio.gather(
                *(
                    thredfi.business(business_id).customers.list()
                    for business_id in fake.business_ids
                    for _ in range(4)
                )
            )
    assert "Failed to detach context" not in caplog.text
    finished = exporter.get_finished_spans()
    calls = [s for s in finished if s.name == "thredfi customers.list"]
    assert len(calls) == 12
    assert len({s.context.trace_id for s in calls}) == 12, "each call is its own trace"
    for call in calls:
        children = [s for s in finished if s.parent and s.parent.span_id == call.context.span_id]
        assert [s.name for s in children] == ["thredfi customers.list attempt 1"]
    # One business token per business, one partner token: the waiters fetched nothing.
    exchanges = [attributes(s)["thredfi.token_exchanges"] for s in calls]
    assert sorted(exchanges) == [0] * 9 + [1] * 3
    assert len([s for s in finished if s.name.endswith("get_partner_token")]) == 1


@pytest.mark.asyncio
async def test_no_secret_or_id_beyond_the_business_reaches_a_span(
    fake: FakeThredfi, thredfi: AsyncThredfi, exporter: InMemorySpanExporter
) -> None:
    business_id = fake.business_ids[0]
    async with thredfi:
        books = thredfi.business(business_id)
        customers = await books.customers.list()
        customer_id = str(customers.results[0].id)
        await books.customers.get(customer_id)
        token = (await books.frontend_token())["access_token"]
    values = " ".join(
        str(value) for span in exporter.get_finished_spans() for value in attributes(span).values()
    )
    assert customer_id not in values
    assert fake.api_key not in values
    assert token not in values
    assert "Bearer" not in values


def test_importing_the_sdk_does_not_import_opentelemetry() -> None:
    code = "import sys, thredfi_async; print('opentelemetry' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "False", result.stderr


def test_the_readme_tracing_example_runs_as_written() -> None:
    block = readme_block("OpenTelemetryHook()")
    code = f"{block}\nimport asyncio\nasyncio.run(thredfi.aclose())\nprint('closed')\n"
    env = {**os.environ, "THREDFI_PARTNER_UUID": "partner", "THREDFI_API_KEY": "key"}
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60
    )
    assert result.stdout.strip() == "closed", result.stderr
