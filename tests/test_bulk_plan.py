"""The bulk importer's local side: kinds and references read from the spec, the order, and the
checks that refuse a record before anything is sent."""

from __future__ import annotations

from decimal import Decimal

import pytest

from thredfi_async.bulk import KINDS, Record, as_record, kind_order, plan_business, problems
from thredfi_async.bulk._references import dependencies, resolve


def test_every_kind_maps_to_a_create_method_of_a_business_view() -> None:
    assert set(KINDS) == {
        *("customer", "invoice", "payment", "refund", "refund_payment", "payout", "vendor"),
        *("bill", "bill_payment", "customer_credit", "vendor_credit", "vendor_refund"),
        "vendor_refund_payment",
    }
    for kind in KINDS.values():
        assert kind.operation.method == "POST"
        assert kind.operation.resource == kind.resource
        assert kind.operation.method_name == "create"


def test_references_are_read_from_the_spec_nested_and_in_the_path() -> None:
    wheres = {k: {(r.where(), r.target) for r in KINDS[k].references} for k in KINDS}
    assert wheres["payment"] == {
        ("customer_id", "customer"),
        ("allocations[].invoice_id", "invoice"),
    }
    assert wheres["refund_payment"] == {("refund_id", "refund")}
    assert wheres["payout"] == {
        ("payment_ids", "payment"),
        ("refund_payment_ids", "refund_payment"),
    }
    assert ("source_invoice_id", "invoice") in wheres["customer_credit"]
    assert ("allocations[].bill_payment_id", "bill_payment") in wheres["vendor_refund"]
    assert wheres["customer"] == wheres["vendor"] == set()


def test_customer_external_id_is_sent_as_is_where_the_api_takes_it() -> None:
    invoice = {r.field: r.sent_as_is for r in KINDS["invoice"].references}
    payment = {r.field: r.sent_as_is for r in KINDS["payment"].references}
    assert invoice["customer_id"] is True  # the invoice body declares customer_external_id
    assert payment["customer_id"] is False  # the payment body does not: resolved to the id
    body, _ = resolve("invoice", {"customer_external_id": "c1"}, {})
    assert body == {"customer_external_id": "c1"}


def test_the_order_puts_every_kind_after_what_it_refers_to() -> None:
    order = kind_order()
    for kind in KINDS.values():
        for target in kind.depends_on:
            assert order.index(target) < order.index(kind.name), (target, kind.name)
    guide = ["customer", "invoice", "payment", "refund", "refund_payment"]
    assert [k for k in order if k in guide] == guide


def test_external_references_resolve_to_ids_nested_many_and_in_the_path() -> None:
    ids = {
        ("customer", "c1"): "C",
        ("invoice", "i1"): "I1",
        ("invoice", "i2"): "I2",
        ("refund", "r1"): "R",
        ("payment", "p1"): "P",
    }
    payment = {
        "external_id": "p1",
        "customer_external_id": "c1",
        "allocations": [
            {"invoice_external_id": "i1", "amount_cents": 5},
            {"invoice_id": "raw-id", "amount_cents": 6},
            {"invoice_external_id": "i2", "amount_cents": 7},
        ],
    }
    assert dependencies("payment", payment) == [
        ("customer", "c1"),
        ("invoice", "i1"),
        ("invoice", "i2"),
    ]
    body, path = resolve("payment", payment, ids)
    assert body["customer_id"] == "C"
    assert "customer_external_id" not in body
    assert [a["invoice_id"] for a in body["allocations"]] == ["I1", "raw-id", "I2"]
    assert payment["allocations"][0] == {
        "invoice_external_id": "i1",
        "amount_cents": 5,
    }  # untouched
    assert path == {}
    body, path = resolve("refund_payment", {"refund_external_id": "r1", "amount_cents": 1}, ids)
    assert (body, path) == ({"amount_cents": 1}, {"refund_id": "R"})
    body, _ = resolve("payout", {"external_id": "x", "payment_external_ids": ["p1"]}, ids)
    assert body == {"external_id": "x", "payment_ids": ["P"]}


def test_problems_name_floats_missing_ids_wrong_types_and_unknown_fields() -> None:
    record = Record(
        "b",
        "payment",
        {
            "customer_external_id": "c",
            "total_amount_cents": 12.5,
            "allocations": [{"invoice_external_id": "i", "amount_cents": "3"}],
            "colour": "red",
        },
    )
    assert problems(record) == [
        "external_id is missing: every record needs one, so a rerun cannot create it twice",
        "total_amount_cents is a float (12.5); money must be exact (Decimal or int)",
        "allocations[0].amount_cents must be an integer (minor units), got '3'",
        "colour is not a field of InvoiceRecordPaymentRequestRequest",
    ]


def test_a_decimal_quantity_passes_but_a_fractional_minor_unit_amount_does_not() -> None:
    line = {"description": "x", "quantity": Decimal("1.5"), "unit_price": Decimal("10.5")}
    record = Record("b", "invoice", {"external_id": "i", "line_items": [line]})
    assert problems(record) == [
        "line_items[0].unit_price must be an integer (minor units), got Decimal('10.5')"
    ]


def test_required_fields_may_be_given_by_external_id() -> None:
    given = Record("b", "refund", {"external_id": "r", "invoice_external_id": "i"})
    absent = Record("b", "refund", {"external_id": "r"})
    assert problems(given) == []
    assert problems(absent) == ["invoice_id is required"]
    assert problems(Record("b", "refund_payment", {"external_id": "x", "amount_cents": 1})) == [
        "refund_id or refund_external_id is required"
    ]


def test_an_unknown_kind_is_refused() -> None:
    assert problems(Record("b", "widget", {}))[0].startswith("unknown kind 'widget'")


def test_dicts_and_models_are_records_and_a_key_function_derives_a_missing_external_id() -> None:
    from thredfi_async.models import CustomerCreateRequest

    model = CustomerCreateRequest(company_name="Globex")
    record = as_record(
        {"business_id": "b", "kind": "customer", "data": model},
        external_id=lambda r: f"crm-{r.data['company_name']}",
    )
    assert record.data == {"company_name": "Globex", "external_id": "crm-Globex"}
    kept = as_record(
        {"business_id": "b", "kind": "customer", "data": {"external_id": "mine"}},
        external_id=lambda r: "derived",
    )
    assert kept.external_id == "mine"


def test_the_plan_orders_by_kind_and_refuses_absent_references_and_repeats() -> None:
    records = [
        Record(
            "b",
            "payment",
            {
                "external_id": "p1",
                "customer_external_id": "c1",
                "allocations": [{"invoice_external_id": "i1", "amount_cents": 1}],
            },
        ),
        Record(
            "b",
            "payment",
            {
                "external_id": "p2",
                "customer_external_id": "c1",
                "allocations": [{"invoice_external_id": "nope", "amount_cents": 1}],
            },
        ),
        Record("b", "invoice", {"external_id": "i1", "customer_external_id": "c1"}),
        Record("b", "customer", {"external_id": "c1"}, source="line 4"),
        Record("b", "customer", {"external_id": "c1"}, source="line 5"),
    ]
    plan = plan_business("b", records, {})
    assert [[r.data["external_id"] for r, _ in wave] for wave in plan.waves] == [
        ["c1"],
        ["i1"],
        ["p1"],
    ]
    assert {r.source or r.data["external_id"]: why for r, why in plan.refused} == {
        "line 5": "external_id repeats another customer's (line 4)",
        "p2": "refers to invoice 'nope': not in the input nor already done",
    }


def test_a_reference_to_a_record_already_done_needs_no_record_in_the_input() -> None:
    payment = Record("b", "refund", {"external_id": "r", "invoice_external_id": "i9"})
    assert plan_business("b", [payment], {("invoice", "i9"): "id-9"}).refused == []
    assert len(plan_business("b", [payment], {}).refused) == 1


@pytest.mark.parametrize("bad", [0, -1])
def test_concurrency_must_be_positive(bad: int) -> None:
    from thredfi_async.bulk import BulkImporter
    from thredfi_async.testing import FakeThredfi

    with pytest.raises(ValueError, match="at least 1"):
        BulkImporter(FakeThredfi().client(), concurrency=bad)
