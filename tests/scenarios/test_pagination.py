"""`async for` walks every page of a listing the fake serves, in either documented envelope,
on the async client and on the sync one (`for`, through tests/_sync_adapter.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from thredfi_async import AsyncThredfi, Page, models
from thredfi_async.testing import FakeThredfi, RecordingClock

from .conftest import NOW, sync_client

pytestmark = [pytest.mark.asyncio, pytest.mark.ways("in_process", "sync")]

INVOICES = 250


@pytest.fixture(params=["page_info", "next"])
def envelope_fake(request: pytest.FixtureRequest) -> FakeThredfi:
    return FakeThredfi(envelope=request.param, now=NOW, seed=7, raise_server_errors=True)


@pytest_asyncio.fixture
async def client(
    envelope_fake: FakeThredfi, clock: RecordingClock, transport: str
) -> AsyncIterator[AsyncThredfi]:
    if transport == "sync":
        thredfi = sync_client(envelope_fake, transport, clock=clock)
    else:
        thredfi = envelope_fake.client(clock=clock)
    async with thredfi:
        yield thredfi


def customer_of(invoice: models.Invoice) -> str:
    assert isinstance(invoice.customer, models.Customer)
    return str(invoice.customer.id)


def seeded(fake: FakeThredfi) -> tuple[str, set[str]]:
    seed = fake.seed(customers_per_business=5, invoices_per_customer=INVOICES // 5)
    assert len(seed.invoice_ids) == INVOICES
    return seed.business_ids[0], set(seed.invoice_ids)


@pytest.mark.parametrize("prefetch", [0, 2])
async def test_async_for_yields_every_invoice_in_three_requests(
    envelope_fake: FakeThredfi, client: AsyncThredfi, prefetch: int
) -> None:
    fake = envelope_fake
    business_id, invoice_ids = seeded(fake)

    seen: list[str] = []
    async for invoice in client.business(business_id).invoices.list(prefetch=prefetch):
        assert isinstance(invoice, models.Invoice)
        seen.append(str(invoice.id))

    assert len(seen) == INVOICES
    assert set(seen) == invoice_ids  # every one, none twice
    pages = fake.requests.for_operation("list_invoices")
    assert len(pages) == 3
    assert [r.status for r in pages] == [200, 200, 200]
    # Iteration asks for the API maximum (100) per page; every page keeps that size.
    assert [r.query.get("page_size") for r in pages] == ["100", "100", "100"]
    assert [r.query.get("page", "1") for r in pages] == ["1", "2", "3"]


async def test_pages_are_100_100_50_and_filters_apply_to_every_page(
    envelope_fake: FakeThredfi, client: AsyncThredfi
) -> None:
    fake = envelope_fake
    seed = fake.seed(customers_per_business=5, invoices_per_customer=INVOICES // 5)
    books = client.business(seed.business_ids[0])

    sizes = [len(page) async for page in books.invoices.list().pages()]
    assert sizes == [100, 100, 50]

    first = await books.invoices.list(page_size=100)
    assert isinstance(first, Page)
    assert first.count == INVOICES
    assert first.has_next_page()

    customer_id = seed.customer_ids[0]
    before = fake.requests.count("list_invoices")
    theirs = await books.invoices.list(customer_id=customer_id, page_size=20).collect()
    assert len(theirs) == INVOICES // 5
    assert {customer_of(i) for i in theirs} == {customer_id}
    filtered = fake.requests.for_operation("list_invoices")[before:]
    assert [(r.query.get("page", "1"), r.query.get("page_size")) for r in filtered] == [
        ("1", "20"),
        ("2", "20"),
        ("3", "20"),
    ]
    assert {r.query.get("customer_id") for r in filtered} == {customer_id}


async def test_collect_with_a_limit_stops_early(
    envelope_fake: FakeThredfi, client: AsyncThredfi
) -> None:
    fake = envelope_fake
    business_id, _ = seeded(fake)
    before = fake.requests.count("list_invoices")

    some = await client.business(business_id).invoices.list().collect(limit=150)

    assert len(some) == 150
    assert len({str(i.id) for i in some}) == 150
    assert fake.requests.count("list_invoices") - before == 2
