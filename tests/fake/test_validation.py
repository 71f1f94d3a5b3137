"""Client mistakes come back as 400 ``validation_error`` with per-field details (shape 1)."""

from __future__ import annotations

import pytest

from ._support import Api, ok

pytestmark = pytest.mark.anyio


async def test_body_errors_name_each_field(api: Api) -> None:
    bid = await api.business_id()
    response = await api.books(
        bid,
        "POST",
        "/invoices/payments/",
        json={
            "customer_id": "not-a-uuid",
            "total_amount_cents": 12.5,
            "payment_method": "bitcoin",
            "allocations": [
                {"invoice_id": "00000000-0000-4000-8000-000000000000", "amount_cents": 0}
            ],
        },
    )
    assert response.status_code == 400
    body = response.json()
    assert body["error_code"] == "validation_error"
    assert body["error"] == "Validation errors in request data"
    assert body["details"] == {
        "allocations.0.amount_cents": ["Ensure this value is greater than or equal to 1."],
        "customer_id": ["Must be a valid UUID."],
        "payment_method": ['"bitcoin" is not a valid choice.'],
        "total_amount_cents": ["A valid integer is required."],
    }


async def test_required_fields_are_reported(api: Api) -> None:
    response = await api.partner("POST", "/v1/platform/businesses/", json={"email": "nope"})
    assert response.status_code == 400
    details = response.json()["details"]
    assert details["external_id"] == ["This field is required."]
    assert details["legal_name"] == ["This field is required."]
    assert details["entity_type"] == ["This field is required."]
    assert details["email"] == ["Enter a valid email address."]


async def test_invalid_currency_uses_the_documented_message(api: Api) -> None:
    response = await api.partner(
        "POST",
        "/v1/platform/businesses/",
        json={
            "external_id": "x",
            "legal_name": "X",
            "entity_type": "limited",
            "email": "x@x.example",
            "base_currency": "JPY",
        },
    )
    assert response.status_code == 400
    assert response.json()["details"]["base_currency"] == [
        "Invalid currency code. Must be one of: EUR, GBP, USD, SEK, NOK, DKK, ISK, MYR, SGD"
    ]


async def test_entity_type_error_uses_the_detail_shape(api: Api) -> None:
    response = await api.partner(
        "POST",
        "/v1/platform/businesses/",
        json={"external_id": "x", "legal_name": "X", "entity_type": "gmbh", "email": "x@x.example"},
    )
    assert response.status_code == 400
    assert response.json() == {
        "error_code": "validation_error",
        "detail": "Invalid entity_type 'gmbh' for country GB. "
        "Valid options: limited, sole_trader, llp, partnership, plc",
    }


async def test_query_and_path_parameters_are_validated(api: Api) -> None:
    bid = await api.business_id()
    response = await api.books(
        bid, "GET", "/invoices/", params={"page": "two", "max_amount": "1.5"}
    )
    assert response.status_code == 400
    assert response.json()["details"] == {
        "page": ["A valid integer is required."],
        "max_amount": ["A valid integer is required."],
    }
    response = await api.books(bid, "GET", "/invoices/not-a-uuid/")
    assert response.status_code == 400
    assert response.json()["details"] == {"invoice_id": ["Must be a valid UUID."]}
    response = await api.books(
        bid, "GET", "/reports/profit-and-loss/", params={"start_date": "2025-01-01"}
    )
    assert response.status_code == 400
    assert response.json()["details"] == {"end_date": ["This field is required."]}


async def test_enum_query_values_are_checked(api: Api) -> None:
    bid = await api.business_id()
    response = await api.books(bid, "GET", "/bills/payments/", params={"status": "lost"})
    assert response.status_code == 400
    assert response.json()["details"] == {"status": ['"lost" is not a valid choice.']}


async def test_unknown_query_parameters_are_ignored(api: Api) -> None:
    bid = await api.business_id()
    body = await api.get(bid, "/customers/", favourite_colour="blue")
    assert body["count"] == 0


async def test_an_undeclared_filter_is_checked_like_a_declared_one(api: Api) -> None:
    # min_amount is read by list_invoices but not declared there (max_amount is): a malformed
    # value gets the declared parameter's 400, on an empty list and a non-empty one alike.
    bid = await api.business_id()
    invalid = {"min_amount": ["A valid integer is required."]}
    for _ in range(2):
        response = await api.books(bid, "GET", "/invoices/", params={"min_amount": "abc"})
        assert response.status_code == 400, response.text
        assert response.json()["error_code"] == "validation_error"
        assert response.json()["details"] == invalid
        customer = await api.create(bid, "/customers/", {"company_name": "Acme"})
        await api.create(
            bid, "/invoices/", {"customer_id": customer["id"], "line_items": [{"unit_price": 500}]}
        )
    response = await api.books(bid, "GET", "/invoices/", params={"min_amount": "5.5"})
    assert response.json()["details"] == invalid
    assert (await api.get(bid, "/invoices/", min_amount=500))["count"] == 2
    assert (await api.get(bid, "/invoices/", min_amount=501))["count"] == 0
    assert (await api.get(bid, "/invoices/", min_amount=""))["count"] == 2


async def test_hand_parsed_period_filters_answer_400_out_of_range(api: Api) -> None:
    bid = await api.business_id()
    path = "/general-ledger/chart-of-accounts/"
    for params, field in (
        ({"period_year": "0", "period_month": "1"}, "period_year"),
        ({"period_year": "10000", "period_month": "12"}, "period_year"),
        ({"fiscal_year": "0"}, "fiscal_year"),
        ({"period_year": "2025", "period_month": "13"}, "period_month"),
    ):
        response = await api.books(bid, "GET", path, params=params)
        assert response.status_code == 400, (params, response.text)
        assert list(response.json()["details"]) == [field]
    assert (await api.get(bid, path, fiscal_year=2025))["count"] > 0


async def test_business_rules_answer_400_with_details(api: Api) -> None:
    bid = await api.business_id()
    missing = "00000000-0000-4000-8000-000000000000"
    response = await api.books(
        bid, "POST", "/invoices/", json={"customer_id": missing, "line_items": []}
    )
    assert response.status_code == 400
    assert response.json()["details"] == {"customer_id": [f'Customer "{missing}" does not exist.']}


async def test_malformed_json_and_unsupported_media_types(api: Api) -> None:
    bid = await api.business_id()
    malformed = await api.books(
        bid,
        "POST",
        "/customers/",
        content=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert malformed.status_code == 400
    assert malformed.json()["error_code"] == "parse_error"
    form = await api.books(bid, "POST", "/customers/", data={"company_name": "Form Ltd"})
    assert form.status_code == 415
    xml = await api.books(
        bid, "POST", "/customers/", content=b"<x/>", headers={"Content-Type": "application/xml"}
    )
    assert xml.status_code == 415


async def test_form_bodies_are_coerced_where_the_spec_offers_them(api: Api) -> None:
    bid = await api.business_id()
    vendor = ok(
        await api.books(bid, "POST", "/vendors/", data={"company_name": "Form Vendor"}), 201
    )
    bill = await api.books(
        bid,
        "POST",
        "/bills/",
        data={
            "vendor_id": vendor["id"],
            "line_items": '[{"quantity": 2, "unit_price": 1500}]',
        },
    )
    assert ok(bill, 201)["total_amount_cents"] == 3000


async def test_null_where_the_spec_forbids_it_is_reported(api: Api) -> None:
    bid = await api.business_id()
    response = await api.books(bid, "POST", "/customers/", json={"company_name": None})
    assert response.status_code == 400
    assert response.json()["details"] == {"company_name": ["This field may not be null."]}


async def test_missing_trailing_slash_and_wrong_method(api: Api) -> None:
    bid = await api.business_id()
    token = await api.business_token(bid)
    headers = {"Authorization": f"Bearer {token}"}
    response = await api.http.get(f"/v1/platform/businesses/{bid}/customers", headers=headers)
    assert response.status_code == 404
    assert "slash" in response.json()["message"]
    response = await api.http.delete(f"/v1/platform/businesses/{bid}/customers/", headers=headers)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, POST"
    assert response.json()["error_code"] == "method_not_allowed"


async def test_every_error_carries_a_request_id(api: Api) -> None:
    response = await api.http.get("/v1/platform/businesses/")
    assert response.status_code == 401
    assert response.headers["x-request-id"] == response.json()["request_id"]
