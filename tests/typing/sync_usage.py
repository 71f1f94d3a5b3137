"""A sync caller's code against the sync client: the same results, pages, errors and views.

Never run; tests/test_typing.py checks it with mypy (strict) and pyright (strict), like the
async files beside it.
"""

from typing import Any, assert_type

from thredfi_async import APIResponse, SyncBusinessView, SyncPage, SyncPaginator, Thredfi
from thredfi_async.models import Customer, Invoice
from thredfi_async.testing import FakeThredfi


def results_are_the_async_clients_models(thredfi: Thredfi, business_id: str) -> None:
    books = thredfi.business(business_id)
    assert_type(books, SyncBusinessView)
    invoice = books.invoices.get("00000000-0000-4000-8000-000000000000")
    assert_type(invoice, Invoice)
    assert_type(invoice.total_amount_cents, int)
    listing = books.invoices.list(customer_id=invoice.business_id)
    assert_type(listing, SyncPaginator[Invoice])
    for listed in listing:
        assert_type(listed, Invoice)
    first = listing.first_page()
    assert_type(first, SyncPage[Invoice])
    assert_type(first.get_next_page().results, list[Invoice])
    assert_type(listing.collect(limit=3), list[Invoice])
    raw = books.customers.with_raw_response.create(body={"company_name": "Globex"})
    assert_type(raw, APIResponse[Customer])
    assert_type(books.frontend_token(), dict[str, Any])


def no_awaiting_and_no_misspelt_keys(thredfi: Thredfi) -> None:
    books = thredfi.business("b")
    books.customers.create(body={"company_nam": "Globex"})  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]
    books.invoices.list().first_page().results.append(1)  # type: ignore[arg-type]  # pyright: ignore[reportArgumentType]


def the_fake_gives_a_sync_client() -> None:
    with FakeThredfi().sync_client() as thredfi:
        assert_type(thredfi, Thredfi)
