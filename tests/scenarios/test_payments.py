"""Payments move invoice balances and statuses to the cent; cancel only what may be cancelled."""

from __future__ import annotations

import datetime

import pytest

from thredfi_async import UNSET, AsyncThredfi, BadRequestError, models
from thredfi_async.testing import FakeThredfi

from .conftest import EVERY_WAY, NOW, applied_to, payment_body, payment_of, receivable

pytestmark = [pytest.mark.asyncio, pytest.mark.ways(*EVERY_WAY)]


async def test_payments_take_an_invoice_to_partially_paid_then_paid(
    fake: FakeThredfi, thredfi: AsyncThredfi
) -> None:
    shop = await receivable(thredfi, unit_price=12_345)
    books = shop.books
    invoice = await books.invoices.get(shop.invoice_id)
    assert (invoice.status, invoice.outstanding_amount_cents) == ("SENT", 12_345)

    first = await books.payments.create(body=payment_body(shop.customer_id, shop.invoice_id, 4_321))
    applied = applied_to(first)
    assert [(a.status, a.applied_amount_cents, a.outstanding_amount_cents) for a in applied] == [
        ("PARTIALLY_PAID", 4_321, 8_024)
    ]
    partial = await books.invoices.get(shop.invoice_id)
    assert partial.status == "PARTIALLY_PAID"
    assert partial.outstanding_amount_cents == 8_024
    assert partial.paid_amount_cents == 4_321
    assert partial.paid_at is UNSET  # omitted until the invoice is paid in full

    fake.advance(60)
    second = await books.payments.create(
        body=payment_body(shop.customer_id, shop.invoice_id, 8_024)
    )
    assert applied_to(second)[0].status == "PAID"
    assert applied_to(second)[0].outstanding_amount_cents == 0
    paid = await books.invoices.get(shop.invoice_id)
    assert paid.status == "PAID"
    assert paid.outstanding_amount_cents == 0
    assert paid.paid_amount_cents == 12_345
    assert paid.paid_at == NOW + datetime.timedelta(seconds=60)
    assert isinstance(paid.customer, models.Customer)
    assert paid.customer.outstanding_balance == 0

    # Nothing is left to pay: one cent more is refused and changes nothing.
    with pytest.raises(BadRequestError) as refused:
        await books.payments.create(body=payment_body(shop.customer_id, shop.invoice_id, 1))
    assert refused.value.error_code == "validation_error"
    assert "allocations.0.amount_cents" in refused.value.details
    assert (await books.invoices.get(shop.invoice_id)).outstanding_amount_cents == 0


async def test_cancel_is_refused_on_a_completed_payment(
    fake: FakeThredfi, thredfi: AsyncThredfi
) -> None:
    shop = await receivable(thredfi, unit_price=10_000)
    books = shop.books
    created = await books.payments.create(
        body=payment_body(shop.customer_id, shop.invoice_id, 10_000)
    )
    payment_id = str(payment_of(created).id)
    completed = await books.payments.partial_update(payment_id, body={"status": "completed"})
    assert payment_of(completed).status == "completed"

    with pytest.raises(BadRequestError) as refused:
        await books.payments.delete(payment_id)

    error = refused.value
    assert error.status_code == 400
    assert error.error_code == "invalid_status_transition"
    assert "pending or failed" in error.message
    assert error.details["status"] == ["completed"]
    assert error.request_id == fake.requests.for_operation("delete_invoice_payment")[0].request_id
    assert fake.requests.count("delete_invoice_payment") == 1  # a 400 is never retried
    still = await books.payments.get(payment_id)
    assert still.status == "completed"
    invoice = await books.invoices.get(shop.invoice_id)
    assert (invoice.status, invoice.outstanding_amount_cents) == ("PAID", 0)


async def test_cancel_of_a_pending_payment_reverses_its_allocations(
    fake: FakeThredfi, thredfi: AsyncThredfi
) -> None:
    shop = await receivable(thredfi, unit_price=10_000)
    books = shop.books
    kept = await books.payments.create(body=payment_body(shop.customer_id, shop.invoice_id, 2_500))
    doomed = await books.payments.create(
        body=payment_body(shop.customer_id, shop.invoice_id, 7_500)
    )
    assert payment_of(doomed).status == "pending"
    assert (await books.invoices.get(shop.invoice_id)).status == "PAID"

    cancelled = await books.payments.delete(str(payment_of(doomed).id))

    assert isinstance(cancelled, models.InvoicePaymentDeleteResponse)
    assert (cancelled.status, str(cancelled.payment_id)) == (
        "cancelled",
        str(payment_of(doomed).id),
    )
    restored = await books.invoices.get(shop.invoice_id)
    assert restored.status == "PARTIALLY_PAID"
    assert restored.outstanding_amount_cents == 7_500  # only the kept payment still counts
    assert restored.paid_at is UNSET
    statuses = {str(p.id): p.status for p in await books.payments.list().collect()}
    assert statuses[str(payment_of(kept).id)] == "pending"
    assert statuses[str(payment_of(doomed).id)] == "cancelled"
