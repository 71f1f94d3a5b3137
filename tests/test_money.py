"""Money is exact: Decimal for JSON numbers, int for integers, never a float on the way."""

from __future__ import annotations

import ast
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

import thredfi_async as t
from thredfi_async import _json, models

ROOT = Path(__file__).resolve().parent.parent
GENERATED = ROOT / "thredfi_async" / "_generated"
BUSINESS = "b7a4f2d0-0c38-4f0e-9e58-3f5d6f1f2a11"


class NoFloats:
    """Swaps the SDK's response decoder for one whose float hook records every fractional
    number literal and checks it becomes a Decimal: none may be parsed as a float."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.literals: list[str] = []
        assert _json.FLOAT_HOOK is Decimal

        def spy(literal: str) -> Any:
            assert isinstance(literal, str)  # the text of the literal, not a float made from it
            self.literals.append(literal)
            value = _json.FLOAT_HOOK(literal)
            assert not isinstance(value, float)
            return value

        monkeypatch.setattr(_json, "_decoder", msgspec.json.Decoder(float_hook=spy))


def no_float_anywhere(value: Any) -> None:
    if isinstance(value, float):
        raise AssertionError(f"float found: {value!r}")
    if isinstance(value, dict):
        for item in value.values():
            no_float_anywhere(item)
    elif isinstance(value, list):
        for item in value:
            no_float_anywhere(item)
    elif hasattr(value, "to_dict") and hasattr(value, "additional_properties"):
        no_float_anywhere(value.to_dict())


@pytest.mark.asyncio
async def test_decimals_round_trip_through_request_and_response_exactly(
    make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = NoFloats(monkeypatch)
    sent: list[bytes] = []

    def echo(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        body = json.loads(request.content, parse_float=Decimal)
        line = body["line_items"][0]
        return httpx.Response(
            201,
            content=_json.dumps(
                {"id": "bill-1", "line_items": [{**line, "total_amount": line["unit_price"]}]}
            ),
        )

    amount = Decimal("0.10") + Decimal("0.20")
    big = Decimal("12345678901234.56")
    async with make_client(echo) as client:
        bill = await client.business(BUSINESS).bills.create(
            body=models.BillCreateAPIRequest(
                line_items=[
                    models.BillLineItemRequest(unit_price=amount, quantity=big, description="x")
                ]
            )
        )

    assert b'"unit_price":0.30' in sent[0]
    assert b'"quantity":12345678901234.56' in sent[0]
    line = bill.line_items[0]
    assert line.unit_price == Decimal("0.30")
    assert str(line.unit_price) == "0.30"
    assert line.quantity == big
    assert str(line.quantity) == "12345678901234.56"
    assert line.total_amount == Decimal("0.30")
    assert {"0.30", "12345678901234.56"} <= set(spy.literals)
    no_float_anywhere(bill)


@pytest.mark.asyncio
async def test_ten_thousand_cents_sum_to_exactly_one_hundred(
    make_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    NoFloats(monkeypatch)
    payload = {
        "count": 10_000,
        "page_info": {
            "total_count": 10_000,
            "current_page": 1,
            "total_pages": 1,
            "page_size": 10_000,
        },
        "results": [{"id": f"vc-{i}", "total_amount": 0.01} for i in range(10_000)],
    }
    content = json.dumps(payload).encode()

    async with make_client(lambda request: httpx.Response(200, content=content)) as client:
        page = await client.business(BUSINESS).vendor_credits.list()

    total = sum((credit.total_amount for credit in page.results), Decimal(0))
    assert total == Decimal("100.00")
    assert str(total) == "100.00"
    assert all(type(credit.total_amount) is Decimal for credit in page.results)


@pytest.mark.asyncio
async def test_a_float_amount_is_refused_before_sending_naming_the_field(make_client: Any) -> None:
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(201, json={})

    async with make_client(handler) as client:
        bills = client.business(BUSINESS).bills
        with pytest.raises(
            t.InvalidRequestError, match=r"body\.line_items\[0\]\.unit_price is a float"
        ):
            await bills.create(body={"line_items": [{"unit_price": 19.99, "quantity": 1}]})
        with pytest.raises(
            t.InvalidRequestError, match=r"body\.line_items\[0\]\.quantity is a float"
        ):
            await bills.create(
                body=models.BillCreateAPIRequest(
                    line_items=[models.BillLineItemRequest(quantity=0.5)]  # type: ignore[arg-type]
                )
            )
    assert [r for r in sent if "/bills/" in r.url.path] == []


@pytest.mark.asyncio
async def test_integer_amounts_are_accepted_and_cents_stay_integers(make_client: Any) -> None:
    sent: list[bytes] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        return httpx.Response(
            201,
            json={"payment": {"total_amount_cents": 4000, "applied_amount_cents": 1500}},
        )

    async with make_client(handler) as client:
        created = await client.business(BUSINESS).payments.create(
            body=models.InvoiceRecordPaymentRequestRequest(total_amount_cents=4000)
        )
        line = models.BillLineItemRequest(quantity=2, unit_price=Decimal("10.5"))
    assert b'"total_amount_cents":4000' in sent[0]
    assert type(created.payment.total_amount_cents) is int
    assert created.payment.applied_amount_cents == 1500
    assert _json.dumps(line.to_dict()) == b'{"quantity":2,"unit_price":10.5}'


def test_json_numbers_in_decimal_fields_become_decimal_even_when_integral() -> None:
    line = models.BillLineItem.from_dict({"quantity": 3, "unit_price": "7.25", "subtotal": 21.75})
    assert line.quantity == Decimal(3)
    assert type(line.quantity) is Decimal
    assert line.unit_price == Decimal("7.25")  # a numeric string still parses
    assert line.subtotal == Decimal("21.75")


def test_non_finite_decimals_are_refused() -> None:
    with pytest.raises(t.InvalidRequestError, match="not a JSON number"):
        _json.dumps({"amount": Decimal("NaN")})


def _annotations(tree: ast.AST) -> list[ast.expr]:
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.AnnAssign | ast.arg) and node.annotation is not None:
            found.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            found.append(node.returns)
    return found


def test_no_float_annotation_anywhere_in_generated_code() -> None:
    scanned = 0
    for path in GENERATED.rglob("*.py"):
        for annotation in _annotations(ast.parse(path.read_text(encoding="utf-8"))):
            names = {n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)}
            assert "float" not in names, f"{path.relative_to(ROOT)}: {ast.unparse(annotation)}"
            scanned += 1
    assert scanned > 1000


def test_the_spec_number_fields_are_all_decimal_in_the_models() -> None:
    spec = json.loads((GENERATED / "openapi.json").read_text())
    numbers = [
        (name, prop_name)
        for name, schema in spec["components"]["schemas"].items()
        for prop_name, prop in schema.get("properties", {}).items()
        if prop.get("type") == "number"
    ]
    assert len(numbers) == 36
    for schema_name, prop_name in numbers:
        model = getattr(models, schema_name)
        # A required field is read through a property (it raises when a response lacked it).
        declared = model.__dict__.get(prop_name)
        if isinstance(declared, property):
            annotation = declared.fget.__annotations__["return"]
        else:
            annotation = model.__annotations__[prop_name]
        assert annotation.startswith("Decimal"), f"{schema_name}.{prop_name}: {annotation}"


def test_to_json_writes_every_model_exactly_and_to_dict_says_how_to_dump_it() -> None:
    body = {
        "vendor_id": "5b0c9d8e-7f6a-4b3c-9d2e-1f0a9b8c7d6e",
        "vendor_name": "Initech",
        "total_outstanding_cents": 1250,
        "undeclared_amount": Decimal("12345678901234.56"),
    }
    vendor = models.APAgingVendor.from_dict(body)
    text = vendor.to_json()
    assert "12345678901234.56" in text
    assert json.loads(text, parse_float=Decimal) == body
    assert json.loads(json.dumps(vendor.to_dict(), default=str))["undeclared_amount"] == (
        "12345678901234.56"
    )
