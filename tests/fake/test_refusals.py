"""A refused request changes nothing: bad input gets a clear error and loses nothing.

Each test reads what the request could touch (the object, its neighbours, the journal), sends a
request that a late check refuses, and reads it all again.
"""

from __future__ import annotations

from typing import Any

import pytest

from ._support import Api

pytestmark = pytest.mark.anyio

JOURNAL = "/general-ledger/journal-entries/"


async def _refused_unchanged(
    api: Api,
    bid: str,
    method: str,
    path: str,
    body: dict[str, Any],
    watched: list[str],
    *,
    details: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    """Send ``body``, expect a 400 (with ``details``), and find every ``watched`` GET unchanged."""
    before = [await api.get(bid, read) for read in watched]
    response = await api.books(bid, method, path, json=body)
    assert response.status_code == 400, response.text
    answer: dict[str, Any] = response.json()
    if details is not None:
        assert answer["details"] == details
    after = [await api.get(bid, read) for read in watched]
    for read, old, new in zip(watched, before, after, strict=True):
        assert new == old, f"GET {read} changed"
    return answer


async def _customer(api: Api, bid: str, name: str) -> str:
    customer = await api.create(bid, "/customers/", {"company_name": name})
    return str(customer["id"])


async def _invoice(api: Api, bid: str, customer_id: str, amount: int = 10000) -> str:
    body = {"customer_id": customer_id, "line_items": [{"quantity": 1, "unit_price": amount}]}
    return str((await api.create(bid, "/invoices/", body))["id"])


async def _vendor(api: Api, bid: str, name: str) -> str:
    return str((await api.create(bid, "/vendors/", {"company_name": name}))["id"])


async def _bill(api: Api, bid: str, vendor_id: str, amount: int = 20000) -> str:
    body = {
        "vendor_id": vendor_id,
        "bill_date": "2025-05-01",
        "line_items": [{"quantity": 1, "unit_price": amount}],
    }
    return str((await api.create(bid, "/bills/", body))["id"])


# -- payouts ---------------------------------------------------------------------------------


async def test_payout_upsert_refused_for_its_currency_keeps_links_and_fields(api: Api) -> None:
    bid = await api.business_id()
    customer_id = await _customer(api, bid, "Acme")
    invoice_id = await _invoice(api, bid, customer_id)
    first = (await api.pay_invoice(bid, customer_id, invoice_id, 4000))["id"]
    second = (await api.pay_invoice(bid, customer_id, invoice_id, 6000))["id"]
    payout = await api.create(
        bid,
        "/payouts/",
        {
            "external_id": "po-1",
            "payment_ids": [first],
            "paid_out_amount_cents": 4000,
            "fee_cents": 100,
            "memo": "first",
            "currency": "GBP",
        },
    )
    await _refused_unchanged(
        api,
        bid,
        "POST",
        "/payouts/",
        {
            "external_id": "po-1",
            "payment_ids": [second],
            "paid_out_amount_cents": 6000,
            "fee_cents": 300,
            "memo": "second",
            "completed_at": "2025-06-01T00:00:00Z",
            "currency": "USD",
        },
        [
            f"/payouts/{payout['id']}/",
            f"/invoices/payments/{first}/",
            f"/invoices/payments/{second}/",
            JOURNAL,
        ],
        details={"currency": ["Currency must equal the business base currency (GBP)."]},
    )


async def test_new_payout_refused_for_its_currency_links_no_payment(api: Api) -> None:
    bid = await api.business_id()
    customer_id = await _customer(api, bid, "Acme")
    invoice_id = await _invoice(api, bid, customer_id)
    payment = (await api.pay_invoice(bid, customer_id, invoice_id, 4000))["id"]
    await _refused_unchanged(
        api,
        bid,
        "POST",
        "/payouts/",
        {"external_id": "po-2", "payment_ids": [payment], "fee_cents": 50, "currency": "EUR"},
        ["/payouts/", f"/invoices/payments/{payment}/", JOURNAL],
    )


# -- invoices and bills ----------------------------------------------------------------------


async def test_invoice_update_refused_for_a_line_keeps_the_customer(api: Api) -> None:
    bid = await api.business_id()
    old_customer = await _customer(api, bid, "Old Co")
    new_customer = await _customer(api, bid, "New Co")
    invoice_id = await _invoice(api, bid, old_customer)
    await _refused_unchanged(
        api,
        bid,
        "PUT",
        f"/invoices/{invoice_id}/",
        {
            "customer_id": new_customer,
            "memo": "moved",
            "tips": 100,
            "line_items": [{"quantity": 1, "unit_price": 500, "account_identifier": "9999"}],
        },
        [
            f"/invoices/{invoice_id}/",
            f"/customers/{old_customer}/",
            f"/customers/{new_customer}/",
            JOURNAL,
        ],
        details={"line_items.0.account_identifier": ["Ledger account '9999' does not exist."]},
    )


async def test_invoice_update_refused_below_the_paid_amount_keeps_its_lines(api: Api) -> None:
    bid = await api.business_id()
    customer_id = await _customer(api, bid, "Acme")
    invoice_id = await _invoice(api, bid, customer_id)
    await api.pay_invoice(bid, customer_id, invoice_id, 8000)
    answer = await _refused_unchanged(
        api,
        bid,
        "PUT",
        f"/invoices/{invoice_id}/",
        {
            "line_items": [{"quantity": 1, "unit_price": 5000}],
            "memo": "cheaper",
            "invoice_number": "INV-X",
            "external_id": "inv-x",
            "due_at": "2025-07-01T00:00:00Z",
        },
        [f"/invoices/{invoice_id}/", f"/customers/{customer_id}/", JOURNAL],
    )
    assert list(answer["details"]) == ["line_items"]
    assert (await api.get(bid, "/invoices/", external_id="inv-x"))["count"] == 0


async def test_bill_update_refused_for_a_line_keeps_the_vendor(api: Api) -> None:
    bid = await api.business_id()
    old_vendor = await _vendor(api, bid, "Old Co")
    new_vendor = await _vendor(api, bid, "New Co")
    bill_id = await _bill(api, bid, old_vendor)
    await _refused_unchanged(
        api,
        bid,
        "PUT",
        f"/bills/{bill_id}/",
        {
            "vendor_id": new_vendor,
            "memo": "moved",
            "bill_number": "B-2",
            "line_items": [{"quantity": 1, "unit_price": 500, "account_identifier": "9999"}],
        },
        [f"/bills/{bill_id}/", f"/vendors/{old_vendor}/", f"/vendors/{new_vendor}/", JOURNAL],
        details={"line_items.0.account_identifier": ["Ledger account '9999' does not exist."]},
    )


async def test_bill_update_refused_below_the_paid_amount_keeps_its_lines(api: Api) -> None:
    bid = await api.business_id()
    vendor_id = await _vendor(api, bid, "Paper Co")
    bill_id = await _bill(api, bid, vendor_id)
    await api.create(
        bid,
        "/bills/payments/",
        {
            "vendor_id": vendor_id,
            "amount_cents": 15000,
            "payment_method": "bank_transfer",
            "payment_date": "2025-06-01",
            "allocations": [{"bill_id": bill_id, "amount_cents": 15000}],
        },
    )
    answer = await _refused_unchanged(
        api,
        bid,
        "PUT",
        f"/bills/{bill_id}/",
        {
            "line_items": [{"quantity": 1, "unit_price": 100}],
            "memo": "cheaper",
            "external_id": "bill-x",
            "due_at": "2025-07-01T00:00:00Z",
            "reference_numbers": ["R-1"],
        },
        [f"/bills/{bill_id}/", f"/vendors/{vendor_id}/", JOURNAL],
    )
    assert list(answer["details"]) == ["line_items"]
    assert (await api.get(bid, "/bills/", external_id="bill-x"))["count"] == 0


# -- credit notes ----------------------------------------------------------------------------


async def test_customer_credit_update_refused_for_its_allocations_keeps_its_lines(
    api: Api,
) -> None:
    bid = await api.business_id()
    customer_id = await _customer(api, bid, "Acme")
    invoice_id = await _invoice(api, bid, customer_id)
    credit = await api.create(
        bid,
        "/customer-credits/",
        {
            "customer_id": customer_id,
            "line_items": [{"amount": 3000}],
            "allocations": [{"invoice_id": invoice_id, "amount": 2000}],
        },
    )
    await _refused_unchanged(
        api,
        bid,
        "PUT",
        f"/customer-credits/{credit['id']}/",
        {
            "line_items": [{"amount": 1000}],
            "memo": "smaller",
            "external_id": "cc-x",
            "sent_at": "2025-06-01T00:00:00Z",
        },
        [f"/customer-credits/{credit['id']}/", f"/invoices/{invoice_id}/", JOURNAL],
        details={"allocations": ["Allocations exceed the credit total."]},
    )


async def test_vendor_credit_create_refused_creates_no_vendor(api: Api) -> None:
    bid = await api.business_id()
    await _refused_unchanged(
        api,
        bid,
        "POST",
        "/vendor-credits/",
        {
            "vendor_external_id": "ven-new",
            "line_items": [{"amount": 1000}],
            "allocations": [{"bill_id": "00000000-0000-4000-8000-000000000000", "amount": 10}],
        },
        ["/vendors/", "/vendor-credits/", JOURNAL],
    )


@pytest.mark.parametrize(
    ("case", "details"),
    [
        # A new vendor (by an unknown external id) without re-sent allocations.
        ("new_vendor", {"vendor_id": ["Re-send allocations when changing the vendor."]}),
        # Another vendor, whose bills these allocations cannot reach.
        (
            "other_vendor",
            {"allocations.0.bill_id": ["The bill is voided or belongs to another vendor."]},
        ),
        # Lines that no longer cover the allocations.
        ("smaller_lines", {"allocations": ["Allocations exceed the credit total."]}),
    ],
)
async def test_vendor_credit_update_refused_keeps_vendor_and_lines(
    api: Api, case: str, details: dict[str, list[str]]
) -> None:
    bid = await api.business_id()
    vendor_id = await _vendor(api, bid, "Paper Co")
    other_vendor = await _vendor(api, bid, "Ink Co")
    bill_id = await _bill(api, bid, vendor_id)
    credit = await api.create(
        bid,
        "/vendor-credits/",
        {
            "vendor_id": vendor_id,
            "line_items": [{"amount": 3000}],
            "allocations": [{"bill_id": bill_id, "amount": 2000}],
        },
    )
    bodies: dict[str, dict[str, Any]] = {
        "new_vendor": {"vendor_external_id": "ven-new", "line_items": [{"amount": 5000}]},
        "other_vendor": {
            "vendor_id": other_vendor,
            "allocations": [{"bill_id": bill_id, "amount": 1000}],
            "tags": [{"name": "q3"}],
        },
        "smaller_lines": {
            "line_items": [{"amount": 500}],
            "external_id": "vc-x",
            "source_bill_id": bill_id,
        },
    }
    await _refused_unchanged(
        api,
        bid,
        "PUT",
        f"/vendor-credits/{credit['id']}/",
        bodies[case],
        ["/vendors/", f"/vendor-credits/{credit['id']}/", f"/bills/{bill_id}/", JOURNAL],
        details=details,
    )


# -- vendor refunds --------------------------------------------------------------------------


async def test_vendor_refund_payment_refused_for_its_date_leaves_no_refund(api: Api) -> None:
    bid = await api.business_id()
    vendor_id = await _vendor(api, bid, "Paper Co")
    await _refused_unchanged(
        api,
        bid,
        "POST",
        "/vendor-refunds/payments/",
        {
            "vendor_id": vendor_id,
            "total_amount_cents": 1000,
            "external_id": "vrp-x",
            "payment_date": "not-a-date",
        },
        ["/vendor-refunds/", "/vendor-refunds/payments/", JOURNAL],
        details={"payment_date": ["Date has wrong format. Use YYYY-MM-DD."]},
    )


# -- chart of accounts -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "1019", "name": "Renamed", "account_subtype": "revenue"}, "account_subtype"),
        ({"code": "1019", "name": "Renamed", "parent_id": "1011"}, "parent_id"),
        ({"code": "1019", "parent_id": "1500", "external_id": "equipment"}, "external_id"),
        ({"code": "1019", "external_id": "acc-new", "is_non_cash_expense": True}, "is_non_cash"),
    ],
)
async def test_account_update_refused_by_a_later_check_keeps_the_account(
    api: Api, body: dict[str, Any], field: str
) -> None:
    bid = await api.business_id()
    path = "/general-ledger/chart-of-accounts/"
    savings = await api.create(
        bid,
        path,
        {
            "code": "1010",
            "name": "Savings",
            "account_type": "asset",
            "account_subtype": "current_assets",
            "external_id": "acc-savings",
        },
    )
    child = await api.create(
        bid, f"{path}{savings['id']}/children/", {"code": "1011", "name": "Savings Sub"}
    )
    await api.books(bid, "PATCH", f"{path}1500/", json={"external_id": "equipment"})
    account = f"{path}{savings['id']}/"
    watched = [account, f"{path}{child['id']}/", f"{path}1500/", f"{path}hierarchy/"]
    answer = await _refused_unchanged(api, bid, "PATCH", account, body, watched)
    assert next(iter(answer["details"])).startswith(field), answer
    assert (await api.books(bid, "GET", f"{path}1019/")).status_code == 404
