"""Every key the fake answers with is a field some generated model declares.

The fake serves the SDK's own spec, so a key no model declares means codegen/patches.yaml has
not declared a field the API returns, or the fake invented one (docs/api-behaviour.md lists the
fields declared on inference rather than on a docs page). Two passes look: the scenario suite,
run in process with every model parse recorded, and a walk over every read operation of a
seeded fake, where lists hold records the scenarios never build (paid invoices, nested
accounts, bank accounts with statistics).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from thredfi_async import AsyncThredfi, models
from thredfi_async.testing import FakeThredfi

from ._undeclared import UndeclaredKeys, declared_maps
from .conftest import BASE_URL

SCENARIOS = Path(__file__).parent / "scenarios"
NOW = datetime.datetime(2025, 6, 15, 12, 0, tzinfo=datetime.UTC)
START, END = datetime.date(2025, 1, 1), datetime.date(2025, 12, 31)


class _InProcessOnly:
    """Keeps the scenarios' in-process runs: over sockets the same bodies parse the same way."""

    def __init__(self) -> None:
        self.passed: list[str] = []
        self.failed: list[str] = []

    def pytest_collection_modifyitems(self, config: Any, items: list[Any]) -> None:
        keep: list[Any] = []
        drop: list[Any] = []
        for item in items:
            params = getattr(getattr(item, "callspec", None), "params", {})
            over_sockets = params.get("transport", "in_process") != "in_process"
            (drop if over_sockets or "python_m" in item.name else keep).append(item)
        items[:] = keep
        config.hook.pytest_deselected(items=drop)

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.when == "call":
            (self.passed if report.passed else self.failed).append(report.nodeid)


def test_the_scenario_suite_meets_no_undeclared_key(monkeypatch: pytest.MonkeyPatch) -> None:
    census = UndeclaredKeys()
    census.install(monkeypatch)
    session = _InProcessOnly()
    code = pytest.main(
        [str(SCENARIOS), "-q", "-p", "no:cacheprovider", "-p", "no:randomly"], plugins=[session]
    )
    assert code == pytest.ExitCode.OK, session.failed
    assert any("test_every_operation" in nodeid for nodeid in session.passed)
    assert len(session.passed) >= 30, session.passed
    assert census.parsed > 1000
    assert not census.found, "undeclared keys:\n" + census.report()


async def _every_page(paginator: Any) -> list[Any]:
    return [item async for item in paginator]


@pytest.mark.asyncio
async def test_every_read_of_seeded_books_meets_no_undeclared_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    census = UndeclaredKeys()
    census.install(monkeypatch)
    fake = FakeThredfi(now=NOW, seed=99, raise_server_errors=True)
    seeded = fake.seed(
        customers_per_business=3,
        invoices_per_customer=3,
        line_items_per_invoice=2,
        payments_per_invoice=2,
        vendors_per_business=2,
        bills_per_vendor=2,
        bank_accounts_per_business=2,
        transactions_per_bank_account=3,
    )[0]
    async with fake.client() as thredfi:
        books = thredfi.business(seeded.business_id)
        # A document's file travels in the JSON body as a string, as the docs' example sends it.
        with_file = await books.customers.create(
            body={
                "company_name": "Filed Ltd",
                "document": {"file": "contract.pdf", "document_type": "customer_document"},
            }
        )
        await books.vendors.create(
            body={
                "company_name": "Filed Supplies",
                "document": {"file": "contract.pdf", "document_type": "vendor_document"},
            }
        )
        await _every_page(thredfi.businesses.list())
        await books.businesses.get()
        for customer in await _every_page(books.customers.list()):
            await books.customers.get(customer.id)
        for invoice in await _every_page(books.invoices.list()):
            await books.invoices.get(invoice.id)
        for payment in await _every_page(books.payments.list()):
            await books.payments.get(payment.id)
        for vendor in await _every_page(books.vendors.list()):
            await books.vendors.get(vendor.id)
        for bill in await _every_page(books.bills.list()):
            await books.bills.get(bill.id)
        for account in await _every_page(books.accounts.list()):
            await books.accounts.get(account.id)
            await _every_page(
                books.accounts.list_entries(account.id, start_date=START, end_date=END)
            )
        await books.accounts.get_hierarchy()
        for entry in await _every_page(books.journal_entries.list()):
            await books.journal_entries.get(entry.id)
        for bank_account in await _every_page(books.bank_accounts.list()):
            await books.bank_accounts.get(bank_account.id)
        await _every_page(books.bank_transactions.list())
        await books.reports.get_ar_aging()
        await books.reports.get_ap_aging()
        await books.reports.get_balance_sheet(as_of_date=NOW.date(), detail_level="detailed")
        await books.reports.get_profit_and_loss(
            detail_level="detailed", start_date=START, end_date=END
        )
        await books.reports.get_cash_flow_statement(
            detail_level="detailed", start_date=START, end_date=END
        )
        await books.reports.get_financial_summary(
            granularity="monthly", start_date=START, end_date=END
        )
    assert fake.server_errors == []
    assert with_file.documents, "the document pass needs a record with a document"
    assert census.parsed > 500
    assert not census.found, "undeclared keys:\n" + census.report()


@pytest.mark.asyncio
async def test_the_census_finds_an_undeclared_key_at_any_depth(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    census = UndeclaredKeys()
    census.install(monkeypatch)
    invoice = {
        "id": "6f1c2f7e-3b1e-4f5e-9a55-0c4e8d1f2a3b",
        "customer": {"id": "0b5f6c1e-9a43-4a8e-8a2d-4f7b2c1d9e01", "loyalty_tier": "gold"},
        "surcharge_cents": 250,
    }

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/token/"):
            return httpx.Response(200, json={"access_token": "t", "expires_in": 3600})
        return httpx.Response(200, json={"count": 1, "results": [invoice]})

    client = AsyncThredfi(
        "0b5f6c1e-9a43-4a8e-8a2d-4f7b2c1d9e01",
        "sk_test",
        base_url=BASE_URL,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(answer)),
    )
    async with client:
        page = await client.business(str(invoice["id"])).invoices.list()
    assert isinstance(page.results[0], models.Invoice)
    assert census.found == {
        "Invoice": {"surcharge_cents": 250},
        "Customer": {"loyalty_tier": "gold"},
    }


def test_maps_keyed_by_data_are_the_only_models_exempt() -> None:
    assert declared_maps() == {
        "FieldErrors",
        "MenuConfigSubMenuTabs",
        "MenuConfigRequestSubMenuTabs",
        "BankAccountStatisticsByStatus",
        "BankAccountStatisticsByProvider",
        "BankAccountStatisticsByCurrency",
    }
