"""``thredfi.invoices``: invoices; the accounting (totals, ledger entry, balance) is in
``_books.invoicing`` and ``_books.documents``.

Statuses are ``SENT``, ``PARTIALLY_PAID``, ``PAID`` and ``VOIDED``; unlike a bill, an invoice
with payments, credits or refunds applied cannot be voided.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from .._books.documents import (
    move_to_party,
    refuse_if_voided,
    refuse_party_change,
    refuse_total_below_applied,
    settle_total,
    void_document,
)
from .._books.invoicing import compute_invoice_total, create_invoice_record, post_invoice
from .._books.ledger import CODES
from .._books.money import major, representable, round_minor
from .._books.parties import find_customer
from .._books.records import change_external_id, get_or_404, resolve_account
from .._books.sides import RECEIVABLES
from .._books.state import Books, Invoice, InvoiceLine, TaxLine
from .._server.context import Context, Reply, handles, make_documents
from .._server.errors import ApiError, field_error
from .._server.filters import Filters
from .._server.pagination import paginate
from .._server.values import iso, parse_datetime, text
from ._views import customer_view


def _quantity(value: Any, field_name: str) -> Decimal:
    if value is None:
        return Decimal(1)
    if isinstance(value, bool) or not isinstance(value, int | Decimal):
        raise field_error(field_name, "A valid number is required.")
    return Decimal(value)


def _int_amount(value: Any, field_name: str, *, default: int = 0) -> int:
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise field_error(field_name, "A valid integer is required.")
    return value


def build_invoice_lines(ctx: Context, books: Books, items: Any) -> list[InvoiceLine]:
    if items is None:
        return []
    lines: list[InvoiceLine] = []
    for index, item in enumerate(items):
        prefix = f"line_items.{index}"
        quantity = _quantity(item.get("quantity"), f"{prefix}.quantity")
        unit_price = item.get("unit_price", item.get("unit_price_cents"))
        if unit_price is None:
            raise field_error(f"{prefix}.unit_price", "This field is required.")
        unit_price = _int_amount(unit_price, f"{prefix}.unit_price")
        account = resolve_account(
            books,
            item.get("account_identifier") or item.get("account_code"),
            f"{prefix}.account_identifier",
            CODES.SALES,
        )
        taxes: list[TaxLine] = []
        for tax_index, tax in enumerate(item.get("sales_taxes") or []):
            tax_prefix = f"{prefix}.sales_taxes.{tax_index}"
            tax_account = resolve_account(
                books, tax.get("tax_account"), f"{tax_prefix}.tax_account", CODES.VAT
            )
            taxes.append(
                TaxLine(
                    amount=_int_amount(tax.get("amount"), f"{tax_prefix}.amount"),
                    account_id=tax_account.id,
                    discount=_int_amount(tax.get("discount_amount"), f"{tax_prefix}.discount"),
                )
            )
        lines.append(
            InvoiceLine(
                id=ctx.new_id(),
                quantity=quantity,
                unit_price=unit_price,
                discount=_int_amount(item.get("discount_amount"), f"{prefix}.discount_amount"),
                taxes=taxes,
                account_id=account.id,
                gross=representable(round_minor(quantity * unit_price), f"{prefix}.quantity"),
                external_id=text(item, "external_id"),
                description=text(item, "description"),
                product=text(item, "product"),
            )
        )
    return lines


def _additional_taxes(ctx: Context, books: Books, items: Any) -> list[TaxLine]:
    taxes: list[TaxLine] = []
    for index, tax in enumerate(items or []):
        prefix = f"additional_sales_taxes.{index}"
        account = resolve_account(books, tax.get("tax_account"), f"{prefix}.tax_account", CODES.VAT)
        taxes.append(
            TaxLine(
                amount=_int_amount(tax.get("amount"), f"{prefix}.amount"), account_id=account.id
            )
        )
    return taxes


def invoice_view(
    books: Books,
    invoice: Invoice,
    now: datetime,
    customer_views: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """The invoice with its customer embedded; a list page shares one view per customer."""
    customer = books.customers[invoice.customer_id]
    if customer_views is None:
        customer_view_ = customer_view(books, customer)
    else:
        customer_view_ = customer_views.get(customer.id) or customer_views.setdefault(
            customer.id, customer_view(books, customer)
        )
    currency = invoice.currency
    outstanding = invoice.outstanding
    subtotal = sum(line.gross for line in invoice.lines)
    discounts = sum(line.discount for line in invoice.lines) + invoice.additional_discount
    taxes = sum(line.tax for line in invoice.lines) + invoice.additional_taxes_total
    return {
        "type": "Invoice",
        "id": invoice.id,
        "business_id": books.id,
        "external_id": invoice.external_id,
        "status": invoice.status,
        "sent_at": iso(invoice.sent_at),
        "due_at": iso(invoice.due_at),
        "paid_at": iso(invoice.paid_at),
        "voided_at": iso(invoice.voided_at),
        "is_overdue": bool(invoice.due_at is not None and outstanding > 0 and invoice.due_at < now),
        "invoice_number": invoice.invoice_number,
        "invoice_type": invoice.invoice_type,
        "currency": currency,
        "memo": invoice.memo,
        "customer": customer_view_,
        "customer_id": customer.id,
        "line_items": [
            {
                "id": line.id,
                "external_id": line.external_id,
                "description": line.description,
                "product": line.product,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "discount_amount": line.discount,
                "sales_taxes": [
                    {
                        "amount": t.amount,
                        "discount_amount": t.discount,
                        "tax_account": {"id": t.account_id, "type": "AccountId"},
                    }
                    for t in line.taxes
                ],
                "account_identifier": {"id": line.account_id, "type": "AccountId"},
                "subtotal_cents": line.gross,
                "tax_amount_cents": line.tax,
                "total_amount_cents": line.net + line.tax,
            }
            for line in invoice.lines
        ],
        "additional_discount": invoice.additional_discount,
        "additional_sales_taxes_total": invoice.additional_taxes_total,
        "tips": invoice.tips,
        "subtotal_cents": subtotal,
        "discount_amount_cents": discounts,
        "tax_amount_cents": taxes,
        "total_amount_cents": invoice.total,
        "total_amount": major(invoice.total, currency),
        "paid_amount_cents": invoice.applied,
        "refunded_amount_cents": invoice.refunded,
        "outstanding_amount_cents": outstanding,
        "outstanding_amount": major(outstanding, currency),
        "transaction_tags": invoice.transaction_tags,
        "metadata": invoice.metadata,
        "documents": invoice.documents,
        "created_at": iso(invoice.created_at),
        "updated_at": iso(invoice.updated_at),
    }


@handles("list_invoices")
def list_invoices(ctx: Context) -> Reply:
    books = ctx.books
    items = Filters(ctx, books.invoices.values())
    items.one_of("customer_id", lambda i: i.customer_id)
    items.sent(
        "customer_external_id",
        lambda external_id, i: i.customer_id == books.find_external("customer", str(external_id)),
    )
    items.between("due_at_start", "due_at_end", lambda i: i.due_at, parse_datetime)
    items.at_most("max_amount", lambda i: i.total)
    items.at_least("min_amount", lambda i: i.total)
    items.sent("status", lambda status, i: _status_matches(i, str(status), ctx.now))
    items.equal("invoice_number", "external_id")
    now = ctx.now
    customers: dict[str, dict[str, Any]] = {}
    return Reply(200, paginate(ctx, items.items, lambda i: invoice_view(books, i, now, customers)))


def _status_matches(invoice: Invoice, wanted: str, now: datetime) -> bool:
    values = {v.strip().lower() for v in wanted.split(",")}
    status = invoice.status.lower()
    if status in values:
        return True
    if ("unpaid" in values or "open" in values) and invoice.outstanding > 0:
        return True
    if "overdue" in values:
        return bool(invoice.due_at and invoice.outstanding > 0 and invoice.due_at < now)
    return False


@handles("create_invoice")
def create_invoice(ctx: Context) -> Reply:
    books = ctx.books
    body = ctx.body
    existing = books.find_external("invoice", body.get("external_id"))
    if existing is not None:
        return Reply(200, invoice_view(books, books.invoices[existing], ctx.now))
    customer = find_customer(books, body.get("customer_id"), body.get("customer_external_id"))
    lines = build_invoice_lines(ctx, books, body.get("line_items"))
    tips_account = None
    if body.get("tips_account"):
        tips_account = resolve_account(books, body["tips_account"], "tips_account", CODES.TIPS).id
    additional_taxes = _additional_taxes(ctx, books, body.get("additional_sales_taxes"))
    taxes_total = body.get("additional_sales_taxes_total")
    if not taxes_total:
        taxes_total = sum(t.amount for t in additional_taxes)
    documents = make_documents(ctx, body.get("document") or body.get("file"), "sales_invoice")
    invoice_id = ctx.new_id()
    # Every value is read (and refused) before the invoice is stored.
    sent_at = parse_datetime(body.get("sent_at"), "sent_at")
    due_at = parse_datetime(body.get("due_at"), "due_at")
    discount = _int_amount(body.get("additional_discount"), "additional_discount")
    taxes_total = _int_amount(taxes_total, "additional_sales_taxes_total")
    tips = _int_amount(body.get("tips"), "tips")
    voided_at = parse_datetime(body.get("voided_at"), "voided_at")
    invoice = create_invoice_record(
        books,
        invoice_id=invoice_id,
        customer=customer,
        lines=lines,
        now=ctx.now,
        sent_at=sent_at,
        due_at=due_at,
        external_id=text(body, "external_id"),
        invoice_number=text(body, "invoice_number"),
        invoice_type=str(body.get("invoice_type") or "invoice"),
        memo=text(body, "memo"),
        additional_discount=discount,
        additional_taxes=additional_taxes,
        additional_taxes_total=taxes_total,
        tips=tips,
        tips_account_id=tips_account,
        transaction_tags=list(body.get("transaction_tags") or []),
        metadata=body.get("metadata"),
        documents=documents,
    )
    if voided_at is not None:
        void_document(books, invoice, "invoice", voided_at, ctx.now)
    return Reply(201, invoice_view(books, invoice, ctx.now))


@handles("get_invoice")
def get_invoice(ctx: Context) -> Reply:
    invoice = get_or_404(ctx.books.invoices, ctx.param("invoice_id"), "invoice")
    return Reply(200, invoice_view(ctx.books, invoice, ctx.now))


@handles("update_invoice")
def update_invoice(ctx: Context) -> Reply:
    """Everything the body asks is checked before anything changes: a refusal keeps the invoice."""
    books = ctx.books
    body = ctx.body
    invoice = get_or_404(books.invoices, ctx.param("invoice_id"), "invoice")
    refuse_if_voided(invoice, "invoice")
    customer_id = invoice.customer_id
    if body.get("customer_id") and body["customer_id"] != invoice.customer_id:
        customer_id = find_customer(books, body["customer_id"], None).id
        refuse_party_change(RECEIVABLES, invoice, customer_id)
    lines = invoice.lines
    if "line_items" in body:
        lines = build_invoice_lines(ctx, books, body["line_items"])
    discount, taxes_total, tips = (
        _int_amount(body[key], key) if key in body else current
        for key, current in (
            ("additional_discount", invoice.additional_discount),
            ("additional_sales_taxes_total", invoice.additional_taxes_total),
            ("tips", invoice.tips),
        )
    )
    due_at = parse_datetime(body["due_at"], "due_at") if "due_at" in body else invoice.due_at
    total = compute_invoice_total(
        replace(
            invoice,
            lines=lines,
            additional_discount=discount,
            additional_taxes_total=taxes_total,
            tips=tips,
        )
    )
    representable(total, "line_items")
    refuse_total_below_applied(invoice, total)
    move_to_party(books, RECEIVABLES, invoice, customer_id)
    invoice.lines = lines
    invoice.additional_discount = discount
    invoice.additional_taxes_total = taxes_total
    invoice.tips = tips
    for key in ("invoice_number", "invoice_type", "memo"):
        if body.get(key) is not None:
            setattr(invoice, key, str(body[key]))
    invoice.due_at = due_at
    change_external_id(books, "invoice", invoice, body)
    if body.get("document"):
        invoice.documents.extend(make_documents(ctx, body["document"], "sales_invoice"))
    settle_total(books, invoice, total, ctx.now, post_invoice)
    return Reply(200, invoice_view(books, invoice, ctx.now))


@handles("void_invoice")
def void_invoice(ctx: Context) -> Reply:
    """Unlike a bill, an invoice with money applied is refused (undocumented; inferred)."""
    books = ctx.books
    invoice = get_or_404(books.invoices, ctx.param("invoice_id"), "invoice")
    if invoice.voided_at is None:  # voiding again answers the voided invoice (safe to retry)
        if invoice.applications or invoice.refunded:
            raise ApiError(
                400,
                "invalid_status_transition",
                "An invoice with payments, credits or refunds applied cannot be voided; "
                "cancel or reverse them first.",
            )
        if ctx.body.get("memo"):
            invoice.memo = str(ctx.body["memo"])
        void_document(books, invoice, "invoice", ctx.now, ctx.now)
    return Reply(200, invoice_view(books, invoice, ctx.now))
