"""A vendor refund's status and ledger entries: the refund lowers expense against a receivable
from the vendor, each refund payment moves that receivable into the bank.
"""

from __future__ import annotations

from .ledger import CODES, Posting
from .state import Books, VendorRefund, VendorRefundPayment


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


def post_vendor_refund(books: Books, refund: VendorRefund) -> None:
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


def post_vendor_refund_payment(books: Books, payment: VendorRefundPayment) -> None:
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
