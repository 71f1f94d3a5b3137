"""The chart of accounts, journal entries and reports, computed from the activity."""

from __future__ import annotations

from typing import Any

import pytest

from thredfi_async.testing import FakeThredfi

from ._support import Api, business_client, ok

pytestmark = pytest.mark.anyio

YEAR = {"start_date": "2025-01-01", "end_date": "2025-12-31"}


async def _sale_and_payment(api: Api) -> tuple[str, dict[str, Any]]:
    """One invoice of 100.00 and a payment of 40.00 against it."""
    bid = await api.business_id()
    customer = await api.create(bid, "/customers/", {"company_name": "Acme"})
    invoice = await api.create(
        bid,
        "/invoices/",
        {
            "customer_id": customer["id"],
            "sent_at": "2025-03-01T10:00:00Z",
            "due_at": "2025-03-31T10:00:00Z",
            "line_items": [{"quantity": 1, "unit_price": 10000}],
        },
    )
    await api.pay_invoice(bid, customer["id"], invoice["id"], 4000, payment_date="2025-03-10")
    return bid, invoice


def _line(section: dict[str, Any], code: str) -> int:
    values = [li["value_cents"] for li in section["line_items"] if li["account_code"] == code]
    return sum(values)


async def test_reports_agree_with_one_sale_and_one_payment(api: Api) -> None:
    bid, _ = await _sale_and_payment(api)
    chart = await api.get(bid, "/general-ledger/chart-of-accounts/", page_size=100)
    accounts = {a["code"]: a for a in chart["results"]}
    assert accounts["1100"]["current_balance"] == 6000  # AR 60.00
    assert accounts["4000"]["current_balance"] == 10000  # revenue 100.00
    assert accounts["1000"]["current_balance"] == 4000  # bank 40.00
    assert accounts["1000"]["current_balance_formatted"] == "£40.00"

    sheet = await api.get(
        bid, "/reports/balance-sheet/", as_of_date="2025-12-31", detail_level="detailed"
    )
    summary = sheet["summary"]
    assert summary["total_assets_cents"] == 10000
    assert summary["total_liabilities_cents"] == 0
    assert summary["net_assets_cents"] == summary["total_equity_cents"] == 10000
    assert _line(sheet["current_assets"], "1100") == 6000
    assert _line(sheet["current_assets"], "1000") == 4000
    assert sheet["retained_earnings"]["total_cents"] == 10000

    pnl = await api.get(bid, "/reports/profit-and-loss/", **YEAR)
    assert pnl["summary"]["net_revenue_cents"] == 10000
    assert pnl["summary"]["net_profit_cents"] == 10000
    assert pnl["revenue"]["line_items"] == []  # summary level: totals only

    cash = await api.get(bid, "/reports/cash-flow/", **YEAR, detail_level="detailed")
    assert cash["summary"]["opening_cash_cents"] == 0
    assert cash["summary"]["closing_cash_cents"] == 4000
    assert cash["operating_activities"]["net_profit_cents"] == 10000
    assert cash["operating_activities"]["working_capital_changes"]["total_cents"] == -6000
    assert cash["cash_reconciliation"]["reconciles"] is True

    aging = await api.get(bid, "/insights/ar-aging/", as_of_date="2025-06-15")
    assert aging["total_outstanding_cents"] == 6000
    assert aging["total_aging_buckets"]["days_61_90"] == 6000  # 76 days past due
    assert aging["customers"][0]["customer_name"] == "Acme"


async def test_reports_are_as_of_their_dates(api: Api) -> None:
    bid, _ = await _sale_and_payment(api)
    before_payment = await api.get(bid, "/reports/balance-sheet/", as_of_date="2025-03-05")
    assert before_payment["summary"]["total_current_assets_cents"] == 10000
    before_sale = await api.get(bid, "/reports/balance-sheet/", as_of_date="2025-02-28")
    assert before_sale["summary"]["total_assets_cents"] == 0
    aging = await api.get(bid, "/insights/ar-aging/", as_of_date="2025-03-05")
    assert aging["total_aging_buckets"]["current"] == 10000
    april = await api.get(
        bid, "/reports/cash-flow/", start_date="2025-04-01", end_date="2025-04-30"
    )
    assert april["summary"]["opening_cash_cents"] == april["summary"]["closing_cash_cents"] == 4000
    assert april["summary"]["net_change_in_cash_cents"] == 0


async def test_purchases_refunds_and_fees_keep_the_books_balanced(api: Api) -> None:
    bid, invoice = await _sale_and_payment(api)
    vendor = await api.create(bid, "/vendors/", {"company_name": "Rent Co"})
    bill = await api.create(
        bid,
        "/bills/",
        {
            "vendor_id": vendor["id"],
            "bill_date": "2025-03-02",
            "line_items": [{"unit_price": 3000, "sales_taxes": [{"amount": 600}]}],
        },
    )
    await api.create(
        bid,
        "/bills/payments/",
        {
            "vendor_id": vendor["id"],
            "amount_cents": 2000,
            "processing_fee_cents": 50,
            "payment_method": "bank_transfer",
            "payment_date": "2025-03-03",
            "allocations": [{"bill_id": bill["id"], "amount_cents": 2000}],
        },
    )
    refund = await api.create(
        bid, "/invoices/refunds/", {"invoice_id": invoice["id"], "amount_cents": 1000}
    )
    await api.create(bid, f"/invoices/refunds/{refund['id']}/payments/", {"amount_cents": 400})
    sheet = await api.get(
        bid, "/reports/balance-sheet/", as_of_date="2025-12-31", detail_level="detailed"
    )
    s = sheet["summary"]
    assert s["net_assets_cents"] == s["total_equity_cents"]
    assert (
        s["total_assets_cents"]
        == s["total_non_current_assets_cents"] + s["total_current_assets_cents"]
    )
    assert _line(sheet["current_liabilities"], "2000") == 1600  # AP: 3600 - 2000
    assert _line(sheet["current_liabilities"], "2150") == 600  # refunds payable: 1000 - 400
    assert _line(sheet["current_liabilities"], "2200") == -600  # input VAT reclaimable
    pnl = (await api.get(bid, "/reports/profit-and-loss/", **YEAR))["summary"]
    # revenue 100.00 - refund 10.00; expenses 30.00 rent + 0.50 fee
    assert pnl["net_revenue_cents"] == 9000
    assert pnl["total_operating_expenses_cents"] == 3050
    assert pnl["net_profit_cents"] == 5950
    assert (
        pnl["operating_profit_cents"]
        == pnl["gross_profit_cents"] - pnl["total_operating_expenses_cents"]
    )
    cash = await api.get(bid, "/reports/cash-flow/", **YEAR)
    assert cash["summary"]["closing_cash_cents"] == 4000 - 2050 - 400
    assert cash["cash_reconciliation"]["reconciles"] is True
    ap = await api.get(bid, "/insights/ap-aging/")
    assert ap["total_outstanding_cents"] == 1600
    assert ap["vendors"][0]["vendor_name"] == "Rent Co"
    summary = await api.get(bid, "/insights/financial-summary/", **YEAR, granularity="quarterly")
    assert [t["period_start"] for t in summary["trends"]] == [
        "2025-01-01",
        "2025-04-01",
        "2025-07-01",
        "2025-10-01",
    ]
    # the sale and the bill are in March; the refund is booked today (15 June)
    assert [t["net_profit_cents"] for t in summary["trends"]] == [6950, -1000, 0, 0]
    assert summary["summary"]["net_profit_cents"] == pnl["net_profit_cents"]


async def test_journal_entries_are_posted_and_balanced(api: Api) -> None:
    bid, invoice = await _sale_and_payment(api)
    entries = await api.get(bid, "/general-ledger/journal-entries/")
    assert entries["count"] == 2
    assert all(e["is_balanced"] and e["is_posted"] for e in entries["results"])
    invoice_entry = next(e for e in entries["results"] if e["source_type"] == "invoice")
    detail = await api.get(bid, f"/general-ledger/journal-entries/{invoice_entry['id']}/")
    assert {
        (li["account_code"], li["debit_amount"], li["credit_amount"]) for li in detail["lines"]
    } == {
        ("1100", 10000, 0),
        ("4000", 0, 10000),
    }
    assert detail["accounting_period"]["period_name"] == "March 2025"
    refused = await api.books(bid, "POST", f"/invoices/{invoice['id']}/void/")
    assert refused.status_code == 400  # it has a payment; nothing is posted
    by_account = await api.get(bid, "/general-ledger/journal-entries/", account_id="1000")
    assert by_account["count"] == 1
    assert (await api.get(bid, "/general-ledger/journal-entries/"))["count"] == 2


async def test_void_reverses_the_invoice_entry(api: Api) -> None:
    bid = await api.business_id()
    customer = await api.create(bid, "/customers/", {"company_name": "Acme"})
    invoice = await api.create(
        bid, "/invoices/", {"customer_id": customer["id"], "line_items": [{"unit_price": 2500}]}
    )
    ok(await api.books(bid, "POST", f"/invoices/{invoice['id']}/void/"))
    receivables = await api.get(bid, "/general-ledger/chart-of-accounts/1100/")
    assert receivables["current_balance"] == 0
    assert receivables["total_debits"] == receivables["total_credits"] == 1
    entries = await api.get(bid, "/general-ledger/journal-entries/")
    assert entries["count"] == 2


async def test_chart_of_accounts_rules(api: Api) -> None:
    bid, _ = await _sale_and_payment(api)
    base = "/general-ledger/chart-of-accounts/"
    wrong_subtype = await api.books(
        bid,
        "POST",
        base,
        json={"code": "9000", "name": "X", "account_type": "asset", "account_subtype": "revenue"},
    )
    assert wrong_subtype.status_code == 400
    duplicate = await api.books(
        bid, "POST", base, json={"code": "1000", "name": "X", "account_type": "asset"}
    )
    assert duplicate.status_code == 400
    parent = await api.create(
        bid,
        base,
        {"code": "6500", "name": "Travel", "account_type": "expense", "parent_id": "6000"},
    )
    assert (parent["parent_account_code"], parent["hierarchy_level"]) == ("6000", 1)
    child = await api.create(
        bid, f"{base}{parent['id']}/children/", {"code": "6510", "name": "Rail"}
    )
    assert (child["account_type"], child["account_subtype"], child["hierarchy_level"]) == (
        "expense",
        "operating_expenses",
        2,
    )
    with_balance = await api.books(bid, "DELETE", f"{base}1100/")
    assert with_balance.status_code == 400
    assert with_balance.json()["error_code"] == "account_has_balance"
    with_children = await api.books(bid, "DELETE", f"{base}{parent['id']}/")
    assert with_children.status_code == 400
    assert with_children.json()["error_code"] == "account_has_active_children"
    archived = ok(await api.books(bid, "DELETE", f"{base}6510/"))
    assert archived["is_active"] is False
    ok(await api.books(bid, "DELETE", f"{base}{parent['id']}/"))
    renamed = ok(
        await api.books(bid, "PATCH", f"{base}{parent['id']}/", json={"name": "Travel (old)"})
    )
    assert renamed["name"] == "Travel (old)"
    tree = await api.get(bid, f"{base}hierarchy/")
    assert tree["total_accounts"] == 25
    opex = next(node for node in tree["hierarchy"] if node["code"] == "6000")
    assert [n["code"] for n in opex["sub_accounts"]] == ["6100", "6200", "6500"]


async def test_parent_balances_roll_up_and_period_balances(api: Api) -> None:
    bid, _ = await _sale_and_payment(api)
    fees = await api.books(
        bid,
        "POST",
        "/payouts/",
        json={"external_id": "po-1", "fee_cents": 250, "completed_at": "2025-04-02T00:00:00Z"},
    )
    ok(fees, 201)
    opex = await api.get(bid, "/general-ledger/chart-of-accounts/6000/")
    assert opex["current_balance"] == 250  # from its child 6100
    assert opex["has_children"] is True
    march = await api.get(
        bid,
        "/general-ledger/chart-of-accounts/",
        period_year=2025,
        period_month=3,
        search="accounts receivable",
    )
    assert [(a["code"], a["period_balance"]) for a in march["results"]] == [("1100", 6000)]
    half = await api.books(
        bid, "GET", "/general-ledger/chart-of-accounts/", params={"period_year": 2025}
    )
    assert half.status_code == 400


async def test_ten_thousand_invoices_report_quickly(fake: FakeThredfi) -> None:
    seeded = fake.seed(customers_per_business=100, invoices_per_customer=100)
    bid = seeded.business_ids[0]
    async with business_client(fake, bid) as http:
        sheet = ok(
            await http.get(
                f"/v1/platform/businesses/{bid}/reports/balance-sheet/",
                params={"as_of_date": "2030-01-01"},
            )
        )
    assert sheet["summary"]["net_assets_cents"] == sheet["summary"]["total_equity_cents"]
    assert sheet["summary"]["total_current_assets_cents"] == 10_000 * 10_000
    assert sheet["summary"]["total_equity_cents"] == 10_000 * 10_000
