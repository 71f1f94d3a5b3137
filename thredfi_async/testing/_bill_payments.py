"""Bill payments: money paid to a vendor, created together with its bill allocations.

A payment starts ``pending`` and follows the documented state machine (FACTS 3.11); ``failed``
needs a ``failure_reason``. An unallocated remainder is allowed and is booked as a vendor
prepayment. Cancelling reverses the allocations and the ledger entry.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._context import Context, Reply, get_or_404, handles, iso, iso_date, parse_date, text
from ._errors import conflict, field_error
from ._ledger import CODES, Posting
from ._pagination import paginate
from ._payables import apply_to_bill, find_vendor, unapply_from_bill
from ._state import Allocation, Bill, BillPayment, Books, Vendor
from ._status import (
    BILL_PAYMENT_TRANSITIONS,
    CANCELLABLE,
    check_currency,
    move_status,
    refuse_cancel,
)

__all__ = ["bill_payment_view", "create_bill_payment_record"]


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
        "idempotency_key": payment.idempotency_key,
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


def _requested(
    books: Books,
    requested: Any,
    *,
    vendor: Vendor,
    amount: int,
    current: Iterable[Allocation] = (),
) -> list[tuple[Bill, int, str | None]]:
    held: dict[str, int] = {}
    for allocation in current:
        held[allocation.target_id] = held.get(allocation.target_id, 0) + allocation.amount
    wanted: dict[str, int] = {}
    result: list[tuple[Bill, int, str | None]] = []
    for index, item in enumerate(requested or []):
        bill = books.bills.get(str(item.get("bill_id")))
        share = item.get("amount_cents")
        if bill is None:
            raise field_error(
                f"allocations.{index}.bill_id", f'Bill "{item.get("bill_id")}" does not exist.'
            )
        if not isinstance(share, int) or isinstance(share, bool) or share < 1:
            raise field_error(
                f"allocations.{index}.amount_cents",
                "Ensure this value is greater than or equal to 1.",
            )
        if bill.vendor_id != vendor.id:
            raise field_error(f"allocations.{index}.bill_id", "The bill belongs to another vendor.")
        if bill.voided_at is not None:
            raise field_error(f"allocations.{index}.bill_id", "The bill is voided.")
        wanted[bill.id] = wanted.get(bill.id, 0) + share
        available = bill.outstanding + held.get(bill.id, 0)
        if wanted[bill.id] > available:
            raise field_error(
                f"allocations.{index}.amount_cents",
                f"Allocation exceeds the bill outstanding amount ({available}).",
            )
        result.append((bill, share, text(item, "description")))
    total = sum(share for _, share, _ in result)
    if total > amount:
        raise field_error(
            "allocations", f"Allocations ({total}) exceed the payment amount ({amount})."
        )
    return result


def _allocate(
    books: Books,
    payment: BillPayment,
    triples: list[tuple[Bill, int, str | None]],
    ctx: Context,
) -> None:
    for allocation in payment.allocations:
        unapply_from_bill(books, books.bills[allocation.target_id], allocation.id, ctx.now)
    payment.allocations = []
    for bill, amount, description in triples:
        allocation = Allocation(
            id=ctx.new_id(), target_id=bill.id, amount=amount, at=ctx.now, description=description
        )
        payment.allocations.append(allocation)
        apply_to_bill(
            books,
            bill,
            source="bill_payment",
            source_id=payment.id,
            allocation_id=allocation.id,
            amount=amount,
            on=payment.payment_date,
            now=ctx.now,
        )


def post_bill_payment(books: Books, payment: BillPayment) -> None:
    """DR Accounts Payable (and prepayments for the rest) and fees / CR Bank."""
    ledger = books.ledger
    if payment.status == "cancelled":
        ledger.unpost_source("bill_payment", payment.id)
        return
    allocated = payment.allocated
    ledger.post_source(
        "bill_payment",
        payment.id,
        payment.payment_date,
        [
            Posting(ledger.by_code[CODES.PAYABLES], allocated),
            Posting(ledger.by_code[CODES.VENDOR_PREPAYMENTS], payment.amount - allocated),
            Posting(ledger.by_code[CODES.PROCESSING_FEES], payment.fee),
            Posting(ledger.by_code[CODES.BANK], -(payment.amount + payment.fee)),
        ],
        description=f"Bill payment {payment.payment_reference or payment.id[:8]}",
        reference=payment.payment_reference,
    )


def create_bill_payment_record(
    books: Books,
    ctx: Context,
    *,
    vendor: Vendor,
    amount: int,
    triples: list[tuple[Bill, int, str | None]],
    **fields: Any,
) -> BillPayment:
    payment = BillPayment(
        id=ctx.new_id(),
        vendor_id=vendor.id,
        amount=amount,
        currency=books.currency,
        created_at=ctx.now,
        updated_at=ctx.now,
        **fields,
    )
    books.bill_payments[payment.id] = payment
    books.remember_external("bill_payment", payment.external_id, payment.id)
    _allocate(books, payment, triples, ctx)
    post_bill_payment(books, payment)
    return payment


@handles("list_bill_payments")
def list_bill_payments(ctx: Context) -> Reply:
    books = ctx.books
    items: list[BillPayment] = list(books.bill_payments.values())
    for key, attr in (
        ("status", "status"),
        ("payment_method", "payment_method"),
        ("vendor_id", "vendor_id"),
    ):
        wanted = ctx.filter(key)
        if wanted:
            items = [p for p in items if getattr(p, attr) == wanted]
    bill_id = ctx.filter("bill_id")
    if bill_id:
        items = [p for p in items if any(a.target_id == bill_id for a in p.allocations)]
    start = parse_date(ctx.filter("payment_date_start"), "payment_date_start")
    if start is not None:
        items = [p for p in items if p.payment_date >= start]
    end = parse_date(ctx.filter("payment_date_end"), "payment_date_end")
    if end is not None:
        items = [p for p in items if p.payment_date <= end]
    search = ctx.filter("search")
    if search:
        needle = str(search).lower()
        items = [
            p
            for p in items
            if needle in f"{p.payment_reference or ''} {p.check_number or ''}".lower()
        ]
    return Reply(200, paginate(ctx, items, lambda p: bill_payment_view(books, p)))


@handles("create_bill_payment")
def create_bill_payment(ctx: Context) -> Reply:
    books = ctx.books
    body = ctx.body
    existing = books.find_external("bill_payment", body.get("external_id"))
    if existing is not None:
        raise conflict(
            "duplicate_external_id",
            f'A bill payment with external_id "{body["external_id"]}" already exists.',
            existing_id=existing,
        )
    vendor = find_vendor(books, body.get("vendor_id"), None)
    currency = check_currency(books, body.get("currency"))
    if body.get("payment_method") == "check" and not body.get("check_number"):
        raise field_error("check_number", "A check number is required for check payments.")
    amount = int(body["amount_cents"])
    fee = int(body.get("processing_fee_cents") or 0)
    triples = _requested(books, body.get("allocations"), vendor=vendor, amount=amount)
    payment = create_bill_payment_record(
        books,
        ctx,
        vendor=vendor,
        amount=amount,
        triples=triples,
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


@handles("get_bill_payment")
def get_bill_payment(ctx: Context) -> Reply:
    payment = get_or_404(ctx.books.bill_payments, ctx.param("bill_payment_id"), "bill_payment")
    return Reply(200, bill_payment_view(ctx.books, payment))


@handles("update_bill_payment")
def update_bill_payment(ctx: Context) -> Reply:
    books = ctx.books
    body = ctx.body
    payment: BillPayment = get_or_404(
        books.bill_payments, ctx.param("bill_payment_id"), "bill_payment"
    )
    new_status = body.get("status")
    if new_status == "failed" and not (body.get("failure_reason") or payment.failure_reason):
        raise field_error("failure_reason", "A failure reason is required when a payment fails.")
    vendor = books.vendors[payment.vendor_id]
    fee = int(body.get("processing_fee_cents", payment.fee))
    triples = None
    if "allocations" in body:
        if payment.status not in ("pending", "processing"):
            raise field_error(
                "allocations", f"Allocations of a {payment.status} payment are final."
            )
        triples = _requested(
            books,
            body["allocations"],
            vendor=vendor,
            amount=payment.amount,
            current=payment.allocations,
        )
    if new_status:
        move_status(payment, str(new_status), BILL_PAYMENT_TRANSITIONS, ctx.now)
    payment.fee = fee
    for key in ("failure_reason", "payment_reference", "check_number", "description", "memo"):
        if key in body:
            setattr(payment, key, text(body, key))
    if "metadata" in body:
        payment.metadata = body["metadata"]
    if payment.status == "cancelled":
        _allocate(books, payment, [], ctx)
    elif triples is not None:
        _allocate(books, payment, triples, ctx)
    payment.updated_at = ctx.now
    post_bill_payment(books, payment)
    return Reply(200, bill_payment_view(books, payment))


@handles("delete_bill_payment")
def delete_bill_payment(ctx: Context) -> Reply:
    books = ctx.books
    payment: BillPayment = get_or_404(
        books.bill_payments, ctx.param("bill_payment_id"), "bill_payment"
    )
    if payment.status not in CANCELLABLE:
        raise refuse_cancel(payment.status)
    payment.status = "cancelled"
    _allocate(books, payment, [], ctx)
    payment.updated_at = ctx.now
    post_bill_payment(books, payment)
    return Reply(
        200,
        {
            "message": "Bill payment cancelled and its allocations reversed.",
            "payment_id": payment.id,
            "status": payment.status,
            "updated_at": iso(payment.updated_at),
        },
    )
