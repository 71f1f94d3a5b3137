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

from collections.abc import Callable
from typing import Any

from ._context import (
    Context,
    Reply,
    get_or_404,
    handles,
    iso,
    make_documents,
    minor_units,
    parse_datetime,
    resolve_account,
    text,
)
from ._errors import conflict, field_error
from ._ledger import CODES, Posting
from ._money import major
from ._pagination import paginate
from ._payables import apply_to_bill, create_vendor_record, find_vendor, unapply_from_bill
from ._receivables import apply_to_invoice, find_customer, list_of_ids, unapply_from_invoice
from ._state import Allocation, Books, CreditLine, CustomerCredit, VendorCredit

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


def _line_views(books: Books, lines: list[CreditLine], account_key: str) -> list[dict[str, Any]]:
    return [
        {
            "amount": major(line.amount, books.currency),
            "amount_cents": line.amount,
            "tax_amount_cents": line.tax,
            account_key: {"id": line.account_id, "type": "AccountId"},
            "tags": _tag_texts(line.tags),
            "memo": line.memo,
            "metadata": line.metadata,
            "reference_number": line.reference_number,
        }
        for line in lines
    ]


def _held(credit: CustomerCredit | VendorCredit) -> dict[str, int]:
    """What the credit already applies per document (available again when re-allocating)."""
    held: dict[str, int] = {}
    for allocation in credit.allocations:
        held[allocation.target_id] = held.get(allocation.target_id, 0) + allocation.amount
    return held


def _first(documents: list[dict[str, Any]]) -> dict[str, Any] | None:
    return documents[0] if documents else None


# -- customer credits ------------------------------------------------------------------------


def customer_credit_view(books: Books, credit: CustomerCredit) -> dict[str, Any]:
    customer = books.customers[credit.customer_id]
    currency = credit.currency
    return {
        "id": credit.id,
        "external_id": credit.external_id,
        "status": credit.status,
        "sent_at": iso(credit.issued_on),
        "customer": {
            "id": customer.id,
            "external_id": customer.external_id,
            "display_name": customer.display_name,
            "email": customer.data.get("email"),
        },
        "customer_id": customer.id,
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
        "tags": credit.tags,
        "total_amount": major(credit.total, currency),
        "total_amount_cents": credit.total,
        "applied_amount": major(credit.applied, currency),
        "applied_amount_cents": credit.applied,
        "remaining_amount_cents": credit.total - credit.applied,
        "memo": credit.memo,
        "metadata": credit.metadata,
        "document": _first(credit.documents),
        "created_at": iso(credit.created_at),
        "updated_at": iso(credit.updated_at),
        "currency": currency,
    }


def _customer_allocations(
    ctx: Context, books: Books, credit: CustomerCredit, requested: Any
) -> list[tuple[str, int]]:
    held = _held(credit)
    wanted: dict[str, int] = {}
    pairs = []
    for index, item in enumerate(requested or []):
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
        amount = int(item["amount"])
        wanted[invoice.id] = wanted.get(invoice.id, 0) + amount
        if wanted[invoice.id] > invoice.outstanding + held.get(invoice.id, 0):
            raise field_error(
                f"allocations.{index}.amount", "Allocation exceeds the invoice outstanding amount."
            )
        pairs.append((invoice.id, amount))
    if sum(a for _, a in pairs) > credit.total:
        raise field_error("allocations", "Allocations exceed the credit total.")
    return pairs


def _apply_customer_credit(
    ctx: Context, books: Books, credit: CustomerCredit, pairs: list[tuple[str, int]]
) -> None:
    for allocation in credit.allocations:
        unapply_from_invoice(books, books.invoices[allocation.target_id], allocation.id, ctx.now)
    credit.allocations = []
    for invoice_id, amount in pairs:
        allocation = Allocation(id=ctx.new_id(), target_id=invoice_id, amount=amount, at=ctx.now)
        credit.allocations.append(allocation)
        apply_to_invoice(
            books,
            books.invoices[invoice_id],
            source="credit",
            source_id=credit.id,
            allocation_id=allocation.id,
            amount=amount,
            on=credit.issued_on.date(),
            now=ctx.now,
        )
    _post_credit(
        books,
        "customer_credit",
        credit.id,
        credit,
        credit.deleted_at is None,
        receivable=CODES.RECEIVABLES,
        balance=CODES.CUSTOMER_CREDITS,
        sign=1,
    )


def _post_credit(
    books: Books,
    source_type: str,
    source_id: str,
    credit: CustomerCredit | VendorCredit,
    active: bool,
    *,
    receivable: str,
    balance: str,
    sign: int,
) -> None:
    """Customer: DR revenue and VAT / CR AR and customer credit. Vendor: the mirror image."""
    ledger = books.ledger
    if not active:
        ledger.unpost_source(source_type, source_id)
        return
    postings = []
    for line in credit.lines:
        postings.append(Posting(line.account_id, sign * line.amount))
        postings.append(Posting(ledger.by_code[CODES.VAT], sign * line.tax))
    postings.append(Posting(ledger.by_code[receivable], -sign * credit.applied))
    postings.append(Posting(ledger.by_code[balance], -sign * (credit.total - credit.applied)))
    issued = credit.issued_on if isinstance(credit, CustomerCredit) else credit.received_at
    ledger.post_source(
        source_type,
        source_id,
        issued.date(),
        postings,
        description=f"{source_type.replace('_', ' ').capitalize()} "
        f"{credit.external_id or credit.id}",
        reference=credit.external_id,
    )


@handles("list_customer_credits")
def list_customer_credits(ctx: Context) -> Reply:
    books = ctx.books
    items = [c for c in books.customer_credits.values() if c.deleted_at is None]
    customer_ids = ctx.filter("customer_id")
    if customer_ids:
        wanted = list_of_ids(customer_ids)
        items = [c for c in items if c.customer_id in wanted]
    customer_external_id = ctx.filter("customer_external_id")
    if customer_external_id:
        found = books.find_external("customer", str(customer_external_id))
        items = [c for c in items if c.customer_id == found]
    start = parse_datetime(ctx.filter("sent_at_start"), "sent_at_start")
    if start is not None:
        items = [c for c in items if c.issued_on >= start]
    end = parse_datetime(ctx.filter("sent_at_end"), "sent_at_end")
    if end is not None:
        items = [c for c in items if c.issued_on <= end]
    search = ctx.filter("search")
    if search:
        needle = str(search).lower()
        items = [
            c
            for c in items
            if needle
            in f"{c.id} {c.external_id or ''} {books.customers[c.customer_id].display_name}".lower()
        ]
    return Reply(200, paginate(ctx, items, lambda c: customer_credit_view(books, c)))


@handles("create_customer_credit")
def create_customer_credit(ctx: Context) -> Reply:
    books = ctx.books
    body = ctx.body
    existing = books.find_external("customer_credit", body.get("external_id"))
    if existing is not None:
        raise conflict(
            "duplicate_external_id",
            f'A customer credit with external_id "{body["external_id"]}" already exists.',
            existing_id=existing,
        )
    customer = find_customer(books, body.get("customer_id"), body.get("customer_external_id"))
    credit = CustomerCredit(
        id=ctx.new_id(),
        customer_id=customer.id,
        lines=_build_lines(
            books,
            body.get("line_items"),
            account_key="revenue_account_identifier",
            default_code=CODES.SALES_RETURNS,
        ),
        currency=books.currency,
        issued_on=parse_datetime(body.get("sent_at"), "sent_at") or ctx.now,
        created_at=ctx.now,
        updated_at=ctx.now,
        external_id=text(body, "external_id"),
        source_invoice_id=text(body, "source_invoice_id"),
        tags=list(body.get("tags") or []),
        documents=make_documents(ctx, body.get("document"), "customer_credit"),
    )
    pairs = _customer_allocations(ctx, books, credit, body.get("allocations"))
    books.customer_credits[credit.id] = credit
    books.remember_external("customer_credit", credit.external_id, credit.id)
    _apply_customer_credit(ctx, books, credit, pairs)
    return Reply(201, customer_credit_view(books, credit))


@handles("get_customer_credit")
def get_customer_credit(ctx: Context) -> Reply:
    credit = get_or_404(ctx.books.customer_credits, ctx.param("credit_id"), "customer_credit")
    return Reply(200, customer_credit_view(ctx.books, credit))


@handles("update_customer_credit")
def update_customer_credit(ctx: Context) -> Reply:
    books = ctx.books
    body = ctx.body
    credit: CustomerCredit = get_or_404(
        books.customer_credits, ctx.param("credit_id"), "customer_credit"
    )
    if "line_items" in body:
        credit.lines = _build_lines(
            books,
            body["line_items"],
            account_key="revenue_account_identifier",
            default_code=CODES.SALES_RETURNS,
        )
    requested = (
        body["allocations"]
        if "allocations" in body
        else [{"invoice_id": a.target_id, "amount": a.amount} for a in credit.allocations]
    )
    pairs = _customer_allocations(ctx, books, credit, requested)
    _update_common(ctx, books, credit, body, "customer_credit")
    if "sent_at" in body:
        credit.issued_on = parse_datetime(body["sent_at"], "sent_at") or credit.issued_on
    for key in ("memo", "source_invoice_id"):
        if key in body:
            setattr(credit, key, text(body, key))
    if "metadata" in body:
        credit.metadata = body["metadata"]
    _apply_customer_credit(ctx, books, credit, pairs)
    return Reply(200, customer_credit_view(books, credit))


def _update_common(
    ctx: Context,
    books: Books,
    credit: CustomerCredit | VendorCredit,
    body: dict[str, Any],
    kind: str,
) -> None:
    if "external_id" in body and body["external_id"] != credit.external_id:
        books.forget_external(kind, credit.external_id)
        credit.external_id = text(body, "external_id")
        books.remember_external(kind, credit.external_id, credit.id)
    if "tags" in body:
        credit.tags = list(body["tags"] or [])
    if body.get("document"):
        credit.documents = make_documents(ctx, body["document"], kind)
    credit.updated_at = ctx.now


def _soft_delete(
    ctx: Context,
    credit: CustomerCredit | VendorCredit,
    reapply: Callable[[], None],
) -> Reply:
    credit.deleted_at = ctx.now
    credit.updated_at = ctx.now
    reapply()
    return Reply(204)


@handles("delete_customer_credit")
def delete_customer_credit(ctx: Context) -> Reply:
    books = ctx.books
    credit: CustomerCredit = get_or_404(
        books.customer_credits, ctx.param("credit_id"), "customer_credit"
    )
    books.forget_external("customer_credit", credit.external_id)
    return _soft_delete(ctx, credit, lambda: _apply_customer_credit(ctx, books, credit, []))


# -- vendor credits --------------------------------------------------------------------------


def vendor_credit_view(books: Books, credit: VendorCredit) -> dict[str, Any]:
    vendor = books.vendors[credit.vendor_id]
    currency = credit.currency
    return {
        "id": credit.id,
        "external_id": credit.external_id,
        "status": credit.status,
        "received_at": iso(credit.received_at),
        "vendor": {
            "id": vendor.id,
            "external_id": vendor.external_id,
            "display_name": vendor.display_name,
        },
        "vendor_id": vendor.id,
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
        "tags": credit.tags,
        "total_amount": major(credit.total, currency),
        "total_amount_cents": credit.total,
        "applied_amount": major(credit.applied, currency),
        "applied_amount_cents": credit.applied,
        "remaining_amount_cents": credit.total - credit.applied,
        "document": _first(credit.documents),
        "created_at": iso(credit.created_at),
        "updated_at": iso(credit.updated_at),
        "currency": currency,
    }


def _vendor_allocations(
    books: Books, credit: VendorCredit, requested: Any
) -> list[tuple[str, int]]:
    held = _held(credit)
    wanted: dict[str, int] = {}
    pairs = []
    for index, item in enumerate(requested or []):
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
        wanted[bill.id] = wanted.get(bill.id, 0) + amount
        if amount < 1 or wanted[bill.id] > bill.outstanding + held.get(bill.id, 0):
            raise field_error(
                f"allocations.{index}.amount", "Allocation exceeds the bill outstanding amount."
            )
        pairs.append((bill.id, amount))
    if sum(a for _, a in pairs) > credit.total:
        raise field_error("allocations", "Allocations exceed the credit total.")
    return pairs


def _apply_vendor_credit(
    ctx: Context, books: Books, credit: VendorCredit, pairs: list[tuple[str, int]]
) -> None:
    for allocation in credit.allocations:
        unapply_from_bill(books, books.bills[allocation.target_id], allocation.id, ctx.now)
    credit.allocations = []
    for bill_id, amount in pairs:
        allocation = Allocation(id=ctx.new_id(), target_id=bill_id, amount=amount, at=ctx.now)
        credit.allocations.append(allocation)
        apply_to_bill(
            books,
            books.bills[bill_id],
            source="vendor_credit",
            source_id=credit.id,
            allocation_id=allocation.id,
            amount=amount,
            on=credit.received_at.date(),
            now=ctx.now,
        )
    _post_credit(
        books,
        "vendor_credit",
        credit.id,
        credit,
        credit.deleted_at is None,
        receivable=CODES.PAYABLES,
        balance=CODES.VENDOR_PREPAYMENTS,
        sign=-1,
    )


def _vendor_for_credit(ctx: Context, books: Books, body: dict[str, Any]) -> str:
    """A ``vendor_external_id`` not seen before creates the vendor on the fly (FACTS 3.12)."""
    external = body.get("vendor_external_id")
    if not body.get("vendor_id") and external and books.find_external("vendor", external) is None:
        vendor = create_vendor_record(
            books,
            ctx.new_id(),
            ctx.now,
            {"external_id": str(external), "company_name": str(external)},
        )
        return vendor.id
    return find_vendor(books, body.get("vendor_id"), external).id


@handles("list_vendor_credits")
def list_vendor_credits(ctx: Context) -> Reply:
    books = ctx.books
    items = [c for c in books.vendor_credits.values() if c.deleted_at is None]
    for key in ("vendor_id", "status"):
        wanted = ctx.filter(key)
        if wanted:
            items = [c for c in items if getattr(c, key) == wanted]
    start = parse_datetime(ctx.filter("received_at_start"), "received_at_start")
    if start is not None:
        items = [c for c in items if c.received_at >= start]
    end = parse_datetime(ctx.filter("received_at_end"), "received_at_end")
    if end is not None:
        items = [c for c in items if c.received_at <= end]
    return Reply(200, paginate(ctx, items, lambda c: vendor_credit_view(books, c)))


@handles("create_vendor_credit")
def create_vendor_credit(ctx: Context) -> Reply:
    books = ctx.books
    body = ctx.body
    existing = books.find_external("vendor_credit", body.get("external_id"))
    if existing is not None:
        return Reply(200, vendor_credit_view(books, books.vendor_credits[existing]))
    lines = _build_lines(
        books,
        body.get("line_items"),
        account_key="expense_account_identifier",
        default_code=CODES.OPERATING_EXPENSES,
    )
    credit = VendorCredit(
        id=ctx.new_id(),
        vendor_id=_vendor_for_credit(ctx, books, body),
        lines=lines,
        currency=books.currency,
        received_at=parse_datetime(body.get("received_at"), "received_at") or ctx.now,
        created_at=ctx.now,
        updated_at=ctx.now,
        external_id=text(body, "external_id"),
        source_bill_id=text(body, "source_bill_id"),
        tags=list(body.get("tags") or []),
        documents=make_documents(ctx, body.get("document"), "vendor_credit"),
    )
    pairs = _vendor_allocations(books, credit, body.get("allocations"))
    books.vendor_credits[credit.id] = credit
    books.remember_external("vendor_credit", credit.external_id, credit.id)
    _apply_vendor_credit(ctx, books, credit, pairs)
    return Reply(201, vendor_credit_view(books, credit))


@handles("get_vendor_credit")
def get_vendor_credit(ctx: Context) -> Reply:
    credit = get_or_404(ctx.books.vendor_credits, ctx.param("credit_id"), "vendor_credit")
    return Reply(200, vendor_credit_view(ctx.books, credit))


@handles("update_vendor_credit")
def update_vendor_credit(ctx: Context) -> Reply:
    books = ctx.books
    body = ctx.body
    credit: VendorCredit = get_or_404(books.vendor_credits, ctx.param("credit_id"), "vendor_credit")
    if body.get("vendor_id") or body.get("vendor_external_id"):
        vendor_id = _vendor_for_credit(ctx, books, body)
        if vendor_id != credit.vendor_id and credit.allocations and "allocations" not in body:
            raise field_error("vendor_id", "Re-send allocations when changing the vendor.")
        credit.vendor_id = vendor_id
    if "line_items" in body:
        credit.lines = _build_lines(
            books,
            body["line_items"],
            account_key="expense_account_identifier",
            default_code=CODES.OPERATING_EXPENSES,
        )
    requested = (
        body["allocations"]
        if "allocations" in body
        else [{"bill_id": a.target_id, "amount": a.amount} for a in credit.allocations]
    )
    pairs = _vendor_allocations(books, credit, requested)
    _update_common(ctx, books, credit, body, "vendor_credit")
    if "received_at" in body:
        credit.received_at = (
            parse_datetime(body["received_at"], "received_at") or credit.received_at
        )
    if "source_bill_id" in body:
        credit.source_bill_id = text(body, "source_bill_id")
    _apply_vendor_credit(ctx, books, credit, pairs)
    return Reply(200, vendor_credit_view(books, credit))


@handles("delete_vendor_credit")
def delete_vendor_credit(ctx: Context) -> Reply:
    books = ctx.books
    credit: VendorCredit = get_or_404(books.vendor_credits, ctx.param("credit_id"), "vendor_credit")
    books.forget_external("vendor_credit", credit.external_id)
    return _soft_delete(ctx, credit, lambda: _apply_vendor_credit(ctx, books, credit, []))
