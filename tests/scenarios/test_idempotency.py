"""Retried creates never duplicate: Idempotency-Key replays and external_id creates
(docs/api-behaviour.md, "Idempotency and deduplication").

A fault with `after_processing=True` applies the change and then loses the response, the one
failure where a naive retry would create the object twice.
"""

from __future__ import annotations

import pytest

from thredfi_async import AsyncThredfi, models
from thredfi_async.bodies import CreateBusinessRequestDict, InvoiceCreateRequestDict
from thredfi_async.testing import FakeThredfi, RecordingClock

from .conftest import EVERY_WAY, payment_body, payment_of, receivable

pytestmark = [pytest.mark.asyncio, pytest.mark.ways(*EVERY_WAY)]


async def test_payment_retried_after_a_lost_response_is_recorded_once(
    fake: FakeThredfi, thredfi: AsyncThredfi, clock: RecordingClock
) -> None:
    shop = await receivable(thredfi, unit_price=10_000)
    fake.faults.fail(503, after_processing=True, operation_id="create_invoice_payment")

    created = await shop.books.payments.create(
        body=payment_body(shop.customer_id, shop.invoice_id, 2_500)
    )

    assert isinstance(created, models.InvoicePaymentCreateResponse)
    assert payment_of(created).total_amount_cents == 2_500
    payments = await shop.books.payments.list().collect()
    assert [str(p.id) for p in payments] == [str(payment_of(created).id)]
    invoice = await shop.books.invoices.get(shop.invoice_id)
    assert invoice.outstanding_amount_cents == 7_500  # moved once, not twice
    assert invoice.status == "PARTIALLY_PAID"
    assert len(clock.sleeps) == 1  # one backoff, before the one retry

    # Both attempts carried the same key; the fake saw it twice and replayed the second time.
    attempts = fake.requests.for_operation("create_invoice_payment")
    assert [(a.status, a.replayed) for a in attempts] == [(503, False), (200, True)]
    keys = {a.idempotency_key for a in attempts}
    assert len(keys) == 1
    assert None not in keys
    assert payment_of(created).idempotency_key == attempts[0].idempotency_key


async def test_two_calls_are_two_payments_each_with_its_own_key(
    fake: FakeThredfi, thredfi: AsyncThredfi
) -> None:
    """The key is per logical call, not per client: a second create is a second payment."""
    shop = await receivable(thredfi, unit_price=10_000)
    body = payment_body(shop.customer_id, shop.invoice_id, 1_000)
    await shop.books.payments.create(body=body)
    await shop.books.payments.create(body=body)

    attempts = fake.requests.for_operation("create_invoice_payment")
    assert [a.status for a in attempts] == [201, 201]
    assert attempts[0].idempotency_key != attempts[1].idempotency_key
    assert len(await shop.books.payments.list().collect()) == 2
    invoice = await shop.books.invoices.get(shop.invoice_id)
    assert invoice.outstanding_amount_cents == 8_000


async def test_caller_key_is_sent_on_every_attempt_and_replays_later_calls(
    fake: FakeThredfi, thredfi: AsyncThredfi
) -> None:
    shop = await receivable(thredfi, unit_price=10_000)
    body = payment_body(shop.customer_id, shop.invoice_id, 3_000)
    fake.faults.fail(502, after_processing=True, operation_id="create_invoice_payment")

    first = await shop.books.payments.create(body=body, idempotency_key="order-42-payment")
    again = await shop.books.payments.with_raw_response.create(
        body=body, idempotency_key="order-42-payment"
    )

    assert again.status_code == 200
    assert str(payment_of(again.parsed).id) == str(payment_of(first).id)
    attempts = fake.requests.for_operation("create_invoice_payment")
    assert [a.idempotency_key for a in attempts] == ["order-42-payment"] * 3
    assert [a.status for a in attempts] == [502, 200, 200]
    assert len(await shop.books.payments.list().collect()) == 1
    invoice = await shop.books.invoices.get(shop.invoice_id)
    assert invoice.outstanding_amount_cents == 7_000


async def test_invoice_with_external_id_retried_after_a_lost_response_is_the_same_invoice(
    fake: FakeThredfi, thredfi: AsyncThredfi
) -> None:
    shop = await receivable(thredfi)
    body: InvoiceCreateRequestDict = {
        "external_id": "order-1001",
        "customer_id": shop.customer_id,
        "line_items": [{"description": "Gadget", "quantity": 2, "unit_price": 1_250}],
    }
    fake.faults.fail(503, after_processing=True, operation_id="create_invoice")

    retried = await shop.books.invoices.with_raw_response.create(body=body)

    attempts = fake.requests.for_operation("create_invoice")
    assert [a.status for a in attempts] == [201, 503, 200]  # the receivable's, then ours
    assert attempts[-1].idempotency_key == attempts[-2].idempotency_key
    assert retried.status_code == 200  # the existing invoice, not a new one
    invoice = retried.parsed
    assert isinstance(invoice, models.Invoice)
    assert invoice.external_id == "order-1001"
    assert invoice.total_amount_cents == 2_500

    listed = await shop.books.invoices.list().collect()
    matching = [i for i in listed if i.external_id == "order-1001"]
    assert [str(i.id) for i in matching] == [str(invoice.id)]
    assert len(listed) == 2  # the receivable's own invoice and this one

    again = await shop.books.invoices.with_raw_response.create(body=body)
    assert (again.status_code, str(again.parsed.id)) == (200, str(invoice.id))


async def test_business_with_external_id_retried_after_a_lost_response_is_the_same_business(
    fake: FakeThredfi, thredfi: AsyncThredfi
) -> None:
    body: CreateBusinessRequestDict = {
        "external_id": "merchant-7",
        "legal_name": "Seven Ltd",
        "entity_type": "limited",
        "email": "owner@seven.example",
        "country": "GB",
    }
    fake.faults.fail(500, after_processing=True, operation_id="create_business")

    retried = await thredfi.businesses.with_raw_response.create(body=body)

    attempts = fake.requests.for_operation("create_business")
    assert [a.status for a in attempts] == [500, 200]
    assert attempts[0].idempotency_key is not None
    assert attempts[0].idempotency_key == attempts[1].idempotency_key
    assert retried.status_code == 200
    assert isinstance(retried.parsed, models.Business)
    assert retried.parsed.external_id == "merchant-7"
    businesses = await thredfi.businesses.list().collect()
    assert [str(b.id) for b in businesses] == [str(retried.parsed.id)]
    assert fake.business_ids == [str(retried.parsed.id)]
