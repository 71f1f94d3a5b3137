"""What vendor refunds and vendor refund payments share: building a refund, its payment and its
allocations from a request, and rendering them (a refund payment answers its refund too).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from .._books.money import major
from .._books.parties import party_reference
from .._books.state import Books, Vendor, VendorRefund, VendorRefundAllocation, VendorRefundPayment
from .._books.vendor_refunds import post_vendor_refund_payment, refund_status
from .._server.context import Context, make_documents
from .._server.errors import field_error
from .._server.values import iso, iso_date, parse_date, text


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


def refund_allocations(
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
        if kind == "payment" or bill_payment_id is not None:  # a link, whatever the type
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


def refund_payment_date(ctx: Context, item: dict[str, Any]) -> date:
    """A payment's date, read before anything is stored (a bad one refuses the whole request)."""
    given = item.get("payment_date") or item.get("refund_date")
    return parse_date(given, "payment_date") or ctx.today


def new_vendor_refund_payment(
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
    post_vendor_refund_payment(books, payment)
    return payment


def new_vendor_refund(
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
