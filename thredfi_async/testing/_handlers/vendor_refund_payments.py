"""``thredfi.vendor_refund_payments``: the payments that bring a vendor refund into the bank.

Creating one creates the refund, its payment and the allocations at once and answers all three;
cancelling the payment removes the allocations created with it.
"""

from __future__ import annotations

from typing import Any

from .._books.parties import find_vendor
from .._books.records import check_currency, get_or_404
from .._books.state import Books, VendorRefundPayment
from .._books.status import apply_state_patch, cancel, require_failure_reason
from .._books.vendor_refunds import post_vendor_refund, post_vendor_refund_payment
from .._server.context import Context, Reply, handles
from .._server.filters import Filters
from .._server.pagination import paginate
from .._server.values import iso, iso_date, text
from ._vendor_refund_forms import (
    allocation_view,
    new_vendor_refund,
    new_vendor_refund_payment,
    refund_allocations,
    refund_payment_date,
    vendor_refund_view,
)
from ._views import cancelled_reply


def vendor_refund_payment_view(books: Books, payment: VendorRefundPayment) -> dict[str, Any]:
    vendor = books.vendors[payment.vendor_id]
    return {
        "id": payment.id,
        "refund_id": payment.refund_id,
        "vendor_id": vendor.id,
        "vendor_name": vendor.display_name,
        "payment_reference": payment.payment_reference,
        "payment_method": payment.payment_method,
        "processor": payment.processor,
        "refunded_amount_cents": payment.amount,
        "processing_fee_cents": payment.fee,
        "net_amount_cents": payment.amount - payment.fee,
        "currency": payment.currency,
        "status": payment.status,
        "payment_date": iso_date(payment.payment_date),
        "submitted_at": iso(payment.submitted_at),
        "completed_at": iso(payment.completed_at),
        "failed_at": iso(payment.failed_at),
        "failure_reason": payment.failure_reason,
        "reconciled_bank_transactions": [],
        "created_at": iso(payment.created_at),
        "updated_at": iso(payment.updated_at),
    }


def _triple(books: Books, payment: VendorRefundPayment) -> dict[str, Any]:
    refund = books.vendor_refunds[payment.refund_id]
    created_with = [a for a in refund.allocations if a.payment_id == payment.id]
    return {
        "refund": vendor_refund_view(books, refund),
        "payment": vendor_refund_payment_view(books, payment),
        "allocations": [allocation_view(books, a) for a in created_with],
    }


@handles("list_vendor_refund_payments")
def list_vendor_refund_payments(ctx: Context) -> Reply:
    books = ctx.books
    items = Filters(ctx, books.vendor_refund_payments.values())
    items.equal("status", "payment_method", "refund_id")
    items.between("payment_date_start", "payment_date_end", lambda p: p.payment_date)
    items.contains("search", lambda p: p.payment_reference or "")
    return Reply(200, paginate(ctx, items.items, lambda p: vendor_refund_payment_view(books, p)))


@handles("create_vendor_refund_payment")
def create_vendor_refund_payment(ctx: Context) -> Reply:
    books = ctx.books
    body = ctx.body
    existing = books.find_external("vendor_refund_payment", body.get("external_id"))
    if existing is not None:
        return Reply(200, _triple(books, books.vendor_refund_payments[existing]))
    vendor = find_vendor(books, body.get("vendor_id"), None)
    currency = check_currency(books, body.get("currency"))
    total = int(body["total_amount_cents"])
    payment_id = ctx.new_id()
    allocations = refund_allocations(
        ctx, books, vendor, body.get("allocations"), total, payment_id=payment_id
    )
    refund = new_vendor_refund(ctx, books, vendor, body, total, currency)
    payment_date = refund_payment_date(ctx, body)
    refund.allocations = allocations
    books.vendor_refunds[refund.id] = refund
    post_vendor_refund(books, refund)
    payment = new_vendor_refund_payment(ctx, books, refund, body, total, payment_date, payment_id)
    payment.external_id = text(body, "external_id")
    books.remember_external("vendor_refund_payment", payment.external_id, payment.id)
    return Reply(201, _triple(books, payment))


def _vendor_refund_payment(ctx: Context) -> VendorRefundPayment:
    return get_or_404(
        ctx.books.vendor_refund_payments,
        ctx.param("vendor_refund_payment_id"),
        "vendor_refund_payment",
    )


@handles("get_vendor_refund_payment")
def get_vendor_refund_payment(ctx: Context) -> Reply:
    return Reply(200, _triple(ctx.books, _vendor_refund_payment(ctx)))


@handles("update_vendor_refund_payment")
def update_vendor_refund_payment(ctx: Context) -> Reply:
    books = ctx.books
    body = ctx.body
    payment = _vendor_refund_payment(ctx)
    require_failure_reason(payment, body)
    apply_state_patch(payment, body, ctx.now, ())
    if payment.status == "cancelled":
        _drop_allocations(books, payment)
    payment.updated_at = ctx.now
    post_vendor_refund_payment(books, payment)
    return Reply(200, _triple(books, payment))


def _drop_allocations(books: Books, payment: VendorRefundPayment) -> None:
    refund = books.vendor_refunds[payment.refund_id]
    refund.allocations = [a for a in refund.allocations if a.payment_id != payment.id]


@handles("delete_vendor_refund_payment")
def delete_vendor_refund_payment(ctx: Context) -> Reply:
    """Cancel a pending or failed payment with the allocations made with it; the refund stays."""
    books = ctx.books
    payment = _vendor_refund_payment(ctx)
    cancel(payment)
    payment.updated_at = ctx.now
    _drop_allocations(books, payment)
    post_vendor_refund_payment(books, payment)
    books.vendor_refunds[payment.refund_id].updated_at = ctx.now
    return cancelled_reply(
        "Vendor refund payment cancelled and its allocations reversed.",
        payment,
        refund_id=payment.refund_id,
    )
