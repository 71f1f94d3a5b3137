"""``thredfi.refund_payments``: the payments that pay a refund out of the bank; creating or
deleting one recomputes the refund's status.
"""

from __future__ import annotations

from .._books.ledger import CODES, Posting
from .._books.records import get_or_404
from .._books.state import Books, Refund, RefundPayment
from .._server.context import Context, Reply, handles
from .._server.errors import field_error, not_found
from .._server.pagination import paginate
from .._server.values import parse_datetime, text
from ._views import refund_payment_view


def _post_refund_payment(books: Books, payment: RefundPayment) -> None:
    """DR Refunds Payable and fees / CR Bank."""
    ledger = books.ledger
    ledger.post_source(
        "refund_payment",
        payment.id,
        (payment.completed_at or payment.created_at).date(),
        [
            Posting(ledger.system[CODES.REFUNDS_PAYABLE], payment.amount),
            Posting(ledger.system[CODES.PROCESSING_FEES], payment.fee),
            Posting(ledger.system[CODES.BANK], -(payment.amount + payment.fee)),
        ],
        description="Refund payment",
        reference=payment.external_id,
    )


def _refund(ctx: Context) -> Refund:
    return get_or_404(ctx.books.refunds, ctx.param("refund_id"), "refund")


@handles("list_refund_payments")
def list_refund_payments(ctx: Context) -> Reply:
    books = ctx.books
    refund = _refund(ctx)
    items = [books.refund_payments[pid] for pid in reversed(refund.payment_ids)]  # newest first
    return Reply(200, paginate(ctx, items, lambda p: refund_payment_view(books, p)))


@handles("create_refund_payment")
def create_refund_payment(ctx: Context) -> Reply:
    books = ctx.books
    body = ctx.body
    refund = _refund(ctx)
    existing = books.find_external("refund_payment", body.get("external_id"))
    if existing is not None:
        return Reply(200, refund_payment_view(books, books.refund_payments[existing]))
    amount = int(body["amount_cents"])
    remaining = refund.amount - refund.paid
    if amount > remaining:
        raise field_error(
            "amount_cents", f"The amount exceeds what is still refundable ({remaining})."
        )
    payment = RefundPayment(
        id=ctx.new_id(),
        refund_id=refund.id,
        amount=amount,
        created_at=ctx.now,
        updated_at=ctx.now,
        fee=int(body.get("refund_processing_fee_cents") or 0),
        method=text(body, "method"),
        processor=text(body, "processor"),
        external_id=text(body, "external_id"),
        completed_at=parse_datetime(body.get("completed_at"), "completed_at") or ctx.now,
        memo=text(body, "memo"),
        transaction_tags=list(body.get("transaction_tags") or []),
        metadata=body.get("metadata"),
    )
    books.refund_payments[payment.id] = payment
    books.remember_external("refund_payment", payment.external_id, payment.id)
    refund.payment_ids.append(payment.id)
    refund.paid += amount
    refund.updated_at = ctx.now
    _post_refund_payment(books, payment)
    return Reply(201, refund_payment_view(books, payment))


def _refund_payment(ctx: Context, refund: Refund) -> RefundPayment:
    payment_id = ctx.param("payment_id")
    if payment_id not in refund.payment_ids:
        raise not_found("refund_payment", payment_id)
    return ctx.books.refund_payments[payment_id]


@handles("fetch_refund_payment")
def fetch_refund_payment(ctx: Context) -> Reply:
    refund = _refund(ctx)
    return Reply(200, refund_payment_view(ctx.books, _refund_payment(ctx, refund)))


@handles("delete_refund_payment")
def delete_refund_payment(ctx: Context) -> Reply:
    books = ctx.books
    refund = _refund(ctx)
    payment = _refund_payment(ctx, refund)
    refund.payment_ids.remove(payment.id)
    refund.paid -= payment.amount
    refund.updated_at = ctx.now
    if payment.payout_id and payment.payout_id in books.payouts:
        books.payouts[payment.payout_id].refund_payment_ids.remove(payment.id)
    books.ledger.unpost_source("refund_payment", payment.id)
    books.forget_external("refund_payment", payment.external_id)
    del books.refund_payments[payment.id]
    return Reply(200)
