"""Helpers shared by the fake-API tests (plain functions, not fixtures)."""

from __future__ import annotations

from typing import Any

import httpx
from openapi_schema_validator import OAS30ReadValidator, oas30_format_checker

from thredfi_async.testing import FakeThredfi
from thredfi_async.testing._server.spec import OperationTable, load_spec

_TABLE = OperationTable(load_spec())


class Api:
    """A thin authenticated wrapper: partner token for partner calls, business token for books."""

    def __init__(self, fake: FakeThredfi, http: httpx.AsyncClient) -> None:
        self.fake = fake
        self.http = http
        self.partner_token: str | None = None
        self.business_tokens: dict[str, str] = {}

    async def get_partner_token(self) -> str:
        if self.partner_token is None:
            response = await self.http.post(
                "/v1/platform/oauth2/token/",
                auth=(self.fake.partner_uuid, self.fake.api_key),
                data={"grant_type": "client_credentials", "client_id": self.fake.partner_uuid},
            )
            assert response.status_code == 200, response.text
            self.partner_token = response.json()["access_token"]
        return self.partner_token

    async def partner(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        token = await self.get_partner_token()
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        return await self.http.request(method, path, headers=headers, **kwargs)

    async def create_business(self, **overrides: Any) -> dict[str, Any]:
        body = {
            "external_id": f"biz-{len(self.fake.business_ids) + 1}",
            "legal_name": "Test Trading Ltd",
            "entity_type": "limited",
            "email": "owner@test.example",
            "country": "GB",
            **overrides,
        }
        response = await self.partner("POST", "/v1/platform/businesses/", json=body)
        assert response.status_code == 201, response.text
        business: dict[str, Any] = response.json()
        return business

    async def business_token(self, business_id: str) -> str:
        if business_id not in self.business_tokens:
            response = await self.partner("POST", f"/v1/platform/{business_id}/oauth2/token/")
            assert response.status_code == 200, response.text
            self.business_tokens[business_id] = response.json()["access_token"]
        return self.business_tokens[business_id]

    async def business_id(self) -> str:
        """A new business, by id: the usual start of a test of one business's books."""
        business = await self.create_business()
        return str(business["id"])

    async def books(
        self, business_id: str, method: str, path: str, **kwargs: Any
    ) -> httpx.Response:
        """A call on ``/v1/platform/businesses/{business_id}{path}`` with the business token."""
        token = await self.business_token(business_id)
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        url = f"/v1/platform/businesses/{business_id}{path}"
        return await self.http.request(method, url, headers=headers, **kwargs)

    async def create(self, business_id: str, path: str, body: dict[str, Any]) -> Any:
        """POST ``body`` on a business path and return what it created (checked: 201)."""
        return ok(await self.books(business_id, "POST", path, json=body), 201)

    async def get(self, business_id: str, path: str, **params: Any) -> Any:
        """GET a business path with query ``params`` and return the body (checked: 200)."""
        return ok(await self.books(business_id, "GET", path, params=params))

    async def pay_invoice(
        self,
        business_id: str,
        customer_id: str,
        invoice_id: str,
        amount: int,
        *,
        total: int | None = None,
        **fields: Any,
    ) -> dict[str, Any]:
        """Create :func:`invoice_payment` and return the ``payment`` (checked: 201)."""
        body = invoice_payment(customer_id, invoice_id, amount, total=total, **fields)
        created: dict[str, Any] = (await self.create(business_id, "/invoices/payments/", body))[
            "payment"
        ]
        return created


def invoice_payment(
    customer_id: str, invoice_id: str, amount: int, *, total: int | None = None, **fields: Any
) -> dict[str, Any]:
    """A payment body allocating ``amount`` to one invoice, of ``total`` (by default all)."""
    return {
        "customer_id": customer_id,
        "total_amount_cents": amount if total is None else total,
        **fields,
        "allocations": [{"invoice_id": invoice_id, "amount_cents": amount}],
    }


def business_client(fake: FakeThredfi, business_id: str) -> httpx.AsyncClient:
    """Plain httpx on the fake with a business token minted directly (no exchange recorded)."""
    return fake.http_client(headers={"Authorization": f"Bearer {fake.business_token(business_id)}"})


def ok(response: httpx.Response, status: int = 200) -> Any:
    """The JSON body, after checking the status (the body is shown when it is wrong)."""
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json() if response.content else None


def schema_errors(operation_id: str, response: httpx.Response) -> list[str]:
    """Every way ``response`` breaks the (corrected) spec's success schema for the operation."""
    operation = _TABLE.operations[operation_id]
    schema = operation.response_schema(response.status_code)
    declared = response.status_code in operation.responses
    if schema is None:
        return [] if not response.content else ["a body where the spec declares none"]
    validator = OAS30ReadValidator(schema, format_checker=oas30_format_checker)
    errors = [
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in validator.iter_errors(response.json())
    ]
    if not declared and response.status_code not in (200, 201, 204):
        errors.append(f"undeclared status {response.status_code}")
    return errors
