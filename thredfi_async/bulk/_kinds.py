"""The kinds a bulk import creates: each one's create operation, body type and references.

Which fields of a body hold another record's id is read from the spec (every `*_id` / `*_ids`
property of format uuid, nested ones included, plus the path parameters), not listed by hand,
so a reference the API adds to a body is resolved without a change here. The dependency order
between kinds follows from those references.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

from .._generated import bodies as _bodies
from .._generated.api.bill_payments import create_bill_payment
from .._generated.api.bills import create_bill
from .._generated.api.customer_credits import create_customer_credit
from .._generated.api.customers import create_customer
from .._generated.api.invoices import create_invoice
from .._generated.api.payments import create_invoice_payment
from .._generated.api.payouts import create_payout
from .._generated.api.refund_payments import create_refund_payment
from .._generated.api.refunds import create_refund
from .._generated.api.vendor_credits import create_vendor_credit
from .._generated.api.vendor_refund_payments import create_vendor_refund_payment
from .._generated.api.vendor_refunds import create_vendor_refund
from .._generated.api.vendors import create_vendor
from .._operation import Operation

__all__ = ["KINDS", "Kind", "Reference", "kind_order"]

_SPEC = Path(__file__).resolve().parent.parent / "_generated" / "openapi.json"


@dataclass(frozen=True, slots=True)
class Reference:
    """One field of a body (or a path parameter) that holds the id of a record of `target`.

    `path` is the field's location: ("allocations", "*", "invoice_id") for a list of objects.
    `many` is a list of ids (`payment_ids`). `external_name` is the field the record may give
    instead (`invoice_external_id`); `sent_as_is` when the API itself accepts that field.
    """

    path: tuple[str, ...]
    target: str
    many: bool = False
    in_path: bool = False
    sent_as_is: bool = False

    @property
    def field(self) -> str:
        return self.path[-1]

    @property
    def external_name(self) -> str:
        base = self.field.removesuffix("_ids").removesuffix("_id")
        return f"{base}_external_ids" if self.many else f"{base}_external_id"

    def where(self) -> str:
        return ".".join(p if p != "*" else "[]" for p in self.path).replace(".[]", "[]")


@dataclass(frozen=True, slots=True)
class Kind:
    """A record kind: the resource whose `create` makes it and what its body looks like."""

    name: str
    resource: str
    operation: Operation
    body: type[Any]  # the body's TypedDict: required keys and field names for --dry-run
    id_path: tuple[str, ...] = ("id",)  # where the created id is in the answer

    @property
    def deduplicated(self) -> bool:
        """The API answers a repeated external_id with the stored object (200)."""
        return self.operation.deduplicates_on == "external_id"

    @property
    def references(self) -> tuple[Reference, ...]:
        return _references(self.name)

    @property
    def depends_on(self) -> frozenset[str]:
        return frozenset(r.target for r in self.references)


def _kind(name: str, resource: str, module: Any, body: type[Any], *id_path: str) -> Kind:
    return Kind(name, resource, module.OPERATION, body, id_path or ("id",))


KINDS: Mapping[str, Kind] = {
    k.name: k
    for k in (
        _kind("customer", "customers", create_customer, _bodies.CustomerCreateRequestDict),
        _kind("invoice", "invoices", create_invoice, _bodies.InvoiceCreateRequestDict),
        _kind(
            "payment",
            "payments",
            create_invoice_payment,
            _bodies.InvoiceRecordPaymentRequestRequestDict,
            *("payment", "id"),
        ),
        _kind("refund", "refunds", create_refund, _bodies.CreateSimpleRefundRequestDict),
        _kind(
            "refund_payment",
            "refund_payments",
            create_refund_payment,
            _bodies.CreateRefundPaymentRequestRequestDict,
        ),
        _kind("payout", "payouts", create_payout, _bodies.PayoutCreateRequestDict),
        _kind("vendor", "vendors", create_vendor, _bodies.CreateVendorRequestDict),
        _kind("bill", "bills", create_bill, _bodies.BillCreateAPIRequestDict),
        _kind("bill_payment", "bill_payments", create_bill_payment, _bodies.BillPaymentRequestDict),
        _kind(
            "customer_credit",
            "customer_credits",
            create_customer_credit,
            _bodies.CreateCustomerCreditRequestDict,
        ),
        _kind(
            "vendor_credit",
            "vendor_credits",
            create_vendor_credit,
            _bodies.CreateVendorCreditRequestDict,
        ),
        _kind(
            "vendor_refund",
            "vendor_refunds",
            create_vendor_refund,
            _bodies.VendorRefundCreateRequestDict,
        ),
        _kind(
            "vendor_refund_payment",
            "vendor_refund_payments",
            create_vendor_refund_payment,
            _bodies.VendorRefundPaymentCreateRequestDict,
            *("payment", "id"),
        ),
    )
}


@cache
def _spec() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_SPEC.read_text(encoding="utf-8"))
    return data


def _deref(node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = _spec()
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def _target(field: str) -> str | None:
    """`source_invoice_id` -> invoice, `payment_ids` -> payment; None if it names no kind."""
    base = field.removeprefix("source_").removesuffix("_ids").removesuffix("_id")
    return base if base in KINDS else None


def _walk(schema: Any, path: tuple[str, ...], seen: frozenset[int]) -> Iterator[Reference]:
    schema = _deref(schema)
    if not isinstance(schema, dict) or id(schema) in seen:
        return
    seen |= {id(schema)}
    for alternative in (
        *schema.get("allOf", ()),
        *schema.get("oneOf", ()),
        *schema.get("anyOf", ()),
    ):
        yield from _walk(alternative, path, seen)
    properties = schema.get("properties", {})
    for name, prop in properties.items():
        prop = _deref(prop)
        items = _deref(prop.get("items")) if isinstance(prop, dict) else None
        target = _target(name)
        if target and prop.get("format") == "uuid":
            accepted = f"{name.removesuffix('_id')}_external_id" in properties
            yield Reference((*path, name), target, sent_as_is=accepted)
        elif target and isinstance(items, dict) and items.get("format") == "uuid":
            yield Reference((*path, name), target, many=True)
        elif isinstance(items, dict):
            yield from _walk(items, (*path, name, "*"), seen)
        elif isinstance(prop, dict) and "properties" in prop:
            yield from _walk(prop, (*path, name), seen)


@cache
def _operation_spec(operation_id: str) -> dict[str, Any]:
    for item in _spec()["paths"].values():
        for operation in item.values():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                return operation
    raise LookupError(operation_id)  # pragma: no cover - the kinds name generated operations


@cache
def _references(kind: str) -> tuple[Reference, ...]:
    operation = _operation_spec(KINDS[kind].operation.operation_id)
    found: list[Reference] = []
    for parameter in operation.get("parameters", ()):
        parameter = _deref(parameter)
        target = _target(parameter["name"]) if parameter.get("in") == "path" else None
        if target:
            found.append(Reference((parameter["name"],), target, in_path=True))
    content = operation.get("requestBody", {}).get("content", {})
    schema = content.get("application/json", {}).get("schema")
    found.extend(_walk(schema, (), frozenset()))
    return tuple(found)


@cache
def kind_order() -> tuple[str, ...]:
    """Every kind after the kinds it refers to: the order a business's records are created in."""
    graph = {name: kind.depends_on for name, kind in KINDS.items()}
    return tuple(TopologicalSorter(graph).static_order())
