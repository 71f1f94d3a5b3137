"""The corrected spec declares what the fake (and the API, per its docs) does: object-detail
error bodies on deletes, 200 on create replays, and the bounds of page and page_size."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from openapi_schema_validator import OAS30ReadValidator

from thredfi_async.testing import FakeThredfi
from thredfi_async.testing._server.spec import OperationTable, load_spec

from ._support import Api, invoice_payment, ok

pytestmark = pytest.mark.anyio

TABLE = OperationTable(load_spec())

DELETES = {
    "delete_customer_credit": "/customer-credits/{id}/",
    "delete_invoice_payment": "/invoices/payments/{id}/delete/",
    "delete_payout": "/payouts/{id}/",
    "delete_refund": "/invoices/refunds/{id}/",
    "delete_vendor_credit": "/vendor-credits/{id}/",
    "delete_vendor_refund": "/vendor-refunds/{id}/",
    "delete_vendor_refund_payment": "/vendor-refunds/payments/{id}/delete/",
}


@pytest.mark.parametrize(("operation_id", "path"), sorted(DELETES.items()))
async def test_a_deletes_error_body_matches_its_declared_schema(
    api: Api, operation_id: str, path: str
) -> None:
    op = TABLE.operations[operation_id]
    bid = await api.business_id()
    response = await api.books(bid, op.method, path.format(id=uuid.uuid4()))
    assert response.status_code == 404, response.text
    assert isinstance(response.json()["detail"], dict)
    schema = op.response_schema(404)
    assert schema is not None
    errors = [e.message for e in OAS30ReadValidator(schema).iter_errors(response.json())]
    assert errors == []


async def test_every_create_that_replays_declares_the_200_it_answers(
    fake: FakeThredfi, api: Api
) -> None:
    bid = await api.business_id()
    customer = await api.create(bid, "/customers/", {"company_name": "Acme Ltd"})
    body = {"customer_id": customer["id"], "line_items": [{"quantity": 1, "unit_price": 100}]}
    replayed: dict[str, tuple[str, dict[str, Any], dict[str, str]]] = {
        "create_invoice": ("/invoices/", {**body, "external_id": "inv-1"}, {})
    }
    invoice = await api.create(bid, "/invoices/", body)
    replayed["create_invoice_payment"] = (
        "/invoices/payments/",
        invoice_payment(customer["id"], invoice["id"], 50),
        {"Idempotency-Key": "k-1"},
    )
    for operation_id, (path, sent, headers) in replayed.items():
        ok(await api.books(bid, "POST", path, json=sent, headers=headers), 201)
        again = await api.books(bid, "POST", path, json=sent, headers=headers)
        assert again.status_code == 200, again.text
        assert 200 in TABLE.operations[operation_id].responses
    for operation_id in (
        "create_bill",
        "create_vendor",
        "create_vendor_credit",
        "create_refund_payment",
        "create_bill_payment",
        "create_vendor_refund_payment",
    ):
        op = TABLE.operations[operation_id]
        assert op.responses[200] == op.responses[201], operation_id


def test_every_page_and_page_size_is_bounded_as_the_pagination_guide_says() -> None:
    checked = 0
    for op in TABLE.operations.values():
        for param in op.query_params:
            if param.name == "page":
                assert param.schema.get("minimum") == 1, op.operation_id
                checked += 1
            if param.name == "page_size":
                assert param.schema.get("minimum") == 1, op.operation_id
                assert param.schema.get("maximum") == 100, op.operation_id
                checked += 1
    assert checked >= 38


async def test_page_zero_and_page_size_zero_are_refused(api: Api) -> None:
    bid = await api.business_id()
    for params in ({"page": 0}, {"page_size": 0}):
        response = await api.books(bid, "GET", "/customers/", params=params)
        assert response.status_code == 400, params
