"""``thredfi.vendor_refunds``: money a vendor returns.

A vendor refund lowers expenses and becomes a receivable from the vendor. Allocations say what
it relates to: ``bill`` (needs ``bill_id``), ``payment`` (a bill payment, needs
``bill_payment_id``) or ``credit``; they are links, the bills' balances do not change. Status:
``pending`` (nothing allocated), ``partially_allocated``, ``allocated``, ``completed`` once
completed payments cover the total, ``cancelled`` after a (soft) delete.
"""

from __future__ import annotations

from .._books.parties import find_vendor
from .._books.records import check_currency, get_or_404
from .._books.state import VendorRefund
from .._books.vendor_refunds import post_vendor_refund, post_vendor_refund_payment, refund_status
from .._server.context import Context, Reply, handles, make_documents
from .._server.errors import ApiError, field_error
from .._server.filters import Filters, joined
from .._server.pagination import paginate
from .._server.values import set_texts
from ._vendor_refund_forms import (
    new_vendor_refund,
    new_vendor_refund_payment,
    refund_allocations,
    refund_payment_date,
    vendor_refund_view,
)


@handles("list_vendor_refunds")
def list_vendor_refunds(ctx: Context) -> Reply:
    books = ctx.books
    items = Filters(ctx, [r for r in books.vendor_refunds.values() if r.deleted_at is None])
    items.one_of("status", lambda r: refund_status(books, r))
    items.equal("refund_type", "vendor_id", "currency")
    items.between("refund_date_start", "refund_date_end", lambda r: r.refund_date)
    items.at_least("min_amount", lambda r: r.total)
    items.at_most("max_amount", lambda r: r.total)
    items.flag("is_fully_allocated", lambda r: r.allocated >= r.total)
    items.contains("external_id", lambda r: r.external_id or "")
    items.contains(
        "search",
        lambda r: joined(
            r.reference_number,
            r.external_id,
            r.description,
            books.vendors[r.vendor_id].display_name,
        ),
    )
    listed = items.items
    ordering = str(ctx.filter("ordering") or "-refund_date,-created_at")
    for key in reversed([k.strip() for k in ordering.split(",") if k.strip()]):
        field = key.lstrip("-")
        sort_keys = {
            "refund_date": lambda r: r.refund_date,
            "created_at": lambda r: r.created_at,
            "total_refunded_amount_cents": lambda r: r.total,
            "status": lambda r: refund_status(books, r),
            "vendor__company_name": lambda r: books.vendors[r.vendor_id].display_name,
        }
        if field in sort_keys:
            listed.sort(key=sort_keys[field], reverse=key.startswith("-"))
    return Reply(200, paginate(ctx, listed, lambda r: vendor_refund_view(books, r)))


@handles("create_vendor_refund")
def create_vendor_refund(ctx: Context) -> Reply:
    books = ctx.books
    body = ctx.body
    existing = books.find_external("vendor_refund", body.get("external_id"))
    if existing is not None:
        return Reply(200, vendor_refund_view(books, books.vendor_refunds[existing]))
    vendor = find_vendor(books, body.get("vendor_id"), None)
    currency = check_currency(books, body.get("currency"))
    total = int(body["total_refunded_amount_cents"])
    allocations = refund_allocations(ctx, books, vendor, body.get("allocations"), total)
    inline = list(body.get("payments") or [])
    amounts = []
    for index, item in enumerate(inline):
        amount = item.get("refunded_amount_cents")
        if not isinstance(amount, int) or amount < 1:
            raise field_error(f"payments.{index}.refunded_amount_cents", "This field is required.")
        amounts.append(amount)
    if sum(amounts) > total:
        raise field_error("payments", "Payments exceed the refund total.")
    refund = new_vendor_refund(ctx, books, vendor, body, total, currency)
    dates = [refund_payment_date(ctx, item) for item in inline]
    refund.allocations = allocations
    books.vendor_refunds[refund.id] = refund
    books.remember_external("vendor_refund", refund.external_id, refund.id)
    post_vendor_refund(books, refund)
    for item, amount, payment_date in zip(inline, amounts, dates, strict=True):
        new_vendor_refund_payment(ctx, books, refund, item, amount, payment_date)
    return Reply(201, vendor_refund_view(books, refund))


def _vendor_refund(ctx: Context) -> VendorRefund:
    return get_or_404(ctx.books.vendor_refunds, ctx.param("refund_id"), "vendor_refund")


@handles("get_vendor_refund")
def get_vendor_refund(ctx: Context) -> Reply:
    return Reply(200, vendor_refund_view(ctx.books, _vendor_refund(ctx)))


@handles("update_vendor_refund")
def update_vendor_refund(ctx: Context) -> Reply:
    refund = _vendor_refund(ctx)
    body = ctx.body
    set_texts(refund, body, ("description", "memo", "reason", "expected_completion_date"))
    if "metadata" in body:
        refund.metadata = body["metadata"]
    if body.get("document"):
        refund.documents.extend(make_documents(ctx, body["document"], "vendor_refund"))
    refund.updated_at = ctx.now
    return Reply(200, vendor_refund_view(ctx.books, refund))


@handles("delete_vendor_refund")
def delete_vendor_refund(ctx: Context) -> Reply:
    books = ctx.books
    refund = _vendor_refund(ctx)
    payments = [books.vendor_refund_payments[pid] for pid in refund.payment_ids]
    if any(p.status in ("completed", "processing") for p in payments):
        raise ApiError(
            400,
            "vendor_refund_has_payments",
            "A vendor refund with processing or completed payments cannot be deleted.",
            detail={"payment_ids": [p.id for p in payments]},
        )
    for payment in payments:
        if payment.status != "cancelled":
            payment.status = "cancelled"
            payment.updated_at = ctx.now
            post_vendor_refund_payment(books, payment)
    refund.deleted_at = ctx.now
    refund.updated_at = ctx.now
    books.forget_external("vendor_refund", refund.external_id)
    post_vendor_refund(books, refund)
    return Reply(204)
