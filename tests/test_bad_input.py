"""Caller input that must be refused before anything is sent, with an error that says why.

Each case counts the requests that reached the transport (token exchanges included): zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from decimal import Decimal
from io import BytesIO
from typing import Any

import httpx
import pytest

from thredfi_async import (
    AsyncThredfi,
    ClientClosedError,
    File,
    InvalidRequestError,
    ThredfiError,
    models,
)
from thredfi_async.bodies import InvoiceCreateRequestDict

from .conftest import API_KEY, BASE_URL, PARTNER_UUID

BUSINESS = "6f1c2b9e-3d4a-4e5f-8a7b-9c0d1e2f3a4b"
CUSTOMER = "0f6c8a1e-2b3d-4c5e-9f7a-8b9c0d1e2f3a"


class Recorder:
    """A transport that answers everything with 200 {} and remembers what it was sent."""

    def __init__(self) -> None:
        self.sent: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return httpx.Response(200, json={"access_token": "a" * 24, "expires_in": 3600})

    def client(self, **kwargs: Any) -> AsyncThredfi:
        return AsyncThredfi(
            PARTNER_UUID,
            API_KEY,
            base_url=BASE_URL,
            http_client=httpx.AsyncClient(transport=httpx.MockTransport(self)),
            **kwargs,
        )


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


async def refused(recorder: Recorder, call: Callable[[AsyncThredfi], Any]) -> InvalidRequestError:
    async with recorder.client() as client:
        with pytest.raises(InvalidRequestError) as caught:
            await call(client)
    assert recorder.sent == []
    return caught.value


# -- floats: refused everywhere, with advice that fits the field ------------------------------


@pytest.mark.asyncio
async def test_a_float_query_parameter_is_refused_and_an_integer_field_asks_for_an_int(
    recorder: Recorder,
) -> None:
    error = await refused(
        recorder,
        lambda c: c.business(BUSINESS).invoices.list(max_amount=0.1 + 0.2).first_page(),  # type: ignore[arg-type]
    )
    assert "max_amount" in str(error)
    assert "takes an int" in str(error)
    assert "minor units" in str(error)
    assert "Decimal('19.99')" not in str(error)


@pytest.mark.asyncio
async def test_a_float_in_extra_query_is_refused(recorder: Recorder) -> None:
    error = await refused(
        recorder,
        lambda c: c.business(BUSINESS).customers.get(CUSTOMER, extra_query={"x": 1.5}),
    )
    assert "x is a float" in str(error)


@pytest.mark.asyncio
async def test_a_float_quantity_is_not_called_money(recorder: Recorder) -> None:
    # A type checker refuses the float too (thredfi_async.bodies); this is a caller without one.
    body: InvoiceCreateRequestDict = {
        "customer_id": CUSTOMER,
        "line_items": [{"quantity": 1.5, "unit_price": 1000}],  # type: ignore[list-item]
    }
    error = await refused(recorder, lambda c: c.business(BUSINESS).invoices.create(body=body))
    assert "body.line_items[0].quantity is a float (1.5)" in str(error)
    assert "money" not in str(error)
    assert "Decimal" in str(error)


@pytest.mark.asyncio
async def test_a_float_minor_unit_price_asks_for_an_int_not_a_decimal(recorder: Recorder) -> None:
    body: InvoiceCreateRequestDict = {
        "customer_id": CUSTOMER,
        "line_items": [{"quantity": 1, "unit_price": 19.99}],  # type: ignore[list-item]
    }
    error = await refused(recorder, lambda c: c.business(BUSINESS).invoices.create(body=body))
    assert "body.line_items[0].unit_price" in str(error)
    assert "takes an int" in str(error)
    assert "Decimal('19.99')" not in str(error)


@pytest.mark.asyncio
async def test_a_float_in_a_multipart_field_is_refused(recorder: Recorder) -> None:
    upload = models.InvoiceCreateUpload(
        customer_id=CUSTOMER,
        tips=2.5,  # type: ignore[arg-type]
        file=File(payload=BytesIO(b"%PDF-1.4"), file_name="a.pdf", mime_type="application/pdf"),
    )
    error = await refused(recorder, lambda c: c.business(BUSINESS).invoices.create(body=upload))
    assert "body.tips is a float" in str(error)
    assert "takes an int" in str(error)


@pytest.mark.asyncio
async def test_multipart_scalars_are_still_sent_as_text(recorder: Recorder) -> None:
    upload = models.InvoiceCreateUpload(
        customer_id=CUSTOMER,
        tips=250,
        file=File(payload=BytesIO(b"%PDF-1.4"), file_name="a.pdf", mime_type="application/pdf"),
    )
    async with recorder.client() as client:
        await client.business(BUSINESS).invoices.create(body=upload)
    posted = [r for r in recorder.sent if r.url.path.endswith("/invoices/")]
    assert b'name="tips"\r\n\r\n250' in posted[0].content


@pytest.mark.asyncio
async def test_a_non_finite_decimal_query_value_is_refused(recorder: Recorder) -> None:
    error = await refused(
        recorder,
        lambda c: c.business(BUSINESS).customers.get(CUSTOMER, extra_query={"x": Decimal("NaN")}),
    )
    assert "x" in str(error)


# -- bodies ------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_body_none_on_an_operation_that_requires_a_body_is_refused(
    recorder: Recorder,
) -> None:
    error = await refused(
        recorder,
        lambda c: c.business(BUSINESS).customers.create(body=None),  # type: ignore[arg-type]
    )
    assert "body is required" in str(error)


@pytest.mark.asyncio
async def test_an_optional_body_may_still_be_left_out(recorder: Recorder) -> None:
    async with recorder.client() as client:
        await client.business(BUSINESS).customers.update(CUSTOMER)
    assert any(r.method == "PATCH" and r.content == b"" for r in recorder.sent)


@pytest.mark.asyncio
async def test_a_body_nested_past_the_recursion_limit_is_refused(recorder: Recorder) -> None:
    nested: dict[str, Any] = {}
    deep = nested
    for _ in range(5000):
        deep["x"] = {}
        deep = deep["x"]
    error = await refused(
        recorder, lambda c: c.business(BUSINESS).customers.create(body={"metadata": nested})
    )
    assert "nested too deeply" in str(error)


# -- headers -----------------------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("bad", ["key\r\nX-Evil: 1", "key\n", "key\x00", "\x7f"])
async def test_control_characters_in_an_idempotency_key_are_refused(
    recorder: Recorder, bad: str
) -> None:
    error = await refused(
        recorder,
        lambda c: c.business(BUSINESS).customers.create(
            body={"individual_name": "Ada"}, idempotency_key=bad
        ),
    )
    assert "idempotency_key" in str(error)
    assert "control character" in str(error)


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"X-Trace": "a\r\nInjected: yes"}, "control character"),
        ({"X-Trace": 5}, "must be a str"),
        ({"X-Trace": b"bytes"}, "must be a str"),
        ({"Bad Name": "v"}, "not a valid header name"),
        ({"X-Trace\n": "v"}, "not a valid header name"),
    ],
)
async def test_bad_extra_headers_are_refused(
    recorder: Recorder, headers: dict[str, Any], expected: str
) -> None:
    error = await refused(
        recorder,
        lambda c: c.business(BUSINESS).customers.get(CUSTOMER, extra_headers=headers),
    )
    assert expected in str(error)
    assert "extra_headers" in str(error)


def test_bad_default_headers_are_refused_at_construction() -> None:
    with pytest.raises(InvalidRequestError, match="default_headers"):
        AsyncThredfi(
            PARTNER_UUID, API_KEY, base_url=BASE_URL, default_headers={"X-A": "1\r\nX-B: 2"}
        )


# -- options -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "timeout",
    [math.nan, math.inf, -1, 0, "5", httpx.Timeout(math.nan), httpx.Timeout(5, read=-1)],
)
def test_a_timeout_that_is_not_a_positive_finite_number_is_refused(timeout: Any) -> None:
    with pytest.raises(InvalidRequestError, match="timeout"):
        AsyncThredfi(PARTNER_UUID, API_KEY, base_url=BASE_URL, timeout=timeout)


@pytest.mark.asyncio
async def test_a_per_call_nan_timeout_is_refused(recorder: Recorder) -> None:
    error = await refused(
        recorder, lambda c: c.business(BUSINESS).customers.get(CUSTOMER, timeout=math.nan)
    )
    assert "timeout" in str(error)


@pytest.mark.asyncio
async def test_a_call_on_a_closed_client_raises_client_closed_error(recorder: Recorder) -> None:
    client = recorder.client()
    await client.aclose()
    with pytest.raises(ClientClosedError) as caught:
        await client.business(BUSINESS).customers.get(CUSTOMER)
    assert isinstance(caught.value, ThredfiError)
    assert "customers.get" in str(caught.value)
    assert recorder.sent == []


@pytest.mark.asyncio
async def test_a_closed_http_client_that_was_passed_in_is_detected_too(recorder: Recorder) -> None:
    http_client = httpx.AsyncClient(transport=httpx.MockTransport(recorder))
    client = AsyncThredfi(PARTNER_UUID, API_KEY, base_url=BASE_URL, http_client=http_client)
    await http_client.aclose()
    with pytest.raises(ClientClosedError):
        await client.businesses.list().first_page()
