"""Vendors, bills, bill payments, vendor credits and vendor refunds, as their docs.thredfi.com
API reference pages describe them."""

from __future__ import annotations

from typing import Any

import pytest

from ._support import Api, ok

pytestmark = pytest.mark.anyio


async def _vendor_and_bill(api: Api, amount: int = 20000) -> tuple[str, str, dict[str, Any]]:
    bid = await api.business_id()
    vendor = await api.create(bid, "/vendors/", {"company_name": "Paper Co"})
    bill = await api.create(
        bid,
        "/bills/",
        {
            "vendor_id": vendor["id"],
            "bill_number": "B-100",
            "bill_date": "2025-05-01",
            "due_at": "2025-05-31T00:00:00Z",
            "line_items": [{"quantity": 1, "unit_price": amount}],
        },
    )
    return bid, vendor["id"], bill


def _payment(vendor_id: str, bill_id: str, amount: int, **extra: Any) -> dict[str, Any]:
    return {
        "vendor_id": vendor_id,
        "amount_cents": amount,
        "payment_method": "bank_transfer",
        "payment_date": "2025-06-01",
        "allocations": [{"bill_id": bill_id, "amount_cents": amount}],
        **extra,
    }


async def test_vendors_need_a_name_and_archive_like_customers(api: Api) -> None:
    bid = await api.business_id()
    nameless = await api.books(bid, "POST", "/vendors/", json={"email": "x@y.example"})
    assert nameless.status_code == 400
    vendor = await api.create(bid, "/vendors/", {"individual_name": "Sam"})
    assert (vendor["type"], vendor["status"], vendor["mobile_phone"]) == (
        "VendorData",
        "ACTIVE",
        "",
    )
    archived = ok(await api.books(bid, "POST", f"/vendors/{vendor['id']}/archive/"))
    assert archived["status"] == "ARCHIVED"
    assert (await api.get(bid, "/vendors/"))["count"] == 0
    assert (await api.get(bid, "/vendors/", include_archived=True))["count"] == 1
    ok(
        await api.books(
            bid, "POST", f"/vendors/{vendor['id']}/unarchive/", json={"email": "s@x.example"}
        )
    )
    listed = await api.get(bid, "/vendors/", name_contains="SA")
    assert [v["email"] for v in listed["results"]] == ["s@x.example"]


async def test_bill_totals_and_payments(api: Api) -> None:
    bid, vendor_id, bill = await _vendor_and_bill(api)
    assert (bill["status"], bill["total_amount_cents"]) == ("OPEN", 20000)
    assert bill["line_items"][0]["total_amount"] == 200.0
    assert bill["is_overdue"] is True  # due 2025-05-31, the fake's clock says 2025-06-15
    payment = await api.create(bid, "/bills/payments/", _payment(vendor_id, bill["id"], 5000))
    assert payment["status"] == "pending"
    assert payment["allocations"][0]["bill_status"] == "PARTIALLY_PAID"
    partly = await api.get(bid, f"/bills/{bill['id']}/")
    assert partly["outstanding_amount_cents"] == 15000
    assert partly["bill_payment_allocations"][0]["amount_cents"] == 5000
    await api.create(bid, "/bills/payments/", _payment(vendor_id, bill["id"], 15000))
    paid = await api.get(bid, f"/bills/{bill['id']}/")
    assert (paid["status"], paid["outstanding_amount_cents"]) == ("PAID", 0)
    assert paid["paid_at"] == "2025-06-15T12:00:00.000000Z"


async def test_bill_payment_rules(api: Api) -> None:
    bid, vendor_id, bill = await _vendor_and_bill(api)
    over = await api.books(
        bid, "POST", "/bills/payments/", json=_payment(vendor_id, bill["id"], 20001)
    )
    assert over.status_code == 400
    cheque = await api.books(
        bid,
        "POST",
        "/bills/payments/",
        json=_payment(vendor_id, bill["id"], 100, payment_method="check"),
    )
    assert cheque.status_code == 400
    assert "check_number" in cheque.json()["details"]
    euros = await api.books(
        bid, "POST", "/bills/payments/", json=_payment(vendor_id, bill["id"], 100, currency="EUR")
    )
    assert euros.status_code == 400


async def test_bill_payment_state_machine(api: Api) -> None:
    bid, vendor_id, bill = await _vendor_and_bill(api)
    payment = await api.create(bid, "/bills/payments/", _payment(vendor_id, bill["id"], 1000))
    path = f"/bills/payments/{payment['id']}/"
    no_reason = await api.books(bid, "PATCH", path, json={"status": "failed"})
    assert no_reason.status_code == 400
    assert "failure_reason" in no_reason.json()["details"]
    processing = ok(await api.books(bid, "PATCH", path, json={"status": "processing"}))
    assert processing["submitted_at"] == "2025-06-15T12:00:00.000000Z"
    backwards = await api.books(bid, "PATCH", path, json={"status": "pending"})
    assert backwards.status_code == 400
    assert backwards.json()["error_code"] == "invalid_status_transition"
    failed = ok(
        await api.books(bid, "PATCH", path, json={"status": "failed", "failure_reason": "NSF"})
    )
    assert failed["failed_at"] == "2025-06-15T12:00:00.000000Z"
    final = await api.books(bid, "PATCH", path, json={"status": "completed"})
    assert final.status_code == 400
    cancelled = ok(await api.books(bid, "POST", f"{path}delete/"))  # failed may still be cancelled
    assert cancelled["status"] == "cancelled"
    assert (await api.get(bid, f"/bills/{bill['id']}/"))["outstanding_amount_cents"] == 20000


async def test_completed_bill_payment_cannot_be_cancelled(api: Api) -> None:
    bid, vendor_id, bill = await _vendor_and_bill(api)
    payment = await api.create(bid, "/bills/payments/", _payment(vendor_id, bill["id"], 1000))
    path = f"/bills/payments/{payment['id']}/"
    ok(await api.books(bid, "PATCH", path, json={"status": "completed"}))
    refused = await api.books(bid, "POST", f"{path}delete/")
    assert refused.status_code == 400
    assert refused.json()["error_code"] == "invalid_status_transition"


async def test_void_bill_keeps_its_allocations(api: Api) -> None:
    bid, vendor_id, bill = await _vendor_and_bill(api)
    await api.create(bid, "/bills/payments/", _payment(vendor_id, bill["id"], 5000))
    voided = ok(await api.books(bid, "POST", f"/bills/{bill['id']}/void/"))
    assert voided["status"] == "VOIDED"
    assert voided["voided_at"] == "2025-06-15T12:00:00.000000Z"
    assert voided["bill_payment_allocations"][0]["amount_cents"] == 5000
    update = await api.books(bid, "PUT", f"/bills/{bill['id']}/", json={"memo": "x"})
    assert update.status_code == 400


async def test_bill_update_replaces_lines_only_when_sent(api: Api) -> None:
    bid, _, bill = await _vendor_and_bill(api)
    kept = ok(await api.books(bid, "PUT", f"/bills/{bill['id']}/", json={"bill_terms": "net 30"}))
    assert (kept["terms"], kept["total_amount_cents"]) == ("net 30", 20000)
    replaced = ok(
        await api.books(
            bid,
            "PUT",
            f"/bills/{bill['id']}/",
            json={
                "line_items": [
                    {"quantity": 2, "unit_price": 1000, "sales_taxes": [{"tax_rate": 20}]},
                ]
            },
        )
    )
    assert replaced["total_amount_cents"] == 2400
    assert replaced["line_items"][0]["tax_rate"] == 20


async def test_vendor_credit_lowers_the_bill_and_soft_deletes(api: Api) -> None:
    bid, vendor_id, bill = await _vendor_and_bill(api)
    credit = await api.create(
        bid,
        "/vendor-credits/",
        {
            "vendor_id": vendor_id,
            "line_items": [{"amount": 3000}],
            "allocations": [{"bill_id": bill["id"], "amount": 2000}],
        },
    )
    assert credit["status"] == "partially_applied"
    assert credit["allocations"][0]["bill_outstanding_balance_cents"] == 18000
    deleted = await api.books(bid, "DELETE", f"/vendor-credits/{credit['id']}/")
    assert deleted.status_code == 204
    assert (await api.get(bid, f"/bills/{bill['id']}/"))["outstanding_amount_cents"] == 20000
    assert (await api.get(bid, "/vendor-credits/"))["count"] == 0


async def test_vendor_credit_creates_an_unknown_vendor_on_the_fly(api: Api) -> None:
    bid = await api.business_id()
    credit = await api.create(
        bid, "/vendor-credits/", {"vendor_external_id": "ven-99", "line_items": [{"amount": 100}]}
    )
    vendors = await api.get(bid, "/vendors/", external_id="ven-99")
    assert vendors["results"][0]["id"] == credit["vendor"]["id"]


async def test_vendor_refund_with_payments_and_soft_delete(api: Api) -> None:
    bid, vendor_id, bill = await _vendor_and_bill(api)
    refund = await api.create(
        bid,
        "/vendor-refunds/",
        {
            "vendor_id": vendor_id,
            "total_refunded_amount_cents": 5000,
            "currency": "GBP",
            "allocations": [
                {"allocation_type": "bill", "bill_id": bill["id"], "amount_cents": 2000}
            ],
            "payments": [{"refunded_amount_cents": 5000}],
        },
    )
    assert refund["status"] == "partially_allocated"
    assert (refund["allocated_amount"], refund["unallocated_amount"]) == (20.0, 30.0)
    payment_id = refund["vendor_refund_payments"][0]["id"]
    triple = ok(
        await api.books(
            bid, "PATCH", f"/vendor-refunds/payments/{payment_id}/", json={"status": "completed"}
        )
    )
    assert triple["refund"]["status"] == "completed"
    refused = await api.books(bid, "DELETE", f"/vendor-refunds/{refund['id']}/")
    assert refused.status_code == 400
    other = await api.create(
        bid,
        "/vendor-refunds/",
        {"vendor_id": vendor_id, "total_refunded_amount_cents": 100, "currency": "GBP"},
    )
    deleted = await api.books(bid, "DELETE", f"/vendor-refunds/{other['id']}/")
    assert deleted.status_code == 204
    assert (await api.books(bid, "GET", f"/vendor-refunds/{other['id']}/")).status_code == 404


async def test_vendor_refund_payment_is_created_atomically_and_cancelled(api: Api) -> None:
    bid, vendor_id, bill = await _vendor_and_bill(api)
    bad = await api.books(
        bid,
        "POST",
        "/vendor-refunds/payments/",
        json={
            "vendor_id": vendor_id,
            "total_amount_cents": 1000,
            "allocations": [
                {"allocation_type": "bill", "bill_id": bill["vendor"]["id"], "amount_cents": 10}
            ],
        },
    )
    assert bad.status_code == 400
    assert (await api.get(bid, "/vendor-refunds/"))["count"] == 0  # nothing half-made
    triple = await api.create(
        bid,
        "/vendor-refunds/payments/",
        {
            "vendor_id": vendor_id,
            "total_amount_cents": 1000,
            "allocations": [
                {"allocation_type": "bill", "bill_id": bill["id"], "amount_cents": 600},
                {"allocation_type": "credit", "amount_cents": 400},
            ],
        },
    )
    assert set(triple) == {"refund", "payment", "allocations"}
    assert triple["refund"]["status"] == "allocated"
    assert triple["payment"]["refunded_amount_cents"] == 1000
    assert len(triple["allocations"]) == 2
    payment_id = triple["payment"]["id"]
    cancelled = ok(await api.books(bid, "POST", f"/vendor-refunds/payments/{payment_id}/delete/"))
    assert cancelled["refund_id"] == triple["refund"]["id"]
    assert cancelled["status"] == "cancelled"
    refund = await api.get(bid, f"/vendor-refunds/{triple['refund']['id']}/")
    assert refund["allocations"] == []
    assert refund["status"] == "pending"
