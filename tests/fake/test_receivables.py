"""Customers, invoices, invoice payments, refunds and customer credits, as their
docs.thredfi.com API reference pages describe them."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from thredfi_async.testing import FakeThredfi

from ._support import Api, invoice_payment, ok

pytestmark = pytest.mark.anyio


async def _customer_and_invoice(api: Api, **invoice: Any) -> tuple[str, str, dict[str, Any]]:
    """A customer and one invoice of 100.00 (``invoice`` overrides parts of its body)."""
    bid = await api.business_id()
    customer = await api.create(
        bid, "/customers/", {"company_name": "Acme", "email": "a@acme.example"}
    )
    body = {"customer_id": customer["id"], "line_items": [{"quantity": 1, "unit_price": 10000}]}
    created = await api.create(bid, "/invoices/", body | invoice)
    return bid, customer["id"], created


async def test_invoice_totals_are_computed_from_lines(api: Api) -> None:
    _, _, invoice = await _customer_and_invoice(
        api,
        line_items=[
            {
                "quantity": 2.5,
                "unit_price": 1999,
                "discount_amount": 500,
                "sales_taxes": [{"amount": 899, "discount_amount": 99}],
            },
            {"quantity": 3, "unit_price": 1000},
        ],
        additional_discount=200,
        additional_sales_taxes_total=100,
        tips=300,
    )
    # 2.5 x 1999 = 4997.5 -> 4998 (half up); - 500 + (899 - 99) = 5298; + 3000 = 8298
    # - 200 + 100 + 300 = 8498
    assert invoice["total_amount_cents"] == 8498
    assert invoice["outstanding_amount_cents"] == 8498
    assert invoice["status"] == "SENT"
    assert "paid_at" not in invoice
    assert invoice["line_items"][0]["subtotal_cents"] == 4998


async def test_quantity_accepts_decimals_exactly(api: Api, http: Any) -> None:
    bid, customer_id, _ = await _customer_and_invoice(api)
    response = await api.books(
        bid,
        "POST",
        "/invoices/",
        content=b'{"customer_id": "%s", "line_items": [{"quantity": 0.1, "unit_price": 30}]}'
        % customer_id.encode(),
        headers={"Content-Type": "application/json"},
    )
    invoice = ok(response, 201)
    assert invoice["total_amount_cents"] == 3
    assert b'"quantity":0.1,' in response.content


async def test_payments_move_an_invoice_to_partially_paid_then_paid(api: Api) -> None:
    bid, customer_id, invoice = await _customer_and_invoice(api)
    iid = invoice["id"]

    def pay(amount: int) -> dict[str, Any]:
        return {
            "customer_id": customer_id,
            "total_amount_cents": amount,
            "allocations": [{"invoice_id": iid, "amount_cents": amount}],
            "payment_date": "2025-06-10",
            "currency": "GBP",
            "payment_method": "bank_transfer",
        }

    first = (await api.create(bid, "/invoices/payments/", pay(4000)))["payment"]
    assert first["status"] == "pending"
    assert first["allocated_amount_cents"] == 4000
    assert first["unapplied_amount_cents"] == 0
    assert first["applied_invoices"] == [
        {
            "id": iid,
            "invoice_number": invoice["invoice_number"],
            "applied_amount_cents": 4000,
            "status": "PARTIALLY_PAID",
            "outstanding_amount_cents": 6000,
        }
    ]
    partial = await api.get(bid, f"/invoices/{iid}/")
    assert (partial["status"], partial["outstanding_amount_cents"]) == ("PARTIALLY_PAID", 6000)
    assert "paid_at" not in partial  # not nullable in the spec: omitted until paid
    assert partial["customer"]["outstanding_balance"] == 60.0

    await api.create(bid, "/invoices/payments/", pay(6000))
    paid = await api.get(bid, f"/invoices/{iid}/")
    assert (paid["status"], paid["outstanding_amount_cents"]) == ("PAID", 0)
    assert paid["paid_at"] == "2025-06-15T12:00:00.000000Z"
    assert paid["paid_amount_cents"] == 10000
    assert paid["customer"]["outstanding_balance"] == 0


async def test_allocations_cannot_exceed_outstanding_or_payment_total(api: Api) -> None:
    bid, customer_id, invoice = await _customer_and_invoice(api)
    too_much = await api.books(
        bid,
        "POST",
        "/invoices/payments/",
        json=invoice_payment(customer_id, invoice["id"], 10001, total=20000),
    )
    assert too_much.status_code == 400
    assert "allocations.0.amount_cents" in too_much.json()["details"]
    over_total = await api.books(
        bid,
        "POST",
        "/invoices/payments/",
        json=invoice_payment(customer_id, invoice["id"], 200, total=100),
    )
    assert over_total.status_code == 400
    assert "allocations" in over_total.json()["details"]


async def test_payment_currency_must_match_the_base_currency(api: Api) -> None:
    bid, customer_id, _ = await _customer_and_invoice(api)
    response = await api.books(
        bid,
        "POST",
        "/invoices/payments/",
        json={"customer_id": customer_id, "total_amount_cents": 100, "currency": "EUR"},
    )
    assert response.status_code == 400
    assert response.json()["details"]["currency"] == [
        "Currency must equal the business base currency (GBP)."
    ]


async def test_unallocated_remainder_is_customer_credit(api: Api) -> None:
    bid, customer_id, invoice = await _customer_and_invoice(api)
    payment = await api.pay_invoice(bid, customer_id, invoice["id"], 10000, total=15000)
    assert payment["unapplied_amount_cents"] == 5000
    listed = await api.get(bid, f"/invoices/payments/{payment['id']}/")
    assert listed["is_fully_allocated"] is False
    assert listed["unallocated_amount"] == 5000
    credits = await api.get(bid, "/general-ledger/chart-of-accounts/2100/")
    assert credits["current_balance"] == 5000


async def test_cancel_reverses_a_pending_payment(api: Api) -> None:
    bid, customer_id, invoice = await _customer_and_invoice(api)
    payment = await api.pay_invoice(bid, customer_id, invoice["id"], 10000)
    cancelled = ok(await api.books(bid, "POST", f"/invoices/payments/{payment['id']}/delete/"))
    assert cancelled["status"] == "cancelled"
    assert cancelled["payment_id"] == payment["id"]
    restored = await api.get(bid, f"/invoices/{invoice['id']}/")
    assert (restored["status"], restored["outstanding_amount_cents"]) == ("SENT", 10000)
    bank = await api.get(bid, "/general-ledger/chart-of-accounts/1000/")
    assert bank["current_balance"] == 0


async def test_cancel_is_refused_on_a_completed_payment(api: Api) -> None:
    bid, customer_id, invoice = await _customer_and_invoice(api)
    payment = await api.pay_invoice(bid, customer_id, invoice["id"], 10000)
    done = ok(
        await api.books(
            bid, "PATCH", f"/invoices/payments/{payment['id']}/", json={"status": "completed"}
        )
    )
    assert done["payment"]["status"] == "completed"
    refused = await api.books(bid, "POST", f"/invoices/payments/{payment['id']}/delete/")
    assert refused.status_code == 400
    body = refused.json()
    assert body["error_code"] == "invalid_status_transition"
    assert body["detail"] == {"status": "completed", "cancellable_statuses": ["failed", "pending"]}
    still_paid = await api.get(bid, f"/invoices/{invoice['id']}/")
    assert still_paid["status"] == "PAID"
    backwards = await api.books(
        bid, "PATCH", f"/invoices/payments/{payment['id']}/", json={"status": "pending"}
    )
    assert backwards.status_code == 400


async def test_payment_update_reallocates_and_checks_the_amount(api: Api) -> None:
    bid, customer_id, invoice = await _customer_and_invoice(api)
    payment = await api.pay_invoice(bid, customer_id, invoice["id"], 5000)
    shrink = await api.books(
        bid, "PATCH", f"/invoices/payments/{payment['id']}/", json={"total_amount_cents": 4000}
    )
    assert shrink.status_code == 400
    moved = ok(
        await api.books(
            bid,
            "PUT",
            f"/invoices/payments/{payment['id']}/",
            json={
                "total_amount_cents": 10000,
                "allocations": [{"invoice_id": invoice["id"], "amount_cents": 10000}],
            },
        )
    )["payment"]
    assert moved["applied_invoices"][0]["status"] == "PAID"


async def test_void_sets_voided_at_and_is_refused_with_payments(api: Api) -> None:
    bid, customer_id, invoice = await _customer_and_invoice(api)
    voided = ok(await api.books(bid, "POST", f"/invoices/{invoice['id']}/void/", json={}))
    assert voided["status"] == "VOIDED"
    assert voided["voided_at"] == "2025-06-15T12:00:00.000000Z"
    assert voided["outstanding_amount_cents"] == 0
    again = ok(await api.books(bid, "POST", f"/invoices/{invoice['id']}/void/"))
    assert again["voided_at"] == voided["voided_at"]
    other = await api.create(
        bid, "/invoices/", {"customer_id": customer_id, "line_items": [{"unit_price": 500}]}
    )
    await api.pay_invoice(bid, customer_id, other["id"], 100)
    refused = await api.books(bid, "POST", f"/invoices/{other['id']}/void/")
    assert refused.status_code == 400
    assert refused.json()["error_code"] == "invalid_status_transition"


async def test_invoice_update_keeps_payments_and_guards_the_total(api: Api) -> None:
    bid, customer_id, invoice = await _customer_and_invoice(api)
    await api.pay_invoice(bid, customer_id, invoice["id"], 6000)
    too_small = await api.books(
        bid, "PUT", f"/invoices/{invoice['id']}/", json={"line_items": [{"unit_price": 5000}]}
    )
    assert too_small.status_code == 400
    bigger = ok(
        await api.books(
            bid, "PUT", f"/invoices/{invoice['id']}/", json={"line_items": [{"unit_price": 12000}]}
        )
    )
    assert (bigger["total_amount_cents"], bigger["outstanding_amount_cents"]) == (12000, 6000)


async def test_invoice_filters(fake: FakeThredfi, api: Api) -> None:
    bid, customer_id, invoice = await _customer_and_invoice(api, external_id="i-1")
    await api.pay_invoice(bid, customer_id, invoice["id"], 10000)
    await api.create(
        bid, "/invoices/", {"customer_id": customer_id, "line_items": [{"unit_price": 50}]}
    )
    assert (await api.get(bid, "/invoices/", status="unpaid"))["count"] == 1
    assert (await api.get(bid, "/invoices/", max_amount=100))["count"] == 1
    by_customer = await api.get(bid, "/invoices/", customer_id=f"{customer_id},other")
    assert by_customer["count"] == 2


async def test_customers_archive_and_unarchive(api: Api) -> None:
    bid = await api.business_id()
    customer = await api.create(bid, "/customers/", {"individual_name": "Ann"})
    archived = ok(await api.books(bid, "POST", f"/customers/{customer['id']}/archive/"))
    assert archived["is_archived"] is True
    assert archived["status"] == "archived"
    assert archived["archived_at"] == "2025-06-15T12:00:00.000000Z"
    assert (await api.get(bid, "/customers/"))["count"] == 0
    everyone = await api.get(bid, "/customers/", include_archived="true")
    assert everyone["count"] == 1
    assert (await api.get(bid, f"/customers/{customer['id']}/"))["is_archived"] is True
    restored = ok(await api.books(bid, "POST", f"/customers/{customer['id']}/unarchive/"))
    assert restored["is_archived"] is False
    assert "archived_at" not in restored
    again = await api.books(bid, "POST", f"/customers/{customer['id']}/unarchive/")
    assert again.status_code == 400


async def test_refunds_follow_their_payments(api: Api) -> None:
    bid, _, invoice = await _customer_and_invoice(api)
    refund = await api.create(
        bid, "/invoices/refunds/", {"invoice_id": invoice["id"], "amount_cents": 4000}
    )
    assert refund["status"] == "pending"
    assert refund["refunded_amount"] == 40.0
    assert refund["allocations"][0]["invoice_outstanding_balance_cents"] == 10000
    path = f"/invoices/refunds/{refund['id']}/payments/"
    too_much = await api.books(bid, "POST", path, json={"amount_cents": 4001})
    assert too_much.status_code == 400
    first = await api.create(bid, path, {"amount_cents": 1500})
    assert (await api.get(bid, f"/invoices/refunds/{refund['id']}/"))["status"] == "processing"
    await api.create(bid, path, {"amount_cents": 2500})
    assert (await api.get(bid, f"/invoices/refunds/{refund['id']}/"))["status"] == "paid"
    listed = await api.get(bid, path)
    assert [p["refunded_amount"] for p in listed["results"]] == [25.0, 15.0]  # newest first
    deleted = await api.books(bid, "DELETE", f"{path}{first['id']}/")
    assert deleted.status_code == 200
    assert deleted.content == b""
    assert (await api.get(bid, f"/invoices/refunds/{refund['id']}/"))["status"] == "processing"
    full = await api.create(bid, "/invoices/refunds/", {"invoice_id": invoice["id"]})
    assert full["refunded_amount_cents"] == 6000  # omitting the amount refunds what is left
    refused = await api.books(bid, "DELETE", f"/invoices/refunds/{refund['id']}/")
    assert refused.status_code == 400  # it still has a payment
    gone = await api.books(bid, "DELETE", f"/invoices/refunds/{full['id']}/")
    assert gone.status_code == 200
    assert (await api.books(bid, "GET", f"/invoices/refunds/{full['id']}/")).status_code == 404


async def test_customer_credit_allocations_and_soft_delete(api: Api) -> None:
    bid, customer_id, invoice = await _customer_and_invoice(api)
    credit = await api.create(
        bid,
        "/customer-credits/",
        {
            "customer_id": customer_id,
            "line_items": [{"amount": 2500, "tax_amount_cents": 500}],
            "allocations": [{"invoice_id": invoice["id"], "amount": 2000}],
        },
    )
    assert credit["total_amount"] == 30.0  # the line and its tax
    assert credit["applied_amount"] == 20.0
    assert credit["allocations"][0]["invoice_outstanding_balance_cents"] == 8000
    assert (await api.get(bid, f"/invoices/{invoice['id']}/"))["status"] == "PARTIALLY_PAID"
    deleted = await api.books(bid, "DELETE", f"/customer-credits/{credit['id']}/")
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert (await api.books(bid, "GET", f"/customer-credits/{credit['id']}/")).status_code == 404
    assert (await api.get(bid, "/customer-credits/"))["count"] == 0
    restored = await api.get(bid, f"/invoices/{invoice['id']}/")
    assert (restored["status"], restored["outstanding_amount_cents"]) == ("SENT", 10000)


async def test_money_in_number_fields_is_exact(api: Api) -> None:
    bid, _, invoice = await _customer_and_invoice(api)
    response = await api.books(
        bid, "POST", "/invoices/refunds/", json={"invoice_id": invoice["id"], "amount_cents": 4010}
    )
    assert b'"refunded_amount":40.10,' in response.content
    assert response.json(parse_float=Decimal)["refunded_amount"] == Decimal("40.10")
