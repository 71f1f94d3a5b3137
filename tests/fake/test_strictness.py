"""Where the fake used to be laxer than the API: bodies, reused idempotency keys, tokens."""

from __future__ import annotations

import httpx
import pytest

from thredfi_async.testing import FakeThredfi

from ._support import Api, business_client, invoice_payment, ok

pytestmark = pytest.mark.anyio


async def test_a_json_null_body_is_refused_not_read_as_empty(api: Api) -> None:
    bid = await api.business_id()
    response = await api.books(
        bid, "POST", "/customers/", content=b"null", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert response.json()["details"] == {"non_field_errors": ["No data provided"]}
    assert (await api.get(bid, "/customers/"))["count"] == 0


async def test_a_json_null_body_is_refused_where_the_body_is_optional_too(api: Api) -> None:
    bid = await api.business_id()
    customer = await api.create(bid, "/customers/", {"company_name": "Acme Ltd"})
    response = await api.books(
        bid,
        "PATCH",
        f"/customers/{customer['id']}/",
        content=b"null",
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code == 400, response.text


async def test_an_empty_body_where_the_spec_requires_one_is_refused(api: Api) -> None:
    bid = await api.business_id()
    customer = await api.create(bid, "/customers/", {"company_name": "Acme Ltd"})
    invoice = await api.create(
        bid,
        "/invoices/",
        {"customer_id": customer["id"], "line_items": [{"quantity": 1, "unit_price": 1000}]},
    )
    payment = await api.pay_invoice(bid, customer["id"], invoice["id"], 1000)
    path = f"/invoices/payments/{payment['id']}/"
    before = await api.get(bid, path)
    # PUT update_invoice_payment declares a required body whose fields are all optional.
    response = await api.books(bid, "PUT", path, content=b"")
    assert response.status_code == 400, response.text
    assert response.json()["details"] == {"non_field_errors": ["No data provided"]}
    assert await api.get(bid, path) == before


async def test_an_empty_body_where_the_spec_makes_it_optional_is_still_accepted(api: Api) -> None:
    bid = await api.business_id()
    customer = await api.create(bid, "/customers/", {"company_name": "Acme Ltd"})
    response = await api.books(bid, "POST", f"/customers/{customer['id']}/archive/")
    assert response.status_code == 200, response.text


async def test_an_idempotency_key_reused_with_a_different_body_is_refused(api: Api) -> None:
    bid = await api.business_id()
    customer = await api.create(bid, "/customers/", {"company_name": "Acme Ltd"})
    invoice = await api.create(
        bid,
        "/invoices/",
        {"customer_id": customer["id"], "line_items": [{"quantity": 1, "unit_price": 10_000}]},
    )
    key = {"Idempotency-Key": "pay-1"}
    first = invoice_payment(customer["id"], invoice["id"], 100)
    ok(await api.books(bid, "POST", "/invoices/payments/", json=first, headers=key), 201)
    other = invoice_payment(customer["id"], invoice["id"], 5000)
    response = await api.books(bid, "POST", "/invoices/payments/", json=other, headers=key)
    assert response.status_code == 409, response.text
    assert response.json()["error_code"] == "idempotency_key_reused"
    payments = await api.get(bid, "/invoices/payments/")
    assert [p["total_amount_cents"] for p in payments["results"]] == [100]
    # The same request again is still a replay of the first answer.
    replay = await api.books(bid, "POST", "/invoices/payments/", json=first, headers=key)
    assert replay.status_code == 200
    assert replay.json()["payment"]["total_amount_cents"] == 100


async def test_two_fakes_with_the_same_seed_refuse_each_others_tokens() -> None:
    one, two = FakeThredfi(seed=7), FakeThredfi(seed=7)
    business = one.seed().business_ids[0]
    assert two.seed().business_ids[0] == business  # the same seeded ids...
    async with business_client(one, business) as http:
        assert (await http.get(f"/v1/platform/businesses/{business}/customers/")).status_code == 200
    token = one.business_token(business)
    async with two.http_client(headers={"Authorization": f"Bearer {token}"}) as http:
        response = await http.get(f"/v1/platform/businesses/{business}/customers/")
    assert response.status_code == 401  # ...but not each other's tokens
    async with two.http_client() as http:
        basic = await http.post(
            "/v1/platform/oauth2/token/",
            auth=httpx.BasicAuth(one.partner_uuid, one.api_key),
            data={"grant_type": "client_credentials"},
        )
    assert basic.status_code == 401
