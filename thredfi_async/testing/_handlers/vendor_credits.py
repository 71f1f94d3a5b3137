"""``thredfi.vendor_credits``: credit notes against bills, the payables side of customer credits.

Line ``amount`` is in minor units (the schema says ``number``, so a fractional value is
rounded). A known ``external_id`` answers the stored credit (documented idempotency).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .._books.allocations import Share, open_document, requested_shares
from .._books.credit_notes import apply_credit, delete_credit, record_credit
from .._books.ledger import CODES
from .._books.parties import create_vendor_record, find_vendor, party_reference
from .._books.records import get_or_404, linked_id
from .._books.sides import PAYABLES
from .._books.state import (
    Bill,
    Books,
    CreditLine,
    VendorCredit,
)
from .._server.context import Context, Reply, handles
from .._server.errors import field_error
from .._server.filters import Filters
from .._server.pagination import paginate
from .._server.values import iso, minor_units, parse_datetime, set_texts
from ._credit_notes import (
    allocations_to_check,
    amounts_view,
    build_lines,
    created_fields,
    line_views,
    record_view,
    update_common,
)


def _vendor_lines(books: Books, items: Any) -> list[CreditLine]:
    """Vendor credit lines reduce an expense (operating expenses unless the line names one)."""
    return build_lines(
        books,
        items,
        account_key="expense_account_identifier",
        default_code=CODES.OPERATING_EXPENSES,
    )


def vendor_credit_view(books: Books, credit: VendorCredit) -> dict[str, Any]:
    vendor = books.vendors[credit.vendor_id]
    return {
        "id": credit.id,
        "external_id": credit.external_id,
        "status": credit.status,
        "received_at": iso(credit.received_at),
        "vendor": party_reference(vendor),
        "source_bill_id": credit.source_bill_id,
        "line_items": line_views(books, credit.lines, "expense_account_identifier"),
        "allocations": [
            {
                "bill_id": a.target_id,
                "bill_number": books.bills[a.target_id].bill_number,
                "amount_cents": a.amount,
                "bill_outstanding_balance_cents": books.bills[a.target_id].outstanding,
                "applied_at": iso(a.at),
            }
            for a in credit.allocations
        ],
        **amounts_view(credit),
        **record_view(credit),
    }


def _vendor_allocations(books: Books, credit: VendorCredit, requested: Any) -> list[Share[Bill]]:
    exceeds = "Allocation exceeds the bill outstanding amount."

    def resolve(index: int, item: dict[str, Any]) -> Share[Bill]:
        bill = open_document(books, PAYABLES, index, item, credit.vendor_id)
        amount = minor_units(item.get("amount"), f"allocations.{index}.amount")
        if amount < 1:
            raise field_error(f"allocations.{index}.amount", exceeds)
        return Share(bill, amount)

    return requested_shares(
        requested,
        resolve,
        current=credit.allocations,
        amount_key="amount",
        exceeds=exceeds,
        limit=credit.total,
        too_much="Allocations exceed the credit total.",
    )


def _credit_vendor(books: Books, body: dict[str, Any]) -> str | None:
    """The vendor a credit names; None when its ``vendor_external_id`` is new (its page says so).

    Such a vendor is created on the fly, but only by :func:`_create_credit_vendor`, once the
    whole request has passed its checks.
    """
    external = body.get("vendor_external_id")
    if not body.get("vendor_id") and external and books.find_external("vendor", external) is None:
        return None
    return find_vendor(books, body.get("vendor_id"), external).id


def _create_credit_vendor(ctx: Context, books: Books, body: dict[str, Any], vendor_id: str) -> None:
    external = str(body["vendor_external_id"])
    create_vendor_record(
        books, vendor_id, ctx.now, {"external_id": external, "company_name": external}
    )


@handles("list_vendor_credits")
def list_vendor_credits(ctx: Context) -> Reply:
    books = ctx.books
    items = Filters(ctx, [c for c in books.vendor_credits.values() if c.deleted_at is None])
    items.equal("vendor_id", "status")
    items.between("received_at_start", "received_at_end", lambda c: c.received_at, parse_datetime)
    return Reply(200, paginate(ctx, items.items, lambda c: vendor_credit_view(books, c)))


@handles("create_vendor_credit")
def create_vendor_credit(ctx: Context) -> Reply:
    books = ctx.books
    body = ctx.body
    existing = books.find_external("vendor_credit", body.get("external_id"))
    if existing is not None:
        return Reply(200, vendor_credit_view(books, books.vendor_credits[existing]))
    lines = _vendor_lines(books, body.get("line_items"))
    source_bill_id = linked_id(body, "source_bill_id", books.bills, "Bill")
    credit_id = ctx.new_id()
    known_vendor = _credit_vendor(books, body)
    credit = VendorCredit(
        id=credit_id,
        vendor_id=known_vendor or ctx.new_id(),
        lines=lines,
        received_at=parse_datetime(body.get("received_at"), "received_at") or ctx.now,
        source_bill_id=source_bill_id,
        **created_fields(ctx, body, "vendor_credit"),
    )
    shares = _vendor_allocations(books, credit, body.get("allocations"))
    if known_vendor is None:
        _create_credit_vendor(ctx, books, body, credit.vendor_id)
    record_credit(books, credit, shares, ctx)
    return Reply(201, vendor_credit_view(books, credit))


@handles("get_vendor_credit")
def get_vendor_credit(ctx: Context) -> Reply:
    credit = get_or_404(ctx.books.vendor_credits, ctx.param("credit_id"), "vendor_credit")
    return Reply(200, vendor_credit_view(ctx.books, credit))


@handles("update_vendor_credit")
def update_vendor_credit(ctx: Context) -> Reply:
    """The vendor, lines and allocations are checked before anything changes (or is created)."""
    books = ctx.books
    body = ctx.body
    credit = get_or_404(books.vendor_credits, ctx.param("credit_id"), "vendor_credit")
    vendor_id = credit.vendor_id
    new_vendor = False
    if body.get("vendor_id") or body.get("vendor_external_id"):
        known_vendor = _credit_vendor(books, body)
        new_vendor = known_vendor is None
        vendor_id = known_vendor or ctx.new_id()
        if vendor_id != credit.vendor_id and credit.allocations and "allocations" not in body:
            raise field_error("vendor_id", "Re-send allocations when changing the vendor.")
    lines = _vendor_lines(books, body["line_items"]) if "line_items" in body else credit.lines
    shares = _vendor_allocations(
        books,
        replace(credit, vendor_id=vendor_id, lines=lines),
        allocations_to_check(body, credit, "bill_id"),
    )
    received_at = credit.received_at
    if "received_at" in body:
        received_at = parse_datetime(body["received_at"], "received_at") or credit.received_at
    if new_vendor:
        _create_credit_vendor(ctx, books, body, vendor_id)
    credit.vendor_id = vendor_id
    credit.lines = lines
    update_common(ctx, credit, body, "vendor_credit")
    credit.received_at = received_at
    set_texts(credit, body, ("source_bill_id",))
    apply_credit(books, credit, shares, ctx)
    return Reply(200, vendor_credit_view(books, credit))


@handles("delete_vendor_credit")
def delete_vendor_credit(ctx: Context) -> Reply:
    books = ctx.books
    credit = get_or_404(books.vendor_credits, ctx.param("credit_id"), "vendor_credit")
    delete_credit(books, credit, ctx)
    return Reply(204)
