"""The seeder writes straight into the state, consistently with the API, and fast."""

from __future__ import annotations

import time

import pytest

from thredfi_async.testing import FakeThredfi

from ._support import business_client, ok

pytestmark = pytest.mark.anyio


def test_seed_returns_the_ids_it_created(fake: FakeThredfi) -> None:
    result = fake.seed(
        2,
        customers_per_business=3,
        invoices_per_customer=2,
        payments_per_invoice=1,
        vendors_per_business=2,
        bills_per_vendor=2,
        bank_accounts_per_business=1,
        transactions_per_bank_account=4,
    )
    assert len(result) == 2
    assert len(result.business_ids) == 2
    assert len(result.customer_ids) == 6
    assert len(result.invoice_ids) == 12
    assert len(result.payment_ids) == 12
    assert len(result.vendor_ids) == 4
    assert len(result.bill_ids) == 8
    assert len(result.bank_transaction_ids) == 8
    assert len(result[1].invoice_ids) == 6
    books = fake.books(result.business_ids[0])
    assert all(books.invoices[i].status == "PAID" for i in result[0].invoice_ids)


def test_seed_into_an_existing_business(fake: FakeThredfi) -> None:
    first = fake.seed()
    bid = first.business_ids[0]
    more = fake.seed(business_id=bid, customers_per_business=2, invoices_per_customer=1)
    assert more.business_ids == [bid]
    assert len(fake.books(bid).invoices) == 2
    assert fake.business_ids == [bid]


def test_seeding_is_reproducible_with_a_seed() -> None:
    one = FakeThredfi(seed=7).seed(customers_per_business=2, invoices_per_customer=2)
    two = FakeThredfi(seed=7).seed(customers_per_business=2, invoices_per_customer=2)
    assert one.invoice_ids == two.invoice_ids


def test_ten_thousand_invoices_seed_in_well_under_a_few_seconds() -> None:
    fake = FakeThredfi(seed=1)
    started = time.perf_counter()
    result = fake.seed(customers_per_business=100, invoices_per_customer=100)
    elapsed = time.perf_counter() - started
    assert len(result.invoice_ids) == 10_000
    assert elapsed < 3.0, f"seeding took {elapsed:.2f}s"


async def test_paging_through_ten_thousand_seeded_invoices() -> None:
    fake = FakeThredfi(seed=1)
    result = fake.seed(customers_per_business=100, invoices_per_customer=100)
    bid = result.business_ids[0]
    seen: list[str] = []
    started = time.perf_counter()
    async with business_client(fake, bid) as http:
        page = 1
        while True:
            body = ok(
                await http.get(
                    f"/v1/platform/businesses/{bid}/invoices/",
                    params={"page": page, "page_size": 100},
                )
            )
            seen.extend(invoice["id"] for invoice in body["results"])
            if page >= body["page_info"]["total_pages"]:
                break
            page += 1
    elapsed = time.perf_counter() - started
    assert seen == result.invoice_ids
    assert elapsed < 10.0, f"paging took {elapsed:.2f}s"


async def test_seeded_data_is_consistent_with_the_reports(fake: FakeThredfi) -> None:
    result = fake.seed(customers_per_business=4, invoices_per_customer=5, unit_price_cents=2500)
    bid = result.business_ids[0]
    async with business_client(fake, bid) as http:
        aging = ok(await http.get(f"/v1/platform/businesses/{bid}/insights/ar-aging/"))
        receivables = ok(
            await http.get(f"/v1/platform/businesses/{bid}/general-ledger/chart-of-accounts/1100/")
        )
        transactions = ok(await http.get(f"/v1/platform/businesses/{bid}/bank-transactions/"))
    assert aging["total_outstanding_cents"] == 20 * 2500 == receivables["current_balance"]
    assert len(aging["customers"]) == 4
    assert transactions["count"] == 0
