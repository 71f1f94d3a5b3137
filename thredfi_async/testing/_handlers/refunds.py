"""``thredfi.refunds``: money owed back to a customer on an invoice.

A refund reduces revenue and sits in Refunds Payable until refund payments pay it out of the
bank. The invoice keeps its status (a paid invoice stays paid) and reports
``refunded_amount_cents``. The refund's status follows its payments: ``pending``,
``processing`` once partly paid, ``paid`` when fully covered.
"""

from __future__ import annotations

from typing import Any

from .._books.ledger import CODES, Posting
from .._books.money import major
from .._books.records import get_or_404, refuse_duplicate
from .._books.state import Books, Refund
from .._server.context import Context, Reply, handles, make_documents
from .._server.errors import ApiError, field_error
from .._server.filters import Filters, joined
from .._server.pagination import paginate
from .._server.values import iso, parse_datetime, text
from ._views import refund_payment_view


def refund_view(books: Books, refund: Refund) -> dict[str, Any]:
    currency = books.currency
    invoice = books.invoices[refund.invoice_id]
    customer = books.customers[refund.customer_id]
    return {
        "id": refund.id,
        "external_id": refund.external_id,
        "invoice_id": refund.invoice_id,
        "customer_id": refund.customer_id,
        "customer_name": customer.display_name,
        "status": refund.status,
        "refunded_amount": major(refund.amount, currency),
        "refunded_amount_cents": refund.amount,
        "refund_processing_fee_cents": refund.fee,
        "paid_amount_cents": refund.paid,
        "remaining_amount_cents": refund.amount - refund.paid,
        "currency": currency,
        "method": refund.method,
        "processor": refund.processor,
        "completed_at": iso(refund.completed_at),
        "memo": refund.memo,
        "reference_number": refund.reference_number,
        "allocations": [
            {
                "id": refund.allocation_id,
                "allocation_type": "invoice",
                "amount": major(refund.amount, currency),
                "invoice_id": invoice.id,
                "invoice_number": invoice.invoice_number,
                "invoice_outstanding_balance_cents": invoice.outstanding,
                "target_description": f"Invoice {invoice.invoice_number}",
                "description": refund.memo,
                "allocation_date": iso(refund.created_at),
            }
        ],
        "refund_payments": [
            refund_payment_view(books, books.refund_payments[pid]) for pid in refund.payment_ids
        ],
        "documents": refund.documents,
        "created_at": iso(refund.created_at),
        "updated_at": iso(refund.updated_at),
    }


def _post_refund(books: Books, refund: Refund) -> None:
    """DR Sales Returns / CR Refunds Payable: revenue falls, the customer is owed the money."""
    ledger = books.ledger
    ledger.post_source(
        "refund",
        refund.id,
        (refund.completed_at or refund.created_at).date(),
        [
            Posting(ledger.system[CODES.SALES_RETURNS], refund.amount),
            Posting(ledger.system[CODES.REFUNDS_PAYABLE], -refund.amount),
        ],
        description=f"Refund on invoice {books.invoices[refund.invoice_id].invoice_number}",
        reference=refund.reference_number,
    )


@handles("list_refunds")
def list_refunds(ctx: Context) -> Reply:
    books = ctx.books
    items = Filters(ctx, books.refunds.values())
    items.one_of("customer_id", lambda r: r.customer_id)
    items.between(
        "completed_at_start", "completed_at_end", lambda r: r.completed_at, parse_datetime
    )
    items.equal("invoice_id", "status")
    items.contains(
        "search", lambda r: joined(r.external_id, r.reference_number, r.memo, r.customer_id)
    )
    return Reply(200, paginate(ctx, items.items, lambda r: refund_view(books, r)))


@handles("create_refund")
def create_refund(ctx: Context) -> Reply:
    books = ctx.books
    body = ctx.body
    # Refund idempotency is not documented (docs/api-behaviour.md): answer the error guide's 409.
    refuse_duplicate(books, "refund", body.get("external_id"))
    invoice = books.invoices.get(str(body["invoice_id"]))
    if invoice is None:
        raise field_error("invoice_id", f'Invoice "{body["invoice_id"]}" does not exist.')
    if invoice.voided_at is not None:
        raise field_error("invoice_id", "A voided invoice cannot be refunded.")
    refundable = invoice.total - invoice.refunded
    amount = body.get("amount_cents")
    amount = refundable if amount is None else int(amount)
    if amount < 1 or amount > refundable:
        raise field_error(
            "amount_cents",
            f"The refund must be between 1 and the refundable amount ({refundable}).",
        )
    refund = Refund(
        id=ctx.new_id(),
        invoice_id=invoice.id,
        customer_id=invoice.customer_id,
        amount=amount,
        created_at=ctx.now,
        updated_at=ctx.now,
        allocation_id=ctx.new_id(),
        fee=int(body.get("refund_processing_fee_cents") or 0),
        method=text(body, "method"),
        processor=text(body, "processor"),
        completed_at=parse_datetime(body.get("completed_at"), "completed_at"),
        external_id=text(body, "external_id"),
        memo=text(body, "memo"),
        reference_number=text(body, "reference_number"),
        documents=make_documents(ctx, body.get("document"), "refund"),
    )
    books.refunds[refund.id] = refund
    books.remember_external("refund", refund.external_id, refund.id)
    invoice.refunded += amount
    invoice.updated_at = ctx.now
    _post_refund(books, refund)
    return Reply(201, refund_view(books, refund))


@handles("get_refund")
def get_refund(ctx: Context) -> Reply:
    refund = get_or_404(ctx.books.refunds, ctx.param("refund_id"), "refund")
    return Reply(200, refund_view(ctx.books, refund))


@handles("delete_refund")
def delete_refund(ctx: Context) -> Reply:
    books = ctx.books
    refund = get_or_404(books.refunds, ctx.param("refund_id"), "refund")
    if refund.payment_ids:
        raise ApiError(
            400,
            "refund_has_payments",
            "Delete the refund's payments before deleting the refund.",
            detail={"refund_payment_ids": list(refund.payment_ids)},
        )
    invoice = books.invoices[refund.invoice_id]
    invoice.refunded -= refund.amount
    invoice.updated_at = ctx.now
    books.ledger.unpost_source("refund", refund.id)
    books.forget_external("refund", refund.external_id)
    del books.refunds[refund.id]
    return Reply(200)
