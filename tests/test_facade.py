"""The public surface users rely on: resources, method names, signatures, business views."""

from __future__ import annotations

import datetime
import inspect
import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import thredfi_async as t
from thredfi_async._generated.resources import RESOURCE_NAMES

from .conftest import API_KEY, BASE_URL, PARTNER_UUID
from .spec_samples import operations

ROOT = Path(__file__).resolve().parent.parent
BUSINESS = "b7a4f2d0-0c38-4f0e-9e58-3f5d6f1f2a11"

DESIGN_RESOURCES = {
    "businesses", "customers", "invoices", "payments", "refunds", "refund_payments", "payouts",
    "customer_credits", "vendors", "bills", "bill_payments", "vendor_credits", "vendor_refunds",
    "vendor_refund_payments", "accounts", "journal_entries", "bank_accounts", "bank_transactions",
    "reports", "menu_config", "oauth",
}  # fmt: skip


def client() -> t.AsyncThredfi:
    return t.AsyncThredfi(PARTNER_UUID, API_KEY, base_url=BASE_URL)


def public_methods(resource: Any) -> dict[str, Any]:
    return {
        name: member
        for name, member in inspect.getmembers(type(resource), inspect.isfunction)
        if not name.startswith("_")
    }


def test_resources_are_the_design_groups() -> None:
    assert set(RESOURCE_NAMES) == DESIGN_RESOURCES
    thredfi = client()
    view = thredfi.business(BUSINESS)
    for name in DESIGN_RESOURCES:
        assert isinstance(getattr(thredfi, name), t._resource.Resource)
        assert getattr(view, name)._bound_business_id == BUSINESS


def test_every_operation_appears_exactly_once() -> None:
    thredfi = client()
    count = sum(len(public_methods(getattr(thredfi, name))) for name in RESOURCE_NAMES)
    assert count == len(operations()) == 93


@pytest.mark.parametrize(
    ("operation_id", "call"),
    [
        ("list_invoices", "invoices.list"),
        ("create_invoice_payment", "payments.create"),
        ("void_invoice", "invoices.void"),
        ("get_balance_sheet", "reports.get_balance_sheet"),
        ("retrieve_bank_account", "bank_accounts.get"),
        ("fetch_refund_payment", "refund_payments.get"),
        ("list_chart_of_accounts", "accounts.list"),
        ("get_journal_entry_detail", "journal_entries.get"),
        ("get_partner_token", "oauth.get_partner_token"),
        ("get_ap_aging", "reports.get_ap_aging"),
    ],
)
def test_method_names_follow_the_naming_rule(operation_id: str, call: str) -> None:
    table = (ROOT / "docs" / "operations.md").read_text()
    assert re.search(rf"\| `{operation_id}` \|.*\| `thredfi\.{re.escape(call)}\(\)` \|", table)


def test_operations_table_lists_every_operation_with_its_token_scope() -> None:
    rows = [
        line
        for line in (ROOT / "docs" / "operations.md").read_text().splitlines()
        if line.startswith("| `")
    ]
    assert len(rows) == 93
    scopes = {row.split("|")[4].strip() for row in rows}
    assert scopes == {"basic", "partner", "business"}


def test_no_generator_artefacts_leak_into_signatures() -> None:
    thredfi = client()
    for name in RESOURCE_NAMES:
        for method_name, method in public_methods(getattr(thredfi, name)).items():
            params = inspect.signature(method).parameters
            for param in params:
                assert not param.endswith("_") or param == "_", f"{name}.{method_name}({param})"
                assert "query" not in param or param == "extra_query", (
                    f"{name}.{method_name}({param})"
                )
                assert "header" not in param or param == "extra_headers", (
                    f"{name}.{method_name}({param})"
                )
            for option in (
                "idempotency_key",
                "timeout",
                "max_retries",
                "extra_headers",
                "extra_query",
            ):
                assert params[option].kind is inspect.Parameter.KEYWORD_ONLY
            if "business_id" in params:
                # The business is the subject of the businesses resource, positional there
                # (`businesses.get(business_id)`); elsewhere it scopes the call, by keyword.
                expected = (
                    inspect.Parameter.POSITIONAL_OR_KEYWORD
                    if name == "businesses"
                    else inspect.Parameter.KEYWORD_ONLY
                )
                assert params["business_id"].kind is expected, f"{name}.{method_name}"
            for parameter in params.values():
                if (
                    parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD
                    and parameter.name != "self"
                ):
                    assert parameter.name.endswith("_id"), (
                        f"{name}.{method_name}: {parameter.name} positional"
                    )


def test_required_query_parameters_are_required_arguments() -> None:
    signature = inspect.signature(client().reports.get_financial_summary)
    assert signature.parameters["start_date"].default is inspect.Parameter.empty
    assert signature.parameters["end_date"].default is inspect.Parameter.empty
    assert signature.parameters["granularity"].default is None


def test_models_keep_the_api_field_name_type() -> None:
    invoice = t.models.Invoice.from_dict({"type": "Invoice"})
    assert invoice.type == "Invoice"
    assert invoice.to_dict() == {"type": "Invoice"}


def recorder(seen: list[httpx.Request]) -> Any:
    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"id": "x"})

    return handler


@pytest.mark.asyncio
async def test_a_business_view_binds_business_id(make_client: Any) -> None:
    seen: list[httpx.Request] = []
    async with make_client(recorder(seen)) as thredfi:
        await thredfi.business(BUSINESS).customers.get("cus-1")
        await thredfi.customers.get("cus-1", business_id=BUSINESS)
        await thredfi.business(BUSINESS).customers.get("cus-1", business_id=BUSINESS)
    paths = {r.url.path for r in seen}
    assert paths == {f"/v1/platform/businesses/{BUSINESS}/customers/cus-1/"}
    assert len(seen) == 3


@pytest.mark.asyncio
async def test_a_view_refuses_another_business_before_sending(
    make_client: Any, tokens: Any
) -> None:
    seen: list[httpx.Request] = []
    async with make_client(recorder(seen)) as thredfi:
        with pytest.raises(t.InvalidRequestError, match="bound to business"):
            await thredfi.business(BUSINESS).customers.get("cus-1", business_id="another-business")
        with pytest.raises(t.InvalidRequestError, match="business_id is required"):
            await thredfi.customers.get("cus-1")
    assert seen == []
    assert sum(tokens.calls.values()) == 0


@pytest.mark.asyncio
async def test_a_body_of_the_wrong_type_is_refused_before_sending(
    make_client: Any, tokens: Any
) -> None:
    seen: list[httpx.Request] = []
    async with make_client(recorder(seen)) as thredfi:
        with pytest.raises(t.InvalidRequestError, match="body must be a CustomerCreateRequest"):
            await thredfi.business(BUSINESS).customers.create(body=["not", "a", "dict"])
        with pytest.raises(t.InvalidRequestError, match="body must be"):
            await thredfi.business(BUSINESS).customers.create(body=t.models.Invoice())
    assert seen == []
    assert sum(tokens.calls.values()) == 0


@pytest.mark.asyncio
async def test_extra_query_and_headers_are_sent(make_client: Any) -> None:
    seen: list[httpx.Request] = []
    async with make_client(recorder(seen)) as thredfi:
        await thredfi.business(BUSINESS).customers.get(
            "cus-1", extra_query={"expand": "documents"}, extra_headers={"X-Trace": "t-1"}
        )
    assert seen[0].url.params["expand"] == "documents"
    assert seen[0].headers["x-trace"] == "t-1"


@pytest.mark.asyncio
async def test_with_raw_response_gives_status_headers_request_and_model(make_client: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"id": "cus-1"}, headers={"X-Request-ID": "req-9"})

    async with make_client(handler) as thredfi:
        raw = await thredfi.business(BUSINESS).customers.with_raw_response.get("cus-1")
    assert raw.status_code == 200
    assert raw.request_id == "req-9"
    assert raw.request.url.path.endswith("/customers/cus-1/")
    assert isinstance(raw.parsed, t.models.Customer)
    assert raw.parsed.id == "cus-1"


@pytest.mark.asyncio
async def test_an_access_token_is_used_as_is_without_token_exchanges(tokens: Any) -> None:
    seen: list[httpx.Request] = []
    transport = httpx.MockTransport(recorder(seen))
    async with t.AsyncThredfi(
        access_token="held-token-123",
        base_url=BASE_URL,
        http_client=httpx.AsyncClient(transport=transport),
    ) as thredfi:
        await thredfi.business(BUSINESS).customers.get("cus-1")
        await thredfi.businesses.get(business_id=BUSINESS)
    assert [r.headers["authorization"] for r in seen] == ["Bearer held-token-123"] * 2


def test_missing_credentials_fail_before_any_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("THREDFI_PARTNER_UUID", raising=False)
    monkeypatch.delenv("THREDFI_API_KEY", raising=False)
    with pytest.raises(t.MissingCredentialsError, match="partner_uuid and api_key"):
        t.AsyncThredfi()
    with pytest.raises(t.MissingCredentialsError, match="api_key"):
        t.AsyncThredfi(partner_uuid=PARTNER_UUID)


def test_credentials_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THREDFI_PARTNER_UUID", PARTNER_UUID)
    monkeypatch.setenv("THREDFI_API_KEY", API_KEY)
    thredfi = t.AsyncThredfi()
    assert thredfi.partner_uuid == PARTNER_UUID
    assert thredfi.base_url == "https://sandbox.thredfi.com"
    assert t.AsyncThredfi(environment="production").base_url == "https://api.thredfi.com"
    with pytest.raises(t.InvalidRequestError, match="environment"):
        t.AsyncThredfi(environment="prod")


@pytest.mark.asyncio
async def test_a_dict_body_takes_ids_dates_and_times_as_the_sdk_returns_them(
    make_client: Callable[..., t.AsyncThredfi],
) -> None:
    seen: list[httpx.Request] = []
    customer_id = uuid.UUID("0b5f6c1e-9a43-4a8e-8a2d-4f7b2c1d9e01")
    async with make_client(recorder(seen)) as thredfi:
        await thredfi.business(BUSINESS).payments.create(
            body={
                "customer_id": customer_id,
                "total_amount_cents": 4000,
                "payment_date": datetime.date(2025, 6, 15),
                "currency": "GBP",
                "payment_method": "bank_transfer",
                "allocations": [{"invoice_id": customer_id, "amount_cents": 4000}],
            }
        )
    (sent,) = seen
    body = json.loads(sent.content)
    assert body["customer_id"] == "0b5f6c1e-9a43-4a8e-8a2d-4f7b2c1d9e01"
    assert body["allocations"][0]["invoice_id"] == body["customer_id"]
    assert body["payment_date"] == "2025-06-15"
