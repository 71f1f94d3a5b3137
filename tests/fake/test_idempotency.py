"""``external_id`` creates (201 then 200) and ``Idempotency-Key`` replays.

See docs/api-behaviour.md, "Idempotency and deduplication".
"""

from __future__ import annotations

from typing import Any

import pytest

from thredfi_async.testing import FakeThredfi

from ._support import Api, invoice_payment, ok

pytestmark = pytest.mark.anyio


async def _setup(api: Api) -> tuple[str, str, str, str]:
    bid = await api.business_id()
    customer = await api.create(bid, "/customers/", {"company_name": "C"})
    vendor = await api.create(bid, "/vendors/", {"company_name": "V"})
    invoice = await api.create(
        bid, "/invoices/", {"customer_id": customer["id"], "line_items": [{"unit_price": 10000}]}
    )
    return bid, customer["id"], vendor["id"], invoice["id"]


async def test_create_business_is_idempotent_per_partner(api: Api) -> None:
    body = {
        "external_id": "merchant-7",
        "legal_name": "Seven",
        "entity_type": "limited",
        "email": "s@seven.example",
    }
    first = await api.partner("POST", "/v1/platform/businesses/", json=body)
    again = await api.partner(
        "POST", "/v1/platform/businesses/", json=body | {"legal_name": "Changed"}
    )
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert again.json()["legal_name"] == "Seven"
    assert first.json()["_meta"] == {"created": True}
    assert again.json()["_meta"] == {"created": False}


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/invoices/", lambda c, v, i: {"customer_id": c, "line_items": [{"unit_price": 5}]}),
        ("/vendors/", lambda c, v, i: {"company_name": "V2"}),
        ("/bills/", lambda c, v, i: {"vendor_id": v, "line_items": [{"unit_price": 5}]}),
        (
            "/vendor-credits/",
            lambda c, v, i: {"vendor_id": v, "line_items": [{"amount": 5}]},
        ),
        (
            "/vendor-refunds/",
            lambda c, v, i: {"vendor_id": v, "total_refunded_amount_cents": 5, "currency": "GBP"},
        ),
        (
            "/general-ledger/chart-of-accounts/",
            lambda c, v, i: {"code": "6900", "name": "Misc", "account_type": "expense"},
        ),
        (
            "/invoices/payments/",
            lambda c, v, i: {"customer_id": c, "total_amount_cents": 100},
        ),
    ],
)
async def test_repeated_external_id_answers_200_with_the_stored_object(
    api: Api, path: str, body: Any
) -> None:
    bid, customer_id, vendor_id, invoice_id = await _setup(api)
    payload = body(customer_id, vendor_id, invoice_id) | {"external_id": "ext-1"}
    first = await api.books(bid, "POST", path, json=payload)
    assert first.status_code == 201, first.text
    second = await api.books(bid, "POST", path, json=payload)
    assert second.status_code == 200, second.text
    assert second.json() == first.json()
    listed = await api.get(bid, path)
    matching = [r for r in listed["results"] if r.get("external_id") == "ext-1"]
    assert len(matching) <= 1


async def test_refund_payment_external_id_returns_the_existing_payment(api: Api) -> None:
    bid, _, _, invoice_id = await _setup(api)
    refund = await api.create(bid, "/invoices/refunds/", {"invoice_id": invoice_id})
    path = f"/invoices/refunds/{refund['id']}/payments/"
    first = await api.create(bid, path, {"amount_cents": 100, "external_id": "rp"})
    again = ok(await api.books(bid, "POST", path, json={"amount_cents": 100, "external_id": "rp"}))
    assert again["id"] == first["id"]
    assert (await api.get(bid, f"/invoices/refunds/{refund['id']}/"))["paid_amount_cents"] == 100


async def test_payout_create_is_an_upsert(api: Api) -> None:
    bid, *_ = await _setup(api)
    first = await api.create(bid, "/payouts/", {"external_id": "po", "fee_cents": 10})
    updated = ok(
        await api.books(
            bid, "POST", "/payouts/", json={"external_id": "po", "fee_cents": 25, "memo": "fixed"}
        )
    )
    assert updated["id"] == first["id"]
    assert updated["fee_cents"] == 25
    assert updated["memo"] == "fixed"
    assert (await api.get(bid, "/payouts/"))["count"] == 1


async def test_reconciled_payout_refuses_changes(fake: FakeThredfi, api: Api) -> None:
    bid, *_ = await _setup(api)
    payout = await api.create(bid, "/payouts/", {"external_id": "po"})
    fake.mark_payout_reconciled(bid, payout["id"])
    update = await api.books(bid, "POST", "/payouts/", json={"external_id": "po", "memo": "x"})
    assert update.status_code == 409
    assert update.json()["error_code"] == "payout_reconciled"
    delete = await api.books(bid, "DELETE", f"/payouts/{payout['id']}/")
    assert delete.status_code == 409
    assert isinstance(delete.json()["detail"], dict)  # delete endpoints use the object shape


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/customers/", lambda c, i: {"company_name": "Dup"}),
        ("/invoices/refunds/", lambda c, i: {"invoice_id": i, "amount_cents": 10}),
        ("/customer-credits/", lambda c, i: {"customer_id": c, "line_items": [{"amount": 1}]}),
    ],
)
async def test_undocumented_idempotency_answers_409_duplicate(
    api: Api, path: str, body: Any
) -> None:
    bid, customer_id, _, invoice_id = await _setup(api)
    payload = body(customer_id, invoice_id) | {"external_id": "dup-1"}
    first = await api.create(bid, path, payload)
    second = await api.books(bid, "POST", path, json=payload)
    assert second.status_code == 409
    assert second.json()["error_code"] == "duplicate_external_id"
    assert first["id"] in second.text


async def test_idempotency_key_replays_invoice_payment(fake: FakeThredfi, api: Api) -> None:
    bid, customer_id, _, invoice_id = await _setup(api)
    body = invoice_payment(customer_id, invoice_id, 2500)
    headers = {"Idempotency-Key": "payment-20240115-001"}
    first = await api.books(bid, "POST", "/invoices/payments/", json=body, headers=headers)
    again = await api.books(bid, "POST", "/invoices/payments/", json=body, headers=headers)
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json() == first.json()
    assert first.json()["payment"]["idempotency_key"] == "payment-20240115-001"
    assert (await api.get(bid, "/invoices/payments/"))["count"] == 1
    invoice = await api.get(bid, f"/invoices/{invoice_id}/")
    assert invoice["outstanding_amount_cents"] == 7500
    assert fake.requests[-3].replayed is True
    other = await api.books(
        bid, "POST", "/invoices/payments/", json=body, headers={"Idempotency-Key": "other"}
    )
    assert other.status_code == 201


async def test_idempotency_key_replays_bill_and_vendor_refund_payments(api: Api) -> None:
    bid, _, vendor_id, _ = await _setup(api)
    cases = [
        (
            "/bills/payments/",
            {
                "vendor_id": vendor_id,
                "amount_cents": 700,
                "payment_method": "cash",
                "payment_date": "2025-06-01",
            },
        ),
        ("/vendor-refunds/payments/", {"vendor_id": vendor_id, "total_amount_cents": 300}),
    ]
    for path, body in cases:
        headers = {"Idempotency-Key": f"key-{path}"}
        first = await api.books(bid, "POST", path, json=body, headers=headers)
        again = await api.books(bid, "POST", path, json=body, headers=headers)
        assert (first.status_code, again.status_code) == (201, 200)
        assert again.json() == first.json()
        assert (await api.get(bid, path))["count"] == 1


async def test_failed_request_is_not_stored_under_its_key(api: Api) -> None:
    bid, customer_id, _, invoice_id = await _setup(api)
    headers = {"Idempotency-Key": "retry-me"}
    bad = invoice_payment(customer_id, invoice_id, 999999, total=100)
    assert (
        await api.books(bid, "POST", "/invoices/payments/", json=bad, headers=headers)
    ).status_code == 400
    good = bad | {"allocations": [{"invoice_id": invoice_id, "amount_cents": 100}]}
    assert (
        await api.books(bid, "POST", "/invoices/payments/", json=good, headers=headers)
    ).status_code == 201


async def test_lost_response_then_retry_with_the_same_key(fake: FakeThredfi, api: Api) -> None:
    bid, customer_id, _, invoice_id = await _setup(api)
    body = invoice_payment(customer_id, invoice_id, 1000)
    headers = {"Idempotency-Key": "lost-once"}
    fake.faults.fail(503, after_processing=True, operation_id="create_invoice_payment")
    lost = await api.books(bid, "POST", "/invoices/payments/", json=body, headers=headers)
    assert lost.status_code == 503
    retried = await api.books(bid, "POST", "/invoices/payments/", json=body, headers=headers)
    assert retried.status_code == 200
    assert (await api.get(bid, "/invoices/payments/"))["count"] == 1
    assert (await api.get(bid, f"/invoices/{invoice_id}/"))["outstanding_amount_cents"] == 9000
