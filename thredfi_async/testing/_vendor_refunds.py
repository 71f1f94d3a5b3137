"""Vendor refunds (money a vendor returns) and the payments that bring it in.

A vendor refund lowers expenses and becomes a receivable from the vendor; each refund payment
moves that receivable into the bank. Allocations say what the refund relates to: ``bill`` (needs
``bill_id``), ``payment`` (a bill payment, needs ``bill_payment_id``) or ``credit``; they are
links, the bills' balances are not changed by them. Status: ``pending`` (nothing allocated),
``partially_allocated``, ``allocated``, ``completed`` once completed payments cover the total,
``cancelled`` after a (soft) delete.

``create_vendor_refund_payment`` creates the refund, its payment and the allocations at once and
answers all three; cancelling the payment removes the allocations created with it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ._context import (
    Context,
    Reply,
    check_currency,
    get_or_404,
    handles,
    iso,
    iso_date,
    make_documents,
    parse_date,
    set_texts,
    text,
)
from ._errors import ApiError, field_error
from ._filters import Filters, joined
from ._ledger import CODES, Posting
from ._money import major
from ._pagination import paginate
from ._parties import party_reference
from ._payables import find_vendor
from ._state import Books, Vendor, VendorRefund, VendorRefundAllocation, VendorRefundPayment
from ._status import (
    apply_state_patch,
    cancel,
    cancelled_reply,
    require_failure_reason,
)

__all__ = ["vendor_refund_payment_view", "vendor_refund_view"]


def refund_status(books: Books, refund: VendorRefund) -> str:
    if refund.deleted_at is not None:
        return "cancelled"
    received = sum(
        books.vendor_refund_payments[pid].amount
        for pid in refund.payment_ids
        if books.vendor_refund_payments[pid].status == "completed"
    )
    if refund.total and received >= refund.total:
        return "completed"
    allocated = refund.allocated
    if allocated >= refund.total:
        return "allocated"
    return "partially_allocated" if allocated else "pending"


def allocation_view(books: Books, allocation: VendorRefundAllocation) -> dict[str, Any]:
    bill = books.bills.get(allocation.bill_id) if allocation.bill_id else None
    if allocation.allocation_type == "bill" and bill is not None:
        target = f"Bill {bill.bill_number or bill.id[:8]}"
    elif allocation.allocation_type == "payment":
        target = f"Bill payment {allocation.bill_payment_id}"
    else:
        target = "Vendor credit balance"
    return {
        "id": allocation.id,
        "allocation_type": allocation.allocation_type,
        "amount": major(allocation.amount, books.currency),
        "bill_id": allocation.bill_id,
        "bill_number": bill.bill_number if bill else None,
        "bill_outstanding_balance_cents": bill.outstanding if bill else None,
        "bill_payment_id": allocation.bill_payment_id,
        "created_at": iso(allocation.created_at),
        "updated_at": iso(allocation.created_at),
        "target_description": target,
        "allocation_date": iso(allocation.created_at),
        "description": allocation.description,
        "metadata": allocation.metadata,
    }


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


def vendor_refund_view(books: Books, refund: VendorRefund) -> dict[str, Any]:
    vendor = books.vendors[refund.vendor_id]
    currency = refund.currency
    allocated = refund.allocated
    payments = [books.vendor_refund_payments[pid] for pid in refund.payment_ids]
    return {
        "id": refund.id,
        "vendor_id": vendor.id,
        "vendor_name": vendor.display_name,
        "vendor": party_reference(vendor),
        "total_refunded_amount": major(refund.total, currency),
        "total_refunded_amount_cents": refund.total,
        "allocated_amount": major(allocated, currency),
        "allocated_amount_cents": allocated,
        "unallocated_amount": major(refund.total - allocated, currency),
        "unallocated_amount_cents": refund.total - allocated,
        "is_fully_allocated": allocated >= refund.total,
        "allocations": [allocation_view(books, a) for a in refund.allocations],
        "vendor_refund_payments": [
            {
                "id": p.id,
                "vendor_refund_id": refund.id,
                "refunded_amount": major(p.amount, currency),
                "processing_fee": major(p.fee, currency),
                "net_amount": major(p.amount - p.fee, currency),
                "status": p.status,
                "reconciled_bank_transactions": [],
            }
            for p in payments
        ],
        "status": refund_status(books, refund),
        "refund_type": refund.refund_type,
        "currency": currency,
        "refund_date": iso_date(refund.refund_date),
        "reference_number": refund.reference_number,
        "external_id": refund.external_id,
        "description": refund.description,
        "memo": refund.memo,
        "reason": refund.reason,
        "metadata": refund.metadata,
        "expected_completion_date": refund.expected_completion_date,
        "documents": refund.documents,
        "deleted_at": iso(refund.deleted_at),
        "created_at": iso(refund.created_at),
        "updated_at": iso(refund.updated_at),
    }


def _allocations(
    ctx: Context,
    books: Books,
    vendor: Vendor,
    requested: Any,
    total: int,
    *,
    payment_id: str | None = None,
) -> list[VendorRefundAllocation]:
    result = []
    for index, item in enumerate(requested or []):
        prefix = f"allocations.{index}"
        kind = str(item.get("allocation_type") or ("bill" if item.get("bill_id") else "credit"))
        amount = item.get("amount_cents")
        if not isinstance(amount, int) or amount < 1:
            raise field_error(f"{prefix}.amount_cents", "This field is required.")
        bill_id = text(item, "bill_id")
        bill_payment_id = text(item, "bill_payment_id")
        if kind == "bill":
            bill = books.bills.get(bill_id or "")
            if bill is None or bill.vendor_id != vendor.id:
                raise field_error(f"{prefix}.bill_id", "A bill of this vendor is required.")
        elif kind == "payment":
            bill_payment = books.bill_payments.get(bill_payment_id or "")
            if bill_payment is None or bill_payment.vendor_id != vendor.id:
                raise field_error(
                    f"{prefix}.bill_payment_id", "A bill payment to this vendor is required."
                )
        result.append(
            VendorRefundAllocation(
                id=ctx.new_id(),
                allocation_type=kind,
                amount=amount,
                created_at=ctx.now,
                bill_id=bill_id,
                bill_payment_id=bill_payment_id,
                description=text(item, "description"),
                metadata=item.get("metadata"),
                payment_id=payment_id,
            )
        )
    if sum(a.amount for a in result) > total:
        raise field_error("allocations", "Allocations exceed the refund total.")
    return result


def _post_refund(books: Books, refund: VendorRefund) -> None:
    """DR Vendor Refunds Receivable / CR Operating Expenses."""
    ledger = books.ledger
    if refund.deleted_at is not None:
        ledger.unpost_source("vendor_refund", refund.id)
        return
    ledger.post_source(
        "vendor_refund",
        refund.id,
        refund.refund_date,
        [
            Posting(ledger.system[CODES.VENDOR_REFUNDS_RECEIVABLE], refund.total),
            Posting(ledger.system[CODES.OPERATING_EXPENSES], -refund.total),
        ],
        description=f"Vendor refund {refund.reference_number or refund.id[:8]}",
        reference=refund.reference_number,
    )


def _post_payment(books: Books, payment: VendorRefundPayment) -> None:
    """DR Bank (net) and fees / CR Vendor Refunds Receivable."""
    ledger = books.ledger
    if payment.status == "cancelled":
        ledger.unpost_source("vendor_refund_payment", payment.id)
        return
    ledger.post_source(
        "vendor_refund_payment",
        payment.id,
        payment.payment_date,
        [
            Posting(ledger.system[CODES.BANK], payment.amount - payment.fee),
            Posting(ledger.system[CODES.PROCESSING_FEES], payment.fee),
            Posting(ledger.system[CODES.VENDOR_REFUNDS_RECEIVABLE], -payment.amount),
        ],
        description="Vendor refund payment",
        reference=payment.payment_reference,
    )


def _payment_date(ctx: Context, item: dict[str, Any]) -> date:
    """A payment's date, read before anything is stored (a bad one refuses the whole request)."""
    given = item.get("payment_date") or item.get("refund_date")
    return parse_date(given, "payment_date") or ctx.today


def _new_payment(
    ctx: Context,
    books: Books,
    refund: VendorRefund,
    item: dict[str, Any],
    amount: int,
    payment_date: date,
    payment_id: str | None = None,
) -> VendorRefundPayment:
    payment = VendorRefundPayment(
        id=payment_id or ctx.new_id(),
        refund_id=refund.id,
        vendor_id=refund.vendor_id,
        amount=amount,
        currency=refund.currency,
        payment_date=payment_date,
        created_at=ctx.now,
        updated_at=ctx.now,
        fee=int(item.get("processing_fee_cents") or 0),
        payment_method=text(item, "payment_method"),
        processor=text(item, "processor"),
        payment_reference=text(item, "payment_reference"),
        memo=text(item, "memo"),
        metadata=item.get("metadata"),
        idempotency_key=ctx.idempotency_key,
    )
    books.vendor_refund_payments[payment.id] = payment
    refund.payment_ids.append(payment.id)
    _post_payment(books, payment)
    return payment


def _new_refund(
    ctx: Context, books: Books, vendor: Vendor, body: dict[str, Any], total: int, currency: str
) -> VendorRefund:
    refund = VendorRefund(
        id=ctx.new_id(),
        vendor_id=vendor.id,
        total=total,
        currency=currency,
        refund_date=parse_date(body.get("refund_date"), "refund_date") or ctx.today,
        created_at=ctx.now,
        updated_at=ctx.now,
        refund_type=text(body, "refund_type"),
        reference_number=text(body, "reference_number"),
        external_id=text(body, "external_id"),
        description=text(body, "description"),
        memo=text(body, "memo"),
        reason=text(body, "reason"),
        metadata=body.get("metadata"),
        documents=make_documents(ctx, body.get("document") or body.get("file"), "vendor_refund"),
    )
    return refund


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
    allocations = _allocations(ctx, books, vendor, body.get("allocations"), total)
    inline = list(body.get("payments") or [])
    amounts = []
    for index, item in enumerate(inline):
        amount = item.get("refunded_amount_cents")
        if not isinstance(amount, int) or amount < 1:
            raise field_error(f"payments.{index}.refunded_amount_cents", "This field is required.")
        amounts.append(amount)
    if sum(amounts) > total:
        raise field_error("payments", "Payments exceed the refund total.")
    refund = _new_refund(ctx, books, vendor, body, total, currency)
    dates = [_payment_date(ctx, item) for item in inline]
    refund.allocations = allocations
    books.vendor_refunds[refund.id] = refund
    books.remember_external("vendor_refund", refund.external_id, refund.id)
    _post_refund(books, refund)
    for item, amount, payment_date in zip(inline, amounts, dates, strict=True):
        _new_payment(ctx, books, refund, item, amount, payment_date)
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
            _post_payment(books, payment)
    refund.deleted_at = ctx.now
    refund.updated_at = ctx.now
    books.forget_external("vendor_refund", refund.external_id)
    _post_refund(books, refund)
    return Reply(204)


# -- vendor refund payments ------------------------------------------------------------------


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
    allocations = _allocations(
        ctx, books, vendor, body.get("allocations"), total, payment_id=payment_id
    )
    refund = _new_refund(ctx, books, vendor, body, total, currency)
    payment_date = _payment_date(ctx, body)
    refund.allocations = allocations
    books.vendor_refunds[refund.id] = refund
    _post_refund(books, refund)
    payment = _new_payment(ctx, books, refund, body, total, payment_date, payment_id)
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
    _post_payment(books, payment)
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
    _post_payment(books, payment)
    books.vendor_refunds[payment.refund_id].updated_at = ctx.now
    return cancelled_reply(
        "Vendor refund payment cancelled and its allocations reversed.",
        payment,
        refund_id=payment.refund_id,
    )
