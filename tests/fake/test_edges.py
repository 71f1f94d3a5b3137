"""Valid requests at the edges that used to crash the fake (found by Schemathesis)."""

from __future__ import annotations

import pytest

from ._support import Api, invoice_payment, ok

pytestmark = pytest.mark.anyio


async def test_posting_still_works_after_a_provisioned_accounts_code_changes(api: Api) -> None:
    """The fees account (6100) renamed by a client: a payment with a fee still posts to it."""
    bid = await api.business_id()
    ok(
        await api.books(
            bid, "PATCH", "/general-ledger/chart-of-accounts/6100/", json={"code": "6199"}
        )
    )
    customer = await api.create(bid, "/customers/", {"company_name": "Acme Ltd"})
    invoice = await api.create(
        bid,
        "/invoices/",
        {"customer_id": customer["id"], "line_items": [{"quantity": 1, "unit_price": 10_000}]},
    )
    body = invoice_payment(customer["id"], invoice["id"], 10_000, processing_fee_cents=250)
    await api.create(bid, "/invoices/payments/", body)
    fees = await api.get(bid, "/general-ledger/chart-of-accounts/6199/")
    assert fees["current_balance"] == 250


async def test_a_cash_flow_from_the_first_day_of_year_1_has_no_opening_cash(api: Api) -> None:
    bid = await api.business_id()
    report = await api.get(
        bid, "/reports/cash-flow/", start_date="0001-01-01", end_date="0001-01-31"
    )
    assert report["summary"]["opening_cash_cents"] == 0


async def test_a_financial_summary_may_end_on_the_last_day_of_year_9999(api: Api) -> None:
    bid = await api.business_id()
    summary = await api.get(
        bid,
        "/insights/financial-summary/",
        start_date="9999-11-15",
        end_date="9999-12-31",
        granularity="quarterly",
    )
    assert [(t["period_start"], t["period_end"]) for t in summary["trends"]] == [
        ("9999-11-15", "9999-12-31")
    ]
