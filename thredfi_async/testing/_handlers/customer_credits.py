"""``thredfi.customer_credits``: credit notes against invoices.

A credit's lines reverse revenue; its allocations lower the outstanding balances of the invoices
they name; what is not allocated stays as a credit balance owed to the customer. Deleting is
soft: the credit is kept, its allocations and ledger entry reversed, and it answers 404.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .._books.allocations import Share, open_document, requested_shares
from .._books.credit_notes import apply_credit, delete_credit, record_credit
from .._books.ledger import CODES
from .._books.parties import find_customer, party_reference
from .._books.records import get_or_404, linked_id, refuse_duplicate
from .._books.sides import RECEIVABLES
from .._books.state import (
    Books,
    CreditLine,
    CustomerCredit,
    Invoice,
)
from .._server.context import Context, Reply, handles
from .._server.filters import Filters, joined
from .._server.pagination import paginate
from .._server.values import iso, parse_datetime, set_texts
from ._credit_notes import (
    allocations_to_check,
    amounts_view,
    build_lines,
    created_fields,
    line_views,
    record_view,
    update_common,
)


def _customer_lines(books: Books, items: Any) -> list[CreditLine]:
    """Customer credit lines reverse revenue (sales returns unless the line names an account)."""
    return build_lines(
        books, items, account_key="revenue_account_identifier", default_code=CODES.SALES_RETURNS
    )


def customer_credit_view(books: Books, credit: CustomerCredit) -> dict[str, Any]:
    customer = books.customers[credit.customer_id]
    return {
        "id": credit.id,
        "external_id": credit.external_id,
        "status": credit.status,
        "sent_at": iso(credit.sent_at),
        "customer": party_reference(customer),
        "source_invoice_id": credit.source_invoice_id,
        "line_items": line_views(books, credit.lines, "revenue_account_identifier"),
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
        **amounts_view(credit),
        **record_view(credit),
    }


def _customer_allocations(
    books: Books, credit: CustomerCredit, requested: Any
) -> list[Share[Invoice]]:
    def resolve(index: int, item: dict[str, Any]) -> Share[Invoice]:
        invoice = open_document(books, RECEIVABLES, index, item, credit.customer_id)
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
    source_invoice_id = linked_id(body, "source_invoice_id", books.invoices, "Invoice")
    credit = CustomerCredit(
        id=ctx.new_id(),
        customer_id=customer.id,
        lines=_customer_lines(books, body.get("line_items")),
        sent_at=parse_datetime(body.get("sent_at"), "sent_at") or ctx.now,
        source_invoice_id=source_invoice_id,
        **created_fields(ctx, body, "customer_credit"),
    )
    shares = _customer_allocations(books, credit, body.get("allocations"))
    record_credit(books, credit, shares, ctx)
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
        allocations_to_check(body, credit, "invoice_id"),
    )
    sent_at = credit.sent_at
    if "sent_at" in body:
        sent_at = parse_datetime(body["sent_at"], "sent_at") or credit.sent_at
    credit.lines = lines
    update_common(ctx, credit, body, "customer_credit")
    credit.sent_at = sent_at
    set_texts(credit, body, ("memo", "source_invoice_id"))
    if "metadata" in body:
        credit.metadata = body["metadata"]
    apply_credit(books, credit, shares, ctx)
    return Reply(200, customer_credit_view(books, credit))


@handles("delete_customer_credit")
def delete_customer_credit(ctx: Context) -> Reply:
    books = ctx.books
    credit = get_or_404(books.customer_credits, ctx.param("credit_id"), "customer_credit")
    delete_credit(books, credit, ctx)
    return Reply(204)
