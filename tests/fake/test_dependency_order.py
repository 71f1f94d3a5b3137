"""A create sent before what it refers to answers like the API: 400 naming the field (404 for a
parent in the path), as the error guide lists for records sent out of dependency order; and
a repeated external_id on the deduplicating creates answers 200 with the stored object.

The references are the bulk importer's, read from the spec, so every reference the importer
orders by is one the fake refuses out of order.
"""

from __future__ import annotations

import copy
from typing import Any, cast

import pytest

from thredfi_async import BadRequestError, BusinessView, NotFoundError
from thredfi_async.bulk import KINDS, Reference
from thredfi_async.testing import FakeThredfi

pytestmark = pytest.mark.anyio

ABSENT = "00000000-0000-4000-8000-00000000abcd"


async def world(fake: FakeThredfi) -> tuple[BusinessView, dict[str, dict[str, Any]], str]:
    """A business holding one record of every kind, and a valid body for each kind's create."""
    thredfi = fake.client()
    business = await thredfi.businesses.create(
        body={
            "external_id": "m",
            "legal_name": "M Ltd",
            "entity_type": "limited",
            "email": "m@m.example",
            "country": "GB",
        }
    )
    v = thredfi.business(business.id)
    line: list[Any] = [{"description": "x", "quantity": 1, "unit_price": 1000}]
    c = str((await v.customers.create(body={"company_name": "C"})).id)
    i = str(
        (
            await v.invoices.create(
                body={"customer_id": c, "sent_at": "2025-01-02T00:00:00Z", "line_items": line}
            )
        ).id
    )
    pay: dict[str, Any] = {
        "customer_id": c,
        "total_amount_cents": 500,
        "payment_date": "2025-01-03",
        "allocations": [{"invoice_id": i, "amount_cents": 500}],
    }
    p = await v.payments.create(body=cast(Any, pay))
    assert p.payment
    r = str((await v.refunds.create(body={"invoice_id": i, "amount_cents": 100})).id)
    rp = str((await v.refund_payments.create(r, body={"amount_cents": 50})).id)
    ven = str((await v.vendors.create(body={"company_name": "V"})).id)
    bill = str((await v.bills.create(body={"vendor_id": ven, "line_items": line})).id)
    bpay: dict[str, Any] = {
        "vendor_id": ven,
        "amount_cents": 300,
        "payment_method": "bank_transfer",
        "payment_date": "2025-01-03",
        "allocations": [{"bill_id": bill, "amount_cents": 300}],
    }
    bp = str((await v.bill_payments.create(body=cast(Any, bpay))).id)
    vra = [{"bill_id": bill, "bill_payment_id": bp, "amount_cents": 10}]
    bodies: dict[str, dict[str, Any]] = {
        "invoice": {"customer_id": c, "line_items": line},
        "payment": pay
        | {"total_amount_cents": 10, "allocations": [{"invoice_id": i, "amount_cents": 10}]},
        "refund": {"invoice_id": i, "amount_cents": 10},
        "refund_payment": {"amount_cents": 10},
        "payout": {
            "external_id": "po",
            "payment_ids": [str(p.payment.id)],
            "refund_payment_ids": [rp],
        },
        "bill": {"vendor_id": ven, "line_items": line},
        "bill_payment": bpay
        | {"amount_cents": 10, "allocations": [{"bill_id": bill, "amount_cents": 10}]},
        "customer_credit": {
            "customer_id": c,
            "source_invoice_id": i,
            "line_items": [{"amount": 10}],
            "allocations": [{"invoice_id": i, "amount": 10}],
        },
        "vendor_credit": {
            "vendor_id": ven,
            "source_bill_id": bill,
            "line_items": [{"amount": 10}],
            "allocations": [{"bill_id": bill, "amount": 10}],
        },
        "vendor_refund": {
            "vendor_id": ven,
            "total_refunded_amount_cents": 10,
            "currency": "GBP",
            "allocations": vra,
        },
        "vendor_refund_payment": {"vendor_id": ven, "total_amount_cents": 10, "allocations": vra},
    }
    return v, bodies, r


REFERENCES = [
    pytest.param(kind, ref, id=f"{kind}.{ref.where()}")
    for kind in KINDS
    for ref in KINDS[kind].references
]


def absent_at(body: dict[str, Any], ref: Reference) -> str:
    """Put ABSENT where `ref` points (the first element of a list); the field name as the
    fake's details spell it (allocations.0.invoice_id)."""
    node: Any = body
    spelled: list[str] = []
    for part in ref.path[:-1]:
        node = node[0] if part == "*" else node[part]
        spelled.append("0" if part == "*" else part)
    node[ref.field] = [ABSENT] if ref.many else ABSENT
    spelled.append(ref.field + (".0" if ref.many else ""))
    return ".".join(spelled)


@pytest.mark.parametrize(("kind", "ref"), REFERENCES)
async def test_a_create_before_what_it_refers_to_is_refused(
    fake: FakeThredfi, kind: str, ref: Reference
) -> None:
    view, bodies, refund_id = await world(fake)
    resource: Any = getattr(view, KINDS[kind].resource)
    body = copy.deepcopy(bodies[kind])
    before = len(fake.requests)
    if ref.in_path:
        with pytest.raises(NotFoundError):
            await resource.create(ABSENT, body=body)
        return
    field = absent_at(body, ref)
    args = (refund_id,) if kind == "refund_payment" else ()
    with pytest.raises(BadRequestError) as refused:
        await resource.create(*args, body=body)
    assert refused.value.status_code == 400
    assert field in refused.value.details, refused.value.details
    assert len(fake.requests) == before + 1


@pytest.mark.parametrize("kind", [k for k in KINDS if KINDS[k].deduplicated and k != "payout"])
async def test_a_repeated_external_id_answers_200_with_the_stored_object(
    fake: FakeThredfi, kind: str
) -> None:
    view, bodies, refund_id = await world(fake)
    bodies |= {"customer": {}, "vendor": {"company_name": "W"}}
    resource: Any = getattr(view, KINDS[kind].resource).with_raw_response
    args = (refund_id,) if kind == "refund_payment" else ()
    body = bodies[kind] | {"external_id": f"again-{kind}"}
    first = await resource.create(*args, body=body)
    again = await resource.create(*args, body=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.parsed.to_dict() == first.parsed.to_dict()
