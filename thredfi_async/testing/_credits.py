"""Credit notes: customer credits (against invoices) and vendor credits (against bills).

A credit's lines reverse revenue (customer) or expense (vendor); its allocations lower the
outstanding balances of the invoices or bills they name; what is not allocated stays as a credit
balance (a liability to the customer, an asset against the vendor). Deleting is soft: the credit
is kept, flagged, its allocations and ledger entry reversed, and it disappears from lists and
lookups (404).

Line ``amount`` is in minor units on both kinds (integer for customer credits; the vendor schema
says ``number``, so a fractional value is rounded). ``external_id`` is idempotent for vendor
credits (documented) and answers 409 for customer credits (not documented, FACTS 2.3).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ._allocations import Share, reallocate, requested_shares
from ._context import (
    Context,
    Reply,
    change_external_id,
    get_or_404,
    handles,
    iso,
    make_documents,
    minor_units,
    parse_datetime,
    refuse_duplicate,
    resolve_account,
    set_texts,
    text,
)
from ._errors import field_error
from ._filters import Filters, joined
from ._ledger import CODES, Posting
from ._money import major
from ._pagination import paginate
from ._parties import party_reference
from ._payables import create_vendor_record, find_vendor
from ._receivables import find_customer
from ._state import Bill, Books, CreditLine, CreditNote, CustomerCredit, Invoice, VendorCredit

__all__ = ["customer_credit_view", "vendor_credit_view"]


def _tag_texts(tags: Any) -> list[str]:
    """Line tags arrive as objects but the response declares strings."""
    result = []
    for tag in tags or []:
        if isinstance(tag, dict):
            result.append(str(tag.get("name") or tag.get("value") or tag.get("id") or ""))
        else:
            result.append(str(tag))
    return result


def _build_lines(
    books: Books, items: Any, *, account_key: str, default_code: str
) -> list[CreditLine]:
    if not items:
        raise field_error("line_items", "At least one line item is required.")
    lines = []
    for index, item in enumerate(items):
        prefix = f"line_items.{index}"
        amount = minor_units(item.get("amount"), f"{prefix}.amount")
        if amount < 1:
            raise field_error(
                f"{prefix}.amount", "Ensure this value is greater than or equal to 1."
            )
        tax = item.get("tax_amount_cents") or 0
        if not isinstance(tax, int) or tax < 0:
            raise field_error(
                f"{prefix}.tax_amount_cents", "Ensure this value is greater than or equal to 0."
            )
        account = resolve_account(
            books, item.get(account_key), f"{prefix}.{account_key}", default_code
        )
        lines.append(
            CreditLine(
                amount=amount,
                tax=tax,
                account_id=account.id,
                memo=text(item, "memo"),
                metadata=item.get("metadata"),
                reference_number=text(item, "reference_number"),
                tags=list(item.get("tags") or []),
            )
        )
    return lines


def _customer_lines(books: Books, items: Any) -> list[CreditLine]:
    """Customer credit lines reverse revenue (sales returns unless the line names an account)."""
    return _build_lines(
        books, items, account_key="revenue_account_identifier", default_code=CODES.SALES_RETURNS
    )


def _vendor_lines(books: Books, items: Any) -> list[CreditLine]:
    """Vendor credit lines reduce an expense (operating expenses unless the line names one)."""
    return _build_lines(
        books,
        items,
        account_key="expense_account_identifier",
        default_code=CODES.OPERATING_EXPENSES,
    )


def _allocations_to_check(body: dict[str, Any], credit: CreditNote, target_key: str) -> Any:
    """An update's allocations; without any, the current ones, checked again (lines may shrink)."""
    if "allocations" in body:
        return body["allocations"]
    return [{target_key: a.target_id, "amount": a.amount} for a in credit.allocations]


def _line_views(books: Books, lines: list[CreditLine], account_key: str) -> list[dict[str, Any]]:
    return [
        {
            "amount": major(line.amount, books.currency),
            account_key: {"id": line.account_id, "type": "AccountId"},
            "tags": _tag_texts(line.tags),
            "memo": line.memo,
            "metadata": line.metadata,
        }
        for line in lines
    ]


def _amounts_view(credit: CreditNote) -> dict[str, Any]:
    """The tags and amounts part of either credit's view."""
    currency = credit.currency
    return {
        "tags": credit.tags,
        "total_amount": major(credit.total, currency),
        "applied_amount": major(credit.applied, currency),
    }


def _record_view(credit: CreditNote) -> dict[str, Any]:
    """The closing part of either credit's view: its document, timestamps and currency."""
    return {
        "document": credit.documents[0] if credit.documents else None,
        "created_at": iso(credit.created_at),
        "updated_at": iso(credit.updated_at),
        "currency": credit.currency,
    }


def _post_credit(
    books: Books, credit: CreditNote, source_type: str, *, receivable: str, balance: str, sign: int
) -> None:
    """Customer: DR revenue and VAT / CR AR and customer credit. Vendor: the mirror image."""
    ledger = books.ledger
    if credit.deleted_at is not None:
        ledger.unpost_source(source_type, credit.id)
        return
    postings = []
    for line in credit.lines:
        postings.append(Posting(line.account_id, sign * line.amount))
        postings.append(Posting(ledger.system[CODES.VAT], sign * line.tax))
    postings.append(Posting(ledger.system[receivable], -sign * credit.applied))
    postings.append(Posting(ledger.system[balance], -sign * (credit.total - credit.applied)))
    ledger.post_source(
        source_type,
        credit.id,
        credit.issued_at.date(),
        postings,
        description=f"{source_type.replace('_', ' ').capitalize()} "
        f"{credit.external_id or credit.id}",
        reference=credit.external_id,
    )


def _created_fields(ctx: Context, body: dict[str, Any], kind: str) -> dict[str, Any]:
    """The fields a create body gives either kind of credit, besides its party, lines and date."""
    return {
        "currency": ctx.books.currency,
        "created_at": ctx.now,
        "updated_at": ctx.now,
        "external_id": text(body, "external_id"),
        "tags": list(body.get("tags") or []),
        "documents": make_documents(ctx, body.get("document"), kind),
    }


def _update_common(ctx: Context, credit: CreditNote, body: dict[str, Any], kind: str) -> None:
    change_external_id(ctx.books, kind, credit, body)
    if "tags" in body:
        credit.tags = list(body["tags"] or [])
    if body.get("document"):
        credit.documents = make_documents(ctx, body["document"], kind)
    credit.updated_at = ctx.now


def _soft_delete(ctx: Context, credit: CreditNote, kind: str) -> None:
    """Kept but flagged: gone from lists and lookups; the caller re-applies it (to nothing)."""
    ctx.books.forget_external(kind, credit.external_id)
    credit.deleted_at = ctx.now
    credit.updated_at = ctx.now


# -- customer credits ------------------------------------------------------------------------


def customer_credit_view(books: Books, credit: CustomerCredit) -> dict[str, Any]:
    customer = books.customers[credit.customer_id]
    return {
        "id": credit.id,
        "external_id": credit.external_id,
        "status": credit.status,
        "sent_at": iso(credit.sent_at),
        "customer": party_reference(customer),
        "source_invoice_id": credit.source_invoice_id,
        "line_items": _line_views(books, credit.lines, "revenue_account_identifier"),
        "allocations": [
            {
                "invoice_id": a.target_id,
                "invoice_number": books.invoices[a.target_id].invoice_number,
                "amount_cents": a.amount,
                "invoice_outstanding_balance_cents": books.invoices[a.target_id].outstanding,
                "applied_at": iso(a.at),
            }
            for a in credit.allocations
        ],
        **_amounts_view(credit),
        **_record_view(credit),
    }


def _customer_allocations(
    books: Books, credit: CustomerCredit, requested: Any
) -> list[Share[Invoice]]:
    def resolve(index: int, item: dict[str, Any]) -> Share[Invoice]:
        invoice = books.invoices.get(str(item.get("invoice_id")))
        if invoice is None:
            raise field_error(
                f"allocations.{index}.invoice_id",
                f'Invoice "{item.get("invoice_id")}" does not exist.',
            )
        if invoice.customer_id != credit.customer_id or invoice.voided_at is not None:
            raise field_error(
                f"allocations.{index}.invoice_id",
                "The invoice is voided or belongs to another customer.",
            )
        return Share(invoice, int(item["amount"]))

    return requested_shares(
        requested,
        resolve,
        current=credit.allocations,
        amount_key="amount",
        exceeds="Allocation exceeds the invoice outstanding amount.",
        limit=credit.total,
        too_much="Allocations exceed the credit total.",
    )


def _apply_customer_credit(
    ctx: Context, credit: CustomerCredit, shares: list[Share[Invoice]]
) -> None:
    books = ctx.books
    reallocate(
        books,
        credit,
        shares,
        ctx,
        documents=books.invoices,
        source_type="credit",
        on=credit.sent_at.date(),
    )
    _post_credit(
        books,
        credit,
        "customer_credit",
        receivable=CODES.RECEIVABLES,
        balance=CODES.CUSTOMER_CREDITS,
        sign=1,
    )


@handles("list_customer_credits")
def list_customer_credits(ctx: Context) -> Reply:
    books = ctx.books
    items = Filters(ctx, [c for c in books.customer_credits.values() if c.deleted_at is None])
    items.one_of("customer_id", lambda c: c.customer_id)
    items.sent(
        "customer_external_id",
        lambda external_id, c: c.customer_id == books.find_external("customer", str(external_id)),
    )
    items.between("sent_at_start", "sent_at_end", lambda c: c.sent_at, parse_datetime)
    items.contains(
        "search",
        lambda c: joined(c.id, c.external_id, books.customers[c.customer_id].display_name),
    )
    return Reply(200, paginate(ctx, items.items, lambda c: customer_credit_view(books, c)))


@handles("create_customer_credit")
def create_customer_credit(ctx: Context) -> Reply:
    books = ctx.books
    body = ctx.body
    refuse_duplicate(books, "customer_credit", body.get("external_id"))
    customer = find_customer(books, body.get("customer_id"), body.get("customer_external_id"))
    credit = CustomerCredit(
        id=ctx.new_id(),
        customer_id=customer.id,
        lines=_customer_lines(books, body.get("line_items")),
        sent_at=parse_datetime(body.get("sent_at"), "sent_at") or ctx.now,
        source_invoice_id=text(body, "source_invoice_id"),
        **_created_fields(ctx, body, "customer_credit"),
    )
    shares = _customer_allocations(books, credit, body.get("allocations"))
    books.customer_credits[credit.id] = credit
    books.remember_external("customer_credit", credit.external_id, credit.id)
    _apply_customer_credit(ctx, credit, shares)
    return Reply(201, customer_credit_view(books, credit))


@handles("get_customer_credit")
def get_customer_credit(ctx: Context) -> Reply:
    credit = get_or_404(ctx.books.customer_credits, ctx.param("credit_id"), "customer_credit")
    return Reply(200, customer_credit_view(ctx.books, credit))


@handles("update_customer_credit")
def update_customer_credit(ctx: Context) -> Reply:
    """The new lines and allocations are checked before anything changes (a refusal keeps all)."""
    books = ctx.books
    body = ctx.body
    credit = get_or_404(books.customer_credits, ctx.param("credit_id"), "customer_credit")
    lines = _customer_lines(books, body["line_items"]) if "line_items" in body else credit.lines
    shares = _customer_allocations(
        books,
        replace(credit, lines=lines),
        _allocations_to_check(body, credit, "invoice_id"),
    )
    sent_at = credit.sent_at
    if "sent_at" in body:
        sent_at = parse_datetime(body["sent_at"], "sent_at") or credit.sent_at
    credit.lines = lines
    _update_common(ctx, credit, body, "customer_credit")
    credit.sent_at = sent_at
    set_texts(credit, body, ("memo", "source_invoice_id"))
    if "metadata" in body:
        credit.metadata = body["metadata"]
    _apply_customer_credit(ctx, credit, shares)
    return Reply(200, customer_credit_view(books, credit))


@handles("delete_customer_credit")
def delete_customer_credit(ctx: Context) -> Reply:
    books = ctx.books
    credit = get_or_404(books.customer_credits, ctx.param("credit_id"), "customer_credit")
    _soft_delete(ctx, credit, "customer_credit")
    _apply_customer_credit(ctx, credit, [])
    return Reply(204)


# -- vendor credits --------------------------------------------------------------------------


def vendor_credit_view(books: Books, credit: VendorCredit) -> dict[str, Any]:
    vendor = books.vendors[credit.vendor_id]
    return {
        "id": credit.id,
        "external_id": credit.external_id,
        "status": credit.status,
        "received_at": iso(credit.received_at),
        "vendor": party_reference(vendor),
        "source_bill_id": credit.source_bill_id,
        "line_items": _line_views(books, credit.lines, "expense_account_identifier"),
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
        **_amounts_view(credit),
        **_record_view(credit),
    }


def _vendor_allocations(books: Books, credit: VendorCredit, requested: Any) -> list[Share[Bill]]:
    exceeds = "Allocation exceeds the bill outstanding amount."

    def resolve(index: int, item: dict[str, Any]) -> Share[Bill]:
        bill = books.bills.get(str(item.get("bill_id")))
        if bill is None:
            raise field_error(
                f"allocations.{index}.bill_id", f'Bill "{item.get("bill_id")}" does not exist.'
            )
        if bill.vendor_id != credit.vendor_id or bill.voided_at is not None:
            raise field_error(
                f"allocations.{index}.bill_id", "The bill is voided or belongs to another vendor."
            )
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


def _apply_vendor_credit(ctx: Context, credit: VendorCredit, shares: list[Share[Bill]]) -> None:
    books = ctx.books
    reallocate(
        books,
        credit,
        shares,
        ctx,
        documents=books.bills,
        source_type="vendor_credit",
        on=credit.received_at.date(),
    )
    _post_credit(
        books,
        credit,
        "vendor_credit",
        receivable=CODES.PAYABLES,
        balance=CODES.VENDOR_PREPAYMENTS,
        sign=-1,
    )


def _credit_vendor(books: Books, body: dict[str, Any]) -> str | None:
    """The vendor a credit names; None when its ``vendor_external_id`` is new (FACTS 3.12).

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
    credit_id = ctx.new_id()
    known_vendor = _credit_vendor(books, body)
    credit = VendorCredit(
        id=credit_id,
        vendor_id=known_vendor or ctx.new_id(),
        lines=lines,
        received_at=parse_datetime(body.get("received_at"), "received_at") or ctx.now,
        source_bill_id=text(body, "source_bill_id"),
        **_created_fields(ctx, body, "vendor_credit"),
    )
    shares = _vendor_allocations(books, credit, body.get("allocations"))
    if known_vendor is None:
        _create_credit_vendor(ctx, books, body, credit.vendor_id)
    books.vendor_credits[credit.id] = credit
    books.remember_external("vendor_credit", credit.external_id, credit.id)
    _apply_vendor_credit(ctx, credit, shares)
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
        _allocations_to_check(body, credit, "bill_id"),
    )
    received_at = credit.received_at
    if "received_at" in body:
        received_at = parse_datetime(body["received_at"], "received_at") or credit.received_at
    if new_vendor:
        _create_credit_vendor(ctx, books, body, vendor_id)
    credit.vendor_id = vendor_id
    credit.lines = lines
    _update_common(ctx, credit, body, "vendor_credit")
    credit.received_at = received_at
    set_texts(credit, body, ("source_bill_id",))
    _apply_vendor_credit(ctx, credit, shares)
    return Reply(200, vendor_credit_view(books, credit))


@handles("delete_vendor_credit")
def delete_vendor_credit(ctx: Context) -> Reply:
    books = ctx.books
    credit = get_or_404(books.vendor_credits, ctx.param("credit_id"), "vendor_credit")
    _soft_delete(ctx, credit, "vendor_credit")
    _apply_vendor_credit(ctx, credit, [])
    return Reply(204)
