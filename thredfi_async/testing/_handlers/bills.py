"""``thredfi.bills``: bills; the accounting is in ``_books.billing`` and ``_books.documents``.

Statuses are ``OPEN``, ``PARTIALLY_PAID``, ``PAID`` and ``VOIDED`` (the API documents none;
they mirror the invoice ones). Unlike an invoice, a bill with payments can be voided: its
payment allocations are left untouched and only the bill's own ledger entry is reversed. Bill
lines take ``unit_price`` in minor units (the spec types it ``number``, so a fractional value is
accepted and the line subtotal rounded half up).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from .._books.billing import create_bill_record, post_bill
from .._books.documents import (
    move_to_party,
    refuse_if_voided,
    refuse_party_change,
    refuse_total_below_applied,
    settle_total,
    void_document,
)
from .._books.ledger import CODES
from .._books.money import major, representable, round_minor
from .._books.parties import find_vendor
from .._books.records import change_external_id, check_currency, get_or_404, resolve_account
from .._books.sides import PAYABLES
from .._books.state import Bill, BillLine, Books, TaxLine
from .._server.context import Context, Reply, handles, make_documents
from .._server.errors import field_error
from .._server.filters import Filters
from .._server.pagination import paginate
from .._server.values import iso, iso_date, minor_units, parse_date, parse_datetime, set_texts, text
from ._views import vendor_view


def _number(value: Any, field_name: str, default: Decimal) -> Decimal:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise field_error(field_name, "A valid number is required.")
    return Decimal(value)


def build_bill_lines(ctx: Context, books: Books, items: Any) -> list[BillLine]:
    lines: list[BillLine] = []
    for index, item in enumerate(items or []):
        prefix = f"line_items.{index}"
        quantity = _number(item.get("quantity"), f"{prefix}.quantity", Decimal(1))
        if item.get("unit_price") is None:
            raise field_error(f"{prefix}.unit_price", "This field is required.")
        unit_price = _number(item["unit_price"], f"{prefix}.unit_price", Decimal(0))
        account = resolve_account(
            books,
            item.get("account_identifier") or item.get("account_code"),
            f"{prefix}.account_identifier",
            CODES.OPERATING_EXPENSES,
        )
        subtotal = representable(round_minor(quantity * unit_price), f"{prefix}.quantity")
        taxes: list[TaxLine] = []
        rate: Decimal | None = None
        for tax_index, tax in enumerate(item.get("sales_taxes") or []):
            tax_prefix = f"{prefix}.sales_taxes.{tax_index}"
            tax_account = resolve_account(
                books, tax.get("tax_account"), f"{tax_prefix}.tax_account", CODES.VAT
            )
            given_rate = tax.get("tax_rate", tax.get("rate"))
            if tax.get("amount") is not None:
                amount = minor_units(tax["amount"], f"{tax_prefix}.amount")
            elif given_rate is not None:
                rate = _number(given_rate, f"{tax_prefix}.tax_rate", Decimal(0))
                amount = representable(round_minor(subtotal * rate / 100), f"{tax_prefix}.tax_rate")
            else:
                raise field_error(f"{tax_prefix}.amount", "Give an amount or a tax_rate.")
            taxes.append(TaxLine(amount=amount, account_id=tax_account.id, rate=rate))
        lines.append(
            BillLine(
                id=ctx.new_id(),
                quantity=quantity,
                unit_price=unit_price,
                taxes=taxes,
                account_id=account.id,
                subtotal=subtotal,
                description=text(item, "description"),
                product=text(item, "product"),
                tax_rate=rate,
            )
        )
    return lines


def _line_view(books: Books, bill: Bill, line: BillLine) -> dict[str, Any]:
    currency = bill.currency
    scale = Decimal(1).scaleb(-2 if currency != "ISK" else 0)
    return {
        "id": line.id,
        "bill_id": bill.id,
        "account_identifier": {"id": line.account_id, "type": "AccountId"},
        "currency": currency,
        "unit_price": line.unit_price * scale,
        "quantity": line.quantity,
        "subtotal": major(line.subtotal, currency),
        "sales_taxes_total": major(line.tax, currency),
        "total_amount": major(line.total, currency),
        "tax_rate": line.tax_rate,
        "description": line.description,
        "product": line.product,
    }


def bill_view(books: Books, bill: Bill, now: datetime) -> dict[str, Any]:
    vendor = books.vendors[bill.vendor_id]
    payments = []
    for application in bill.applications:
        if application.source == "bill_payment":
            payment = books.bill_payments[application.source_id]
            payments.append(
                {
                    "amount_cents": application.amount,
                    "payment_date": iso_date(payment.payment_date),
                    "payment_method": payment.payment_method,
                    "bill_payment_id": payment.id,
                }
            )
    outstanding = bill.outstanding
    return {
        "type": "Bill",
        "id": bill.id,
        "business_id": books.id,
        "external_id": bill.external_id,
        "status": bill.status,
        "terms": bill.terms,
        "bill_number": bill.bill_number,
        "vendor_bill_number": bill.vendor_bill_number,
        "purchase_order_number": bill.purchase_order_number,
        "memo": bill.memo,
        "reference_numbers": bill.reference_numbers,
        "attachment_urls": bill.attachment_urls,
        "issue_date": iso_date(bill.issue_date),
        "received_at": iso(bill.received_at),
        "due_at": iso(bill.due_at),
        "approved_at": iso(bill.approved_at),
        "paid_at": iso(bill.paid_at),
        "voided_at": iso(bill.voided_at),
        "is_overdue": bool(bill.due_at is not None and outstanding > 0 and bill.due_at < now),
        "currency": bill.currency,
        "vendor": vendor_view(books, vendor),
        "vendor_id": vendor.id,
        "line_items": [_line_view(books, bill, line) for line in bill.lines],
        "bill_payment_allocations": payments,
        "subtotal_cents": sum(line.subtotal for line in bill.lines),
        "tax_amount_cents": sum(line.tax for line in bill.lines),
        "total_amount_cents": bill.total,
        "total_amount": major(bill.total, bill.currency),
        "paid_amount_cents": bill.applied,
        "outstanding_amount_cents": outstanding,
        "documents": bill.documents,
        "created_at": iso(bill.created_at),
        "updated_at": iso(bill.updated_at),
    }


@handles("list_bills")
def list_bills(ctx: Context) -> Reply:
    books = ctx.books
    items = Filters(ctx, books.bills.values())
    items.equal("vendor_id")
    status = ctx.filter("status")
    if status:
        wanted = {s.strip().upper() for s in str(status).split(",")}
        unpaid = "UNPAID" in wanted or "OPEN" in wanted
        items.keep(lambda b: b.status in wanted or (unpaid and b.outstanding > 0))
    items.equal("bill_number", "vendor_bill_number", "external_id")
    now = ctx.now
    return Reply(200, paginate(ctx, items.items, lambda b: bill_view(books, b, now)))


@handles("create_bill")
def create_bill(ctx: Context) -> Reply:
    books = ctx.books
    body = ctx.body
    existing = books.find_external("bill", body.get("external_id"))
    if existing is not None:
        return Reply(200, bill_view(books, books.bills[existing], ctx.now))
    vendor = find_vendor(books, body.get("vendor_id"), body.get("vendor_external_id"))
    check_currency(books, body.get("currency"))
    lines = build_bill_lines(ctx, books, body.get("line_items"))
    received_at = parse_datetime(body.get("received_at"), "received_at")
    bill = create_bill_record(
        books,
        bill_id=ctx.new_id(),
        vendor=vendor,
        lines=lines,
        issue_date=parse_date(body.get("bill_date"), "bill_date")
        or (received_at.date() if received_at else ctx.today),
        now=ctx.now,
        external_id=text(body, "external_id"),
        bill_number=text(body, "bill_number"),
        vendor_bill_number=text(body, "vendor_bill_number"),
        purchase_order_number=text(body, "purchase_order_number"),
        memo=text(body, "memo"),
        reference_numbers=list(body.get("reference_numbers") or []),
        attachment_urls=list(body.get("attachment_urls") or []),
        received_at=received_at,
        due_at=parse_datetime(body.get("due_at"), "due_at"),
        approved_at=parse_datetime(body.get("approved_at"), "approved_at"),
        documents=make_documents(ctx, body.get("document"), "purchase_invoice"),
    )
    return Reply(201, bill_view(books, bill, ctx.now))


@handles("get_bill")
def get_bill(ctx: Context) -> Reply:
    bill = get_or_404(ctx.books.bills, ctx.param("bill_id"), "bill")
    return Reply(200, bill_view(ctx.books, bill, ctx.now))


@handles("update_bill")
def update_bill(ctx: Context) -> Reply:
    """Everything the body asks is checked before anything changes: a refusal keeps the bill."""
    books = ctx.books
    body = ctx.body
    bill = get_or_404(books.bills, ctx.param("bill_id"), "bill")
    refuse_if_voided(bill, "bill")
    check_currency(books, body.get("currency"))
    vendor_id = bill.vendor_id
    if body.get("vendor_id") or body.get("vendor_external_id"):
        vendor_id = find_vendor(books, body.get("vendor_id"), body.get("vendor_external_id")).id
        refuse_party_change(PAYABLES, bill, vendor_id)
    lines = build_bill_lines(ctx, books, body["line_items"]) if "line_items" in body else bill.lines
    dates = {
        key: parse_datetime(body[key], key)
        for key in ("received_at", "due_at", "approved_at")
        if key in body
    }
    total = representable(sum(line.total for line in lines), "line_items")
    refuse_total_below_applied(bill, total)
    move_to_party(books, PAYABLES, bill, vendor_id)
    bill.lines = lines
    set_texts(bill, body, ("bill_number", "vendor_bill_number", "purchase_order_number", "memo"))
    if "bill_terms" in body:
        bill.terms = text(body, "bill_terms")
    for key in ("reference_numbers", "attachment_urls"):
        if key in body:
            setattr(bill, key, list(body[key] or []))
    for key, value in dates.items():
        setattr(bill, key, value)
    change_external_id(books, "bill", bill, body)
    if body.get("document"):
        bill.documents.extend(make_documents(ctx, body["document"], "purchase_invoice"))
    settle_total(books, bill, total, ctx.now, post_bill)
    return Reply(200, bill_view(books, bill, ctx.now))


@handles("void_bill")
def void_bill(ctx: Context) -> Reply:
    """Unlike an invoice, a bill with payments may be voided; they stay allocated, as documented."""
    books = ctx.books
    bill = get_or_404(books.bills, ctx.param("bill_id"), "bill")
    if bill.voided_at is None:  # voiding again answers the voided bill (safe to retry)
        void_document(books, bill, "bill", ctx.now, ctx.now)
    return Reply(200, bill_view(books, bill, ctx.now))
