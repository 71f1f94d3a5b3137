"""Models are tolerant by policy: drifted responses parse, typed where they can be, raw where not.

For every operation, a spec-shaped success body is mutated five ways (an unknown value in every
enum field, a non-UUID string in every uuid field, null in every field, every required field
removed, an extra field at every level) and must parse; `to_dict()` must then give back exactly
what was received, which proves raw values, nulls, absences and extra fields were all kept.
"""

from __future__ import annotations

import datetime
import json
import sys
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import httpx
import pytest

from thredfi_async import UNSET
from thredfi_async._json import dumps, loads

from .spec_samples import (
    MUTATIONS,
    SpecOperation,
    deref,
    operations,
    sample,
    sample_id,
)
from .test_operations import call_arguments, endpoint_module, facade_method

OPERATIONS = operations()
WITH_BODY = [op for op in OPERATIONS if op.success_schema() is not None]


def attribute_of(model: Any, key: str) -> Any:
    fields = dict(
        (json_key, attr) for attr, json_key in sys.modules[type(model).__module__]._FIELDS
    )
    return getattr(model, fields[key])


def assert_typed(model: Any, schema: dict[str, Any], path: str) -> int:
    """Every value that parses is typed: UUID, datetime, date, enum member, Decimal, model."""
    checked = 0
    for key, sub in deref(schema).get("properties", {}).items():
        sub = deref(sub)
        if "allOf" in sub:
            sub = deref(sub["allOf"][0])
        value = attribute_of(model, key)
        if value is UNSET:  # the sample stops nesting at some depth
            continue
        where = f"{path}.{key}"
        fmt, kind = sub.get("format"), sub.get("type")
        if "enum" in sub:
            assert isinstance(value, Enum), where
        elif fmt == "uuid":
            assert isinstance(value, UUID), where
        elif fmt == "date-time":
            assert isinstance(value, datetime.datetime), where
        elif fmt == "date":
            assert isinstance(value, datetime.date), where
        elif kind == "number":
            assert isinstance(value, Decimal), where
        elif kind == "object" and "properties" in sub:
            checked += assert_typed(value, sub, where)
        elif kind == "array" and "properties" in deref(sub.get("items", {})):
            for index, item in enumerate(value):
                checked += assert_typed(item, sub["items"], f"{where}[{index}]")
        else:
            continue
        checked += 1
    return checked


def parse(op: SpecOperation, data: Any) -> Any:
    return endpoint_module(op).parse_response(loads(dumps(data)))


@pytest.mark.parametrize("op", WITH_BODY, ids=lambda op: op.operation_id)
def test_spec_shaped_responses_parse_into_typed_models(op: SpecOperation) -> None:
    schema = op.success_schema()
    assert schema is not None
    data = sample(schema, "response")
    model = parse(op, data)
    assert model.to_dict() == loads(dumps(data))
    assert_typed(model, schema, op.operation_id)


@pytest.mark.parametrize("mutation", list(MUTATIONS))
def test_every_operation_parses_drifted_responses(mutation: str) -> None:
    """93 of 93, for each of the five mutations."""
    parsed = 0
    for op in OPERATIONS:
        schema = op.success_schema()
        if schema is None:
            assert endpoint_module(op).parse_response(None) is None
            parsed += 1
            continue
        data = loads(dumps(MUTATIONS[mutation](sample(schema, "response"), schema)))
        model = parse(op, data)
        assert model.to_dict() == data, op.operation_id
        parsed += 1
    assert parsed == len(OPERATIONS) == 93


def test_raw_values_are_kept_where_typing_fails() -> None:
    op = next(op for op in OPERATIONS if op.operation_id == "get_invoice")
    data = {
        "id": "inv-not-a-uuid",
        "business_id": sample_id("business"),
        "sent_at": "last tuesday",
        "customer": {"id": "cus_123", "type": "Customer"},
        "status": "SOMETHING_NEW",
        "new_field": {"nested": True},
    }
    invoice = parse(op, data)
    assert invoice.id == "inv-not-a-uuid"
    assert invoice.business_id == UUID(sample_id("business"))
    assert invoice.sent_at == "last tuesday"
    assert invoice.customer.id == "cus_123"
    assert invoice.customer.type == "Customer"
    assert invoice.status == "SOMETHING_NEW"
    assert invoice.paid_at is UNSET
    assert invoice["new_field"] == {"nested": True}


def test_unknown_enum_values_become_members_made_for_them() -> None:
    op = next(op for op in OPERATIONS if op.operation_id == "get_ap_aging")
    known = parse(op, {"group_by": "vendor"})
    unknown = parse(op, {"group_by": "by_region"})
    enum = type(known.group_by)
    assert known.group_by is enum("vendor")
    assert known.group_by.is_known
    # Typed as the enum, as its annotation says, but not one of the listed values.
    assert type(unknown.group_by) is enum
    assert unknown.group_by == "by_region"
    assert str(unknown.group_by) == "by_region"
    assert not unknown.group_by.is_known
    assert unknown.group_by not in list(enum.__members__.values())
    assert enum("by_region") is unknown.group_by, "one member per unknown value"
    assert unknown.to_dict() == {"group_by": "by_region"}
    assert json.loads(json.dumps(unknown.to_dict())) == {"group_by": "by_region"}


def test_an_enum_value_of_the_wrong_json_type_stays_raw() -> None:
    op = next(op for op in OPERATIONS if op.operation_id == "get_ap_aging")
    odd = parse(op, {"group_by": 7})
    assert odd.group_by == 7
    assert not isinstance(odd.group_by, Enum)
    with pytest.raises(ValueError, match="is not a valid"):
        type(parse(op, {"group_by": "vendor"}).group_by)(7)


def test_a_report_wrapped_in_a_one_element_array_is_unwrapped() -> None:
    op = next(op for op in OPERATIONS if op.operation_id == "get_balance_sheet")
    report = parse(op, [{"business_id": sample_id("business"), "currency": "GBP"}])
    assert report.currency == "GBP"


CREATES_DECLARED_201 = [
    op
    for op in OPERATIONS
    if op.method == "POST"
    and "201" in op.operation["responses"]
    and "200" not in op.operation["responses"]
]
DELETES = [op for op in OPERATIONS if op.method == "DELETE"]


async def _call_with_status(make_client: Any, op: SpecOperation, status: int) -> Any:
    schema = op.success_schema()

    def handler(request: httpx.Request) -> httpx.Response:
        if status == 204 or schema is None:
            return httpx.Response(status)
        return httpx.Response(status, content=dumps(sample(schema, "response")))

    async with make_client(handler) as client:
        method = facade_method(client, op)
        args, kwargs, _, _ = call_arguments(method, op)
        return await method(*args, **kwargs)


@pytest.mark.asyncio
@pytest.mark.parametrize("op", CREATES_DECLARED_201, ids=lambda op: op.operation_id)
async def test_a_create_answered_200_returns_the_object_like_201(
    make_client: Any, op: SpecOperation
) -> None:
    result = await _call_with_status(make_client, op, 200)
    schema = op.success_schema()
    assert schema is not None
    assert type(result).__name__ == endpoint_module(op).parse_response.__annotations__["return"]


@pytest.mark.asyncio
@pytest.mark.parametrize("op", DELETES, ids=lambda op: op.operation_id)
async def test_a_delete_answered_204_returns_none(make_client: Any, op: SpecOperation) -> None:
    assert await _call_with_status(make_client, op, 204) is None


def test_the_status_checks_cover_every_create_and_delete() -> None:
    creates = [op for op in OPERATIONS if op.operation_id.startswith("create_")]
    assert len(CREATES_DECLARED_201) + 13 == len(creates)  # 13 declare the 200 of a replay too
    assert {op.operation_id for op in DELETES} >= {"delete_customer_credit", "delete_payout"}


def test_a_required_field_the_response_lacked_raises_on_read_not_on_parse() -> None:
    from thredfi_async import MissingFieldError, ThredfiError, models

    vendor = models.APAgingVendor.from_dict({"vendor_name": "Initech", "extra": 1})
    assert vendor.vendor_name == "Initech"
    with pytest.raises(MissingFieldError, match=r"APAgingVendor\.vendor_id is missing") as caught:
        _ = vendor.vendor_id
    assert isinstance(caught.value, ThredfiError)
    assert isinstance(caught.value, AttributeError)
    assert (caught.value.model, caught.value.field) == ("APAgingVendor", "vendor_id")
    assert getattr(vendor, "vendor_id", None) is None
    assert not hasattr(vendor, "total_outstanding_cents")
    # What came is all there, under the API's names.
    assert vendor.to_dict() == {"vendor_name": "Initech", "extra": 1}
    assert repr(vendor) == (
        "APAgingVendor(vendor_name='Initech', additional_properties={'extra': 1})"
    )
    # Built by hand, a required field is a keyword under its own name, and can be set.
    built = models.APAgingVendor(vendor_id="v-1", vendor_name="Initech")
    built.total_outstanding_cents = 1250
    assert built.to_dict() == {
        "vendor_id": "v-1",
        "vendor_name": "Initech",
        "total_outstanding_cents": 1250,
    }


def test_item_access_reads_undeclared_fields_and_points_declared_ones_to_their_attribute() -> None:
    from thredfi_async import DeclaredFieldError, ThredfiError, models

    invoice = models.Invoice.from_dict(
        {"id": "inv-1", "total_amount_cents": 1250, "status": "SENT", "loyalty_tier": "gold"}
    )
    assert invoice["loyalty_tier"] == "gold"
    assert "loyalty_tier" in invoice
    assert "total_amount_cents" not in invoice
    with pytest.raises(
        DeclaredFieldError, match=r"declared field of Invoice: read it as \.total_amount_cents"
    ):
        invoice["total_amount_cents"]
    with pytest.raises(KeyError) as caught:
        invoice["status"]
    assert isinstance(caught.value, ThredfiError)
    assert (caught.value.model, caught.value.field, caught.value.attribute) == (  # type: ignore[attr-defined]
        "Invoice",
        "status",
        "status",
    )
    with pytest.raises(KeyError) as unknown:
        invoice["nowhere"]
    assert not isinstance(unknown.value, ThredfiError)
