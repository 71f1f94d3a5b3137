"""Accounts receivable: customers and invoices.

How money applied to an invoice moves its balance, status and the customer's balance is shared
with bills (``_documents``). Invoice statuses are ``SENT``, ``PARTIALLY_PAID``, ``PAID`` and
``VOIDED``; unlike a bill, an invoice with payments, credits or refunds applied cannot be voided.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from ._context import (
    Context,
    Reply,
    change_external_id,
    get_or_404,
    handles,
    iso,
    make_documents,
    parse_datetime,
    refuse_duplicate,
    resolve_account,
    text,
)
from ._documents import (
    refresh_document,
    refuse_if_voided,
    refuse_total_below_applied,
    release_from_party,
    settle_total,
    void_document,
)
from ._errors import ApiError, conflict, field_error
from ._filters import Filters, joined
from ._ledger import CODES, Posting
from ._money import major, representable, round_minor
from ._pagination import paginate
from ._parties import archive_party, find_party, unarchive_party
from ._state import Books, Customer, Invoice, InvoiceLine, TaxLine

__all__ = [
    "create_customer_record",
    "create_invoice_record",
    "customer_view",
    "find_customer",
    "invoice_view",
]

_ADDRESS_FIELDS = (
    "address_line1",
    "address_line2",
    "city",
    "state_county",
    "postal_code",
    "country",
)
_CUSTOMER_FIELDS = (
    "external_id",
    "reference_number",
    "individual_name",
    "company_name",
    "email",
    "mobile_phone",
    "office_phone",
    *_ADDRESS_FIELDS,
    "vat_number",
    "tax_exempt",
    "status",
    "transaction_tags",
    "notes",
    "metadata",
    "payment_terms_days",
    "credit_limit_cents",
)


# -- customers -------------------------------------------------------------------------------


def customer_view(books: Books, customer: Customer) -> dict[str, Any]:
    data = customer.data
    address = ", ".join(str(data[key]) for key in _ADDRESS_FIELDS if data.get(key))
    limit = data.get("credit_limit_cents")
    archived = customer.archived_at is not None
    return {
        "type": "Customer",
        "id": customer.id,
        "external_id": data.get("external_id"),
        "reference_number": data.get("reference_number"),
        "individual_name": data.get("individual_name"),
        "company_name": data.get("company_name"),
        "display_name": customer.display_name,
        "email": data.get("email"),
        "mobile_phone": data.get("mobile_phone"),
        "office_phone": data.get("office_phone"),
        "address_line1": data.get("address_line1"),
        "address_line2": data.get("address_line2"),
        "city": data.get("city"),
        "state_county": data.get("state_county"),
        "postal_code": data.get("postal_code"),
        "country": data.get("country"),
        "full_address": address,
        "address_string": address,
        "vat_number": data.get("vat_number"),
        "tax_exempt": bool(data.get("tax_exempt", False)),
        "status": "archived" if archived else str(data.get("status") or "active"),
        "is_active": not archived,
        "is_archived": archived,
        "transaction_tags": data.get("transaction_tags") or [],
        "notes": data.get("notes"),
        "metadata": data.get("metadata"),
        "payment_terms_days": data.get("payment_terms_days"),
        "credit_limit": major(int(limit), books.currency) if limit is not None else None,
        "credit_limit_cents": limit,
        "outstanding_balance": major(customer.outstanding, books.currency),
        "documents": customer.documents,
        "created_at": iso(customer.created_at),
        "updated_at": iso(customer.updated_at),
        "archived_at": iso(customer.archived_at),
    }


def create_customer_record(
    books: Books, new_id: str, now: datetime, data: dict[str, Any]
) -> Customer:
    customer = Customer(id=new_id, data=data, created_at=now, updated_at=now)
    books.customers[customer.id] = customer
    books.remember_external("customer", customer.external_id, customer.id)
    return customer


def find_customer(
    books: Books, customer_id: Any, customer_external_id: Any, field_name: str = "customer_id"
) -> Customer:
    return find_party(
        books, books.customers, "customer", customer_id, customer_external_id, field_name
    )


def _customer(ctx: Context) -> Customer:
    return get_or_404(ctx.books.customers, ctx.param("customer_id"), "customer")


@handles("list_customers")
def list_customers(ctx: Context) -> Reply:
    books = ctx.books
    items = Filters(ctx, books.customers.values())
    if not ctx.filter("include_archived"):
        items.keep(lambda c: c.archived_at is None)
    items.contains("search", lambda c: joined(c.display_name, c.data.get("email")))
    items.equal("external_id")
    return Reply(200, paginate(ctx, items.items, lambda c: customer_view(books, c)))


@handles("create_customer")
def create_customer(ctx: Context) -> Reply:
    books = ctx.books
    # No idempotency is documented for customers (FACTS 2.3); the fake answers the error
    # guide's 409 so clients exercise that branch of "already exists".
    refuse_duplicate(books, "customer", ctx.body.get("external_id"))
    _check_payment_terms(ctx, ctx.body)
    data = {k: ctx.body[k] for k in _CUSTOMER_FIELDS if k in ctx.body}
    data.setdefault("tax_exempt", False)
    customer = create_customer_record(books, ctx.new_id(), ctx.now, data)
    customer.documents = make_documents(ctx, ctx.body.get("document"), "customer_document")
    return Reply(201, customer_view(books, customer))


@handles("get_customer")
def get_customer(ctx: Context) -> Reply:
    return Reply(200, customer_view(ctx.books, _customer(ctx)))


@handles("update_customer")
def update_customer(ctx: Context) -> Reply:
    customer = _customer(ctx)
    _apply_customer_changes(ctx, customer, ctx.body)
    return Reply(200, customer_view(ctx.books, customer))


def _apply_customer_changes(ctx: Context, customer: Customer, body: dict[str, Any]) -> None:
    """Unlike vendors, a customer's new external_id must be free (409) and its limit >= 0."""
    books = ctx.books
    _check_payment_terms(ctx, body)
    limit = body.get("credit_limit_cents")
    if isinstance(limit, int) and limit < 0:
        raise field_error("credit_limit_cents", "Ensure this value is greater than or equal to 0.")
    if "external_id" in body and body["external_id"] != customer.external_id:
        other = books.find_external("customer", body["external_id"])
        if other is not None and other != customer.id:
            raise conflict(
                "duplicate_external_id",
                f'A customer with external_id "{body["external_id"]}" already exists.',
                existing_id=other,
            )
        books.forget_external("customer", customer.external_id)
        books.remember_external("customer", body["external_id"], customer.id)
    for key in _CUSTOMER_FIELDS:
        if key in body and key != "status":
            customer.data[key] = body[key]
    customer.updated_at = ctx.now


def _check_payment_terms(ctx: Context, body: dict[str, Any]) -> None:
    """Terms whose due date, counted from today, is past year 9999 cannot be stored: every
    later invoice without ``due_at`` would fail to compute its due date."""
    days = body.get("payment_terms_days")
    if isinstance(days, int) and not isinstance(days, bool):
        try:
            ctx.now + timedelta(days=days)
        except OverflowError:
            raise field_error(
                "payment_terms_days", "Ensure the due date these terms give is before year 10000."
            ) from None


@handles("archive_customer")
def archive_customer(ctx: Context) -> Reply:
    customer = _customer(ctx)
    archive_party(ctx, customer, lambda body: _apply_customer_changes(ctx, customer, body))
    return Reply(200, customer_view(ctx.books, customer))


@handles("unarchive_customer")
def unarchive_customer(ctx: Context) -> Reply:
    customer = _customer(ctx)
    unarchive_party(
        ctx, customer, "customer", lambda body: _apply_customer_changes(ctx, customer, body)
    )
    return Reply(200, customer_view(ctx.books, customer))


# -- invoices --------------------------------------------------------------------------------


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


def compute_invoice_total(invoice: Invoice) -> int:
    """Lines (quantity x unit price - discount + taxes) - additional discount + taxes + tips."""
    lines = sum(line.net + line.tax for line in invoice.lines)
    return lines - invoice.additional_discount + invoice.additional_taxes_total + invoice.tips


def post_invoice(books: Books, invoice: Invoice) -> None:
    """DR Accounts Receivable / CR revenue, tax and tips accounts."""
    ledger = books.ledger
    postings = [Posting(ledger.system[CODES.RECEIVABLES], invoice.total)]
    for line in invoice.lines:
        postings.append(Posting(line.account_id, -line.net))
        postings.extend(Posting(t.account_id, -(t.amount - t.discount)) for t in line.taxes)
    postings.append(Posting(ledger.system[CODES.SALES], invoice.additional_discount))
    listed = sum(t.amount for t in invoice.additional_taxes)
    postings.extend(Posting(t.account_id, -t.amount) for t in invoice.additional_taxes)
    postings.append(Posting(ledger.system[CODES.VAT], -(invoice.additional_taxes_total - listed)))
    tips_account = invoice.tips_account_id or ledger.system[CODES.TIPS]
    postings.append(Posting(tips_account, -invoice.tips))
    ledger.post_source(
        "invoice",
        invoice.id,
        invoice.sent_at.date(),
        postings,
        description=f"Invoice {invoice.invoice_number}",
        reference=invoice.invoice_number,
    )


def create_invoice_record(
    books: Books,
    *,
    invoice_id: str,
    customer: Customer,
    lines: list[InvoiceLine],
    now: datetime,
    sent_at: datetime | None = None,
    due_at: datetime | None = None,
    **fields: Any,
) -> Invoice:
    sent = sent_at or now
    if due_at is None and customer.data.get("payment_terms_days") is not None:
        try:
            due_at = sent + timedelta(days=int(customer.data["payment_terms_days"]))
        except OverflowError:
            raise field_error(
                "sent_at", "The due date (sent_at plus the payment terms) is past year 9999."
            ) from None
    invoice = Invoice(
        id=invoice_id,
        customer_id=customer.id,
        invoice_number=fields.pop("invoice_number", None) or books.next_invoice_number(),
        sent_at=sent,
        due_at=due_at,
        created_at=now,
        updated_at=now,
        lines=lines,
        currency=books.currency,
        **fields,
    )
    invoice.total = representable(compute_invoice_total(invoice), "line_items")
    books.invoices[invoice.id] = invoice
    books.remember_external("invoice", invoice.external_id, invoice.id)
    post_invoice(books, invoice)
    refresh_document(books, invoice, now)
    return invoice


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
        if invoice.applications:
            raise field_error(
                "customer_id", "The customer of an invoice with payments cannot change."
            )
        customer_id = find_customer(books, body["customer_id"], None).id
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
    if customer_id != invoice.customer_id:
        release_from_party(books, invoice)
        invoice.customer_id = customer_id
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
    """Unlike a bill, an invoice with money applied is refused (undocumented, FACTS 4.13)."""
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
