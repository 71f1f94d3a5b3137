"""Scenario fixtures: a fresh fake API per test and the public SDK client wired to it.

The client's clock is injected: retry backoff and Retry-After waits are recorded instead of
slept, so scenarios that go through retries stay fast and their waits can be asserted.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio

from thredfi_async import AsyncThredfi, BusinessView, models
from thredfi_async.testing import FakeThredfi

NOW = datetime.datetime(2025, 6, 15, 12, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()


class RecordingClock:
    """The SDK's clock: `sleep` records the wait and moves time on at once, never blocking."""

    def __init__(self, now: float = NOW.timestamp()) -> None:
        self.now = now
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake() -> FakeThredfi:
    # A frozen fake clock keeps dates stable; a handler crash fails the test instead of a 500.
    return FakeThredfi(now=NOW, seed=20250615, raise_server_errors=True)


@pytest.fixture
def clock() -> RecordingClock:
    return RecordingClock()


@pytest_asyncio.fixture
async def thredfi(fake: FakeThredfi, clock: RecordingClock) -> AsyncIterator[AsyncThredfi]:
    client: AsyncThredfi = fake.client(clock=clock)
    async with client:
        yield client


@dataclass
class Receivable:
    """A business with one customer and one invoice, created through the SDK."""

    books: BusinessView
    business_id: str
    customer_id: str
    invoice_id: str


async def create_business(thredfi: AsyncThredfi, external_id: str, **fields: Any) -> str:
    business = await thredfi.businesses.create(
        body={
            "external_id": external_id,
            "legal_name": f"{external_id} Ltd",
            "entity_type": "limited",
            "email": f"owner@{external_id}.example",
            "country": "GB",
            **fields,
        }
    )
    return str(business.id)


async def receivable(
    thredfi: AsyncThredfi, unit_price: int = 10_000, external_id: str = "shop"
) -> Receivable:
    """A business whose one invoice of `unit_price` cents is sent and wholly outstanding."""
    business_id = await create_business(thredfi, external_id)
    books = thredfi.business(business_id)
    customer = await books.customers.create(
        body={"company_name": "Globex", "email": "ap@globex.example"}
    )
    invoice = await books.invoices.create(
        body={
            "customer_id": str(customer.id),
            "sent_at": "2025-06-01T09:00:00Z",
            "due_at": "2025-07-01T09:00:00Z",
            "line_items": [{"description": "Widgets", "quantity": 1, "unit_price": unit_price}],
        }
    )
    return Receivable(books, business_id, str(customer.id), str(invoice.id))


def payment_body(customer_id: str, invoice_id: str, amount_cents: int) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "total_amount_cents": amount_cents,
        "payment_date": TODAY.isoformat(),
        "currency": "GBP",
        "payment_method": "bank_transfer",
        "allocations": [{"invoice_id": invoice_id, "amount_cents": amount_cents}],
    }


def payment_of(created: models.InvoicePaymentCreateResponse) -> models.InvoicePaymentDetail:
    """The payment inside a create or update answer (optional in the spec, present in fact)."""
    payment = created.payment
    assert isinstance(payment, models.InvoicePaymentDetail)
    return payment


def applied_to(
    created: models.InvoicePaymentCreateResponse,
) -> list[models.InvoicePaymentDetailAppliedInvoicesItem]:
    """The invoices a payment was applied to, with each one's status and balance after it."""
    applied = payment_of(created).applied_invoices
    assert isinstance(applied, list)
    return applied
