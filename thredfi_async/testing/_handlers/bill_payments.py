"""``thredfi.bill_payments``: money paid to a vendor, created with its bill allocations.

A payment starts ``pending`` and follows the payment state machine (``_books.status``);
``failed`` needs a ``failure_reason``. An unallocated remainder is booked as a vendor
prepayment. Cancelling reverses the allocations and the ledger entry.
"""

from __future__ import annotations

from typing import Any

from .._books.parties import find_vendor
from .._books.payments import (
    cancel_payment,
    create_bill_payment_record,
    payment_shares,
    settle_payment,
)
from .._books.records import check_currency, get_or_404, refuse_duplicate
from .._books.sides import PAYABLES
from .._books.state import BillPayment, Books
from .._books.status import apply_state_patch, require_failure_reason
from .._server.context import Context, Reply, handles
from .._server.errors import field_error
from .._server.filters import Filters, joined
from .._server.pagination import paginate
from .._server.values import iso, iso_date, parse_date, text
from ._views import cancelled_reply

# The list page shows a lighter row than the detail: these keys, nothing else.
_ROW_KEYS = (
    "id",
    "vendor_id",
    "vendor_name",
    "payment_reference",
    "payment_date",
    "amount_cents",
    "currency",
    "payment_method",
    "status",
    "allocated_amount_cents",
    "unallocated_amount_cents",
    "is_fully_allocated",
    "allocations",
    "reconciled_bank_transactions",
    "created_at",
    "updated_at",
)


def bill_payment_view(books: Books, payment: BillPayment) -> dict[str, Any]:
    vendor = books.vendors[payment.vendor_id]
    allocated = payment.allocated
    refund_allocations = [
        {
            "vendor_refund_id": refund.id,
            "amount_cents": allocation.amount,
            "allocated_at": iso(allocation.created_at),
            "reference_number": refund.reference_number,
        }
        for refund in books.vendor_refunds.values()
        if refund.deleted_at is None
        for allocation in refund.allocations
        if allocation.bill_payment_id == payment.id
    ]
    return {
        "id": payment.id,
        "business_id": books.id,
        "vendor_id": vendor.id,
        "vendor_name": vendor.display_name,
        "payment_reference": payment.payment_reference,
        "external_id": payment.external_id,
        "processor_payment_id": None,
        "check_number": payment.check_number,
        "amount_cents": payment.amount,
        "currency": payment.currency,
        "processing_fee_cents": payment.fee,
        "net_amount_cents": payment.amount - payment.fee,
        "allocated_amount_cents": allocated,
        "unallocated_amount_cents": payment.amount - allocated,
        "is_fully_allocated": allocated >= payment.amount,
        "payment_method": payment.payment_method,
        "status": payment.status,
        "payment_date": iso_date(payment.payment_date),
        "value_date": iso_date(payment.payment_date),
        "submitted_at": iso(payment.submitted_at),
        "completed_at": iso(payment.completed_at),
        "failed_at": iso(payment.failed_at),
        "description": payment.description,
        "memo": payment.memo,
        "failure_reason": payment.failure_reason,
        "metadata": payment.metadata,
        "allocations": [
            {
                "id": a.id,
                "bill_id": a.target_id,
                "bill_number": books.bills[a.target_id].bill_number,
                "vendor_bill_number": books.bills[a.target_id].vendor_bill_number,
                "bill_status": books.bills[a.target_id].status,
                "amount_cents": a.amount,
                "allocation_date": iso(a.at),
                "created_at": iso(a.at),
                "description": a.description,
            }
            for a in payment.allocations
        ],
        "vendor_refund_allocations": refund_allocations,
        "reconciled_bank_transactions": [],
        "created_at": iso(payment.created_at),
        "updated_at": iso(payment.updated_at),
    }


def bill_payment_row(books: Books, payment: BillPayment) -> dict[str, Any]:
    view = bill_payment_view(books, payment)
    return {key: view[key] for key in _ROW_KEYS}


@handles("list_bill_payments")
def list_bill_payments(ctx: Context) -> Reply:
    books = ctx.books
    items = Filters(ctx, books.bill_payments.values())
    items.equal("status", "payment_method", "vendor_id")
    items.sent("bill_id", lambda bill_id, p: any(a.target_id == bill_id for a in p.allocations))
    items.between("payment_date_start", "payment_date_end", lambda p: p.payment_date)
    items.contains("search", lambda p: joined(p.payment_reference, p.check_number))
    return Reply(200, paginate(ctx, items.items, lambda p: bill_payment_row(books, p)))


@handles("create_bill_payment")
def create_bill_payment(ctx: Context) -> Reply:
    books = ctx.books
    body = ctx.body
    refuse_duplicate(books, "bill_payment", body.get("external_id"))
    vendor = find_vendor(books, body.get("vendor_id"), None)
    currency = check_currency(books, body.get("currency"))
    if body.get("payment_method") == "check" and not body.get("check_number"):
        raise field_error("check_number", "A check number is required for check payments.")
    amount = int(body["amount_cents"])
    fee = int(body.get("processing_fee_cents") or 0)
    shares = payment_shares(
        books, PAYABLES, body.get("allocations"), party_id=vendor.id, limit=amount
    )
    payment = create_bill_payment_record(
        books,
        ctx,
        vendor=vendor,
        amount=amount,
        shares=shares,
        payment_method=str(body["payment_method"]),
        payment_date=parse_date(body["payment_date"], "payment_date") or ctx.today,
        fee=fee,
        payment_reference=text(body, "payment_reference"),
        check_number=text(body, "check_number"),
        description=text(body, "description"),
        memo=text(body, "memo"),
        external_id=text(body, "external_id"),
        metadata=body.get("metadata"),
        idempotency_key=ctx.idempotency_key,
    )
    payment.currency = currency
    return Reply(201, bill_payment_view(books, payment))


def _bill_payment(ctx: Context) -> BillPayment:
    return get_or_404(ctx.books.bill_payments, ctx.param("bill_payment_id"), "bill_payment")


@handles("get_bill_payment")
def get_bill_payment(ctx: Context) -> Reply:
    return Reply(200, bill_payment_view(ctx.books, _bill_payment(ctx)))


@handles("update_bill_payment")
def update_bill_payment(ctx: Context) -> Reply:
    """The documented state machine (``_books.status``); allocations change until completion."""
    books = ctx.books
    body = ctx.body
    payment = _bill_payment(ctx)
    require_failure_reason(payment, body)
    vendor = books.vendors[payment.vendor_id]
    fee = int(body.get("processing_fee_cents", payment.fee))
    shares = None
    if "allocations" in body:
        if payment.status not in ("pending", "processing"):
            raise field_error(
                "allocations", f"Allocations of a {payment.status} payment are final."
            )
        shares = payment_shares(
            books,
            PAYABLES,
            body["allocations"],
            party_id=vendor.id,
            limit=payment.amount,
            current=payment.allocations,
        )
    apply_state_patch(payment, body, ctx.now, ("check_number", "description"))
    payment.fee = fee
    settle_payment(books, payment, shares, ctx)
    return Reply(200, bill_payment_view(books, payment))


@handles("delete_bill_payment")
def delete_bill_payment(ctx: Context) -> Reply:
    """Cancel a pending or failed payment: its bills are owed again, its ledger entry goes."""
    books = ctx.books
    payment = _bill_payment(ctx)
    cancel_payment(books, payment, ctx)
    return cancelled_reply("Bill payment cancelled and its allocations reversed.", payment)
