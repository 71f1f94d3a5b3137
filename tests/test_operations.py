"""Every operation of openapi.yaml, called through its facade method (pytest-httpx).

For each one: the HTTP method, the URL path, the query string, the body encoding (JSON, form or
multipart as the spec says) and the Authorization header the spec's `security` asks for, and
the response parsed into the operation's model.
"""

from __future__ import annotations

import base64
import importlib
import inspect
import json
import re
from decimal import Decimal
from io import BytesIO
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from pytest_httpx import HTTPXMock

from thredfi_async import AsyncThredfi, File, Page, models
from thredfi_async._generated.resources import RESOURCE_NAMES
from thredfi_async._json import dumps
from thredfi_async.bodies import InvoiceRecordPaymentRequestRequestDict

from .conftest import API_KEY, BASE_URL, PARTNER_UUID, TokenEndpoints
from .spec_samples import SpecOperation, operations, sample, sample_id

BUSINESS_ID = sample_id("business")
OPERATIONS = operations()


def endpoint_module(op: SpecOperation) -> Any:
    for resource in RESOURCE_NAMES:
        try:
            return importlib.import_module(
                f"thredfi_async._generated.api.{resource}.{op.operation_id}"
            )
        except ModuleNotFoundError:
            continue
    raise AssertionError(f"no endpoint module for {op.operation_id}")


def facade_method(client: Any, op: SpecOperation) -> Any:
    operation = endpoint_module(op).OPERATION
    return getattr(getattr(client, operation.resource), operation.method_name)


def call_arguments(
    method: Any, op: SpecOperation
) -> tuple[list[Any], dict[str, Any], dict[str, str], dict[str, str]]:
    """Minimal valid arguments: path ids, required query parameters and a minimal body."""
    params = {p["name"]: p for p in op.parameters}
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    path_values: dict[str, str] = {}
    expected_query: dict[str, str] = {}
    for name, parameter in inspect.signature(method).parameters.items():
        if name == "business_id":
            kwargs[name] = BUSINESS_ID
            path_values[name] = BUSINESS_ID
        elif parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
            value = sample_id(name)
            args.append(value)
            path_values[name] = value
        elif name == "body":
            kwargs["body"] = sample(
                op.body_schema("application/json")
                or op.body_schema("application/x-www-form-urlencoded")
                or {},
                "body",
                full=False,
            )
        elif parameter.default is inspect.Parameter.empty:
            value = sample(params[name]["schema"], name)
            kwargs[name] = value
            expected_query[name] = str(value)
    if "business_id" in params and "business_id" not in path_values:
        raise AssertionError(f"{op.operation_id}: business_id in the path but not in the call")
    return args, kwargs, path_values, expected_query


def expected_authorization(op: SpecOperation, tokens: TokenEndpoints) -> str:
    scheme = next(iter(op.operation["security"][0]))
    if scheme == "BasicAuth":
        return "Basic " + base64.b64encode(f"{PARTNER_UUID}:{API_KEY}".encode()).decode()
    if scheme == "BearerUnscoped":
        return f"Bearer {tokens.issued['partner']}"
    return f"Bearer {tokens.issued[BUSINESS_ID]}"


def success_response(op: SpecOperation) -> httpx.Response:
    schema = op.success_schema()
    status = min(int(code) for code in op.operation["responses"] if code.startswith("2"))
    if schema is None:
        return httpx.Response(status)
    return httpx.Response(
        status,
        content=dumps(sample(schema, "response")),
        headers={"Content-Type": "application/json"},
    )


def result_type_name(op: SpecOperation) -> str:
    annotation = endpoint_module(op).parse_response.__annotations__["return"]
    return str(annotation).split(" | ")[0]


def test_the_spec_has_93_operations_and_every_one_has_a_facade_method() -> None:
    assert len(OPERATIONS) == 93
    client = AsyncThredfi(PARTNER_UUID, API_KEY, base_url=BASE_URL, http_client=httpx.AsyncClient())
    for op in OPERATIONS:
        method = facade_method(client, op)
        first_line = (method.__doc__ or "").strip().splitlines()[0]
        assert first_line.startswith(f"{op.method} {op.path} - "), first_line
        assert op.operation.get("summary", "").strip() in first_line


@pytest.mark.asyncio
@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
async def test_every_operation_sends_the_request_the_spec_describes(
    op: SpecOperation, httpx_mock: HTTPXMock, tokens: TokenEndpoints
) -> None:
    seen: list[httpx.Request] = []

    under_test = re.compile("^" + re.sub(r"\{[^}]+\}", "[^/]+", op.path) + "$")

    def route(request: httpx.Request) -> httpx.Response:
        if not under_test.match(request.url.path):
            return tokens.handle(request) or httpx.Response(599)
        seen.append(request)
        if op.operation_id == "get_business_token":  # the call under test also mints a token
            return tokens.handle(request) or httpx.Response(599)
        return success_response(op)

    httpx_mock.add_callback(route, is_reusable=True)
    async with AsyncThredfi(
        PARTNER_UUID, API_KEY, base_url=BASE_URL, http_client=httpx.AsyncClient()
    ) as client:
        method = facade_method(client, op)
        args, kwargs, path_values, expected_query = call_arguments(method, op)
        result = await method(*args, **kwargs)

    assert len(seen) == 1, [str(r.url) for r in seen]
    request = seen[0]
    assert request.method == op.method
    assert request.url.path == op.path.format(**path_values)
    assert {k: v[0] for k, v in parse_qs(request.url.query.decode()).items()} == expected_query
    assert request.headers["authorization"] == expected_authorization(op, tokens)

    body = op.operation.get("requestBody")
    if body is None:
        assert request.content == b""
    elif "application/json" in body["content"]:
        assert request.headers["content-type"] == "application/json"
        assert json.loads(request.content, parse_float=Decimal) == kwargs["body"]
    else:
        assert list(body["content"]) == ["application/x-www-form-urlencoded"]
        assert request.headers["content-type"] == "application/x-www-form-urlencoded"
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        assert form == {k: str(v) for k, v in kwargs["body"].items()}
    if op.method in {"POST", "PATCH"}:
        assert request.headers.get("idempotency-key")

    if isinstance(result, Page):
        item_type = endpoint_module(op).OPERATION.paginated and result.results
        assert item_type, "a paginated response should carry its sample item"
        assert type(result.envelope).__name__ == result_type_name(op)
    elif result_type_name(op) == "None":
        assert result is None
    else:
        assert type(result).__name__ == result_type_name(op)


@pytest.mark.asyncio
async def test_create_invoice_with_a_file_is_sent_as_multipart(
    httpx_mock: HTTPXMock, tokens: TokenEndpoints
) -> None:
    seen: list[httpx.Request] = []

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/invoices/"):
            seen.append(request)
            return httpx.Response(201, json={"id": sample_id("invoice")})
        return tokens.handle(request) or httpx.Response(500)

    httpx_mock.add_callback(route, is_reusable=True)
    upload = models.InvoiceCreateUpload(
        customer_id=sample_id("customer"),
        memo="with receipt",
        file=File(
            payload=BytesIO(b"%PDF-1.4 test"), file_name="inv.pdf", mime_type="application/pdf"
        ),
    )
    async with AsyncThredfi(
        PARTNER_UUID, API_KEY, base_url=BASE_URL, http_client=httpx.AsyncClient()
    ) as client:
        invoice = await client.business(BUSINESS_ID).invoices.create(body=upload)

    assert isinstance(invoice, models.Invoice)
    request = seen[0]
    assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert b'name="file"; filename="inv.pdf"' in request.content
    assert b"%PDF-1.4 test" in request.content
    assert b'name="memo"\r\n\r\nwith receipt' in request.content


@pytest.mark.asyncio
async def test_a_model_body_is_sent_like_the_equivalent_dict(
    httpx_mock: HTTPXMock, tokens: TokenEndpoints
) -> None:
    bodies: list[bytes] = []

    def route(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/payments/"):
            bodies.append(request.content)
            return httpx.Response(201, json={"payment": {"id": sample_id("payment")}})
        return tokens.handle(request) or httpx.Response(500)

    httpx_mock.add_callback(route, is_reusable=True)
    as_dict: InvoiceRecordPaymentRequestRequestDict = {
        "customer_id": sample_id("customer"),
        "total_amount_cents": 4000,
        "payment_method": "bank_transfer",
        "allocations": [{"invoice_id": sample_id("invoice"), "amount_cents": 4000}],
    }
    async with AsyncThredfi(
        PARTNER_UUID, API_KEY, base_url=BASE_URL, http_client=httpx.AsyncClient()
    ) as client:
        payments = client.business(BUSINESS_ID).payments
        await payments.create(body=as_dict)
        await payments.create(body=models.InvoiceRecordPaymentRequestRequest.from_dict(as_dict))

    assert json.loads(bodies[0]) == json.loads(bodies[1]) == as_dict
