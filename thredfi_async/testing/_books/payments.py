"""Payments received (invoice payments) and made (bill payments): their allocations to documents
and their ledger entries.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any, TypeVar

from .._server.context import Context
from .._server.values import text
from .allocations import Share, allocated_cents, open_document, reallocate, requested_shares
from .ledger import CODES, Posting
from .sides import PAYABLES, RECEIVABLES, Side
from .state import (
    Allocation,
    Bill,
    BillPayment,
    Books,
    Customer,
    Invoice,
    InvoicePayment,
    TradeDocument,
    Vendor,
)
from .status import cancel

D = TypeVar("D", bound=TradeDocument)


def allocate_payment(
    books: Books,
    payment: InvoicePayment | BillPayment,
    shares: Sequence[Share[Any]],
    ctx: Context,
) -> None:
    """Apply a payment's shares (none: release them) to invoices or bills, on its payment date."""
    if isinstance(payment, InvoicePayment):
        side: Side[Any] = RECEIVABLES
        source_type = "payment"
    else:
        side, source_type = PAYABLES, "bill_payment"
    reallocate(
        books, payment, shares, ctx, side=side, source_type=source_type, on=payment.payment_date
    )


def post_payment(books: Books, payment: InvoicePayment) -> None:
    """DR Bank (net of fee) and fees / CR Accounts Receivable and, for the rest, customer credit."""
    ledger = books.ledger
    if payment.status == "cancelled":
        ledger.unpost_source("invoice_payment", payment.id)
        return
    allocated = payment.allocated
    ledger.post_source(
        "invoice_payment",
        payment.id,
        payment.payment_date,
        [
            Posting(ledger.system[CODES.BANK], payment.total - payment.fee),
            Posting(ledger.system[CODES.PROCESSING_FEES], payment.fee),
            Posting(ledger.system[CODES.RECEIVABLES], -allocated),
            Posting(ledger.system[CODES.CUSTOMER_CREDITS], -(payment.total - allocated)),
        ],
        description=f"Payment {payment.payment_reference or payment.id[:8]}",
        reference=payment.payment_reference,
    )


def create_payment_record(
    books: Books,
    ctx: Context,
    *,
    customer: Customer,
    total: int,
    shares: list[Share[Invoice]],
    payment_date: date,
    **fields: Any,
) -> InvoicePayment:
    payment = InvoicePayment(
        id=ctx.new_id(),
        customer_id=customer.id,
        total=total,
        currency=books.currency,
        payment_date=payment_date,
        created_at=ctx.now,
        updated_at=ctx.now,
        **fields,
    )
    books.invoice_payments[payment.id] = payment
    books.remember_external("invoice_payment", payment.external_id, payment.id)
    settle_payment(books, payment, shares, ctx)
    return payment


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
            Posting(ledger.system[CODES.PAYABLES], allocated),
            Posting(ledger.system[CODES.VENDOR_PREPAYMENTS], payment.amount - allocated),
            Posting(ledger.system[CODES.PROCESSING_FEES], payment.fee),
            Posting(ledger.system[CODES.BANK], -(payment.amount + payment.fee)),
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
    shares: list[Share[Bill]],
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
    settle_payment(books, payment, shares, ctx)
    return payment


def post_payment_entry(books: Books, payment: InvoicePayment | BillPayment) -> None:
    """The payment's ledger entry on its side: money in for an invoice payment, out for a bill's."""
    if isinstance(payment, InvoicePayment):
        post_payment(books, payment)
    else:
        post_bill_payment(books, payment)


def settle_payment(
    books: Books,
    payment: InvoicePayment | BillPayment,
    shares: Sequence[Share[Any]] | None,
    ctx: Context,
) -> None:
    """After a payment is created or changed: its allocations become ``shares`` (``None``: kept
    as they are; a cancelled payment holds none) and its ledger entry is posted anew."""
    if payment.status == "cancelled":
        allocate_payment(books, payment, [], ctx)
    elif shares is not None:
        allocate_payment(books, payment, shares, ctx)
    payment.updated_at = ctx.now
    post_payment_entry(books, payment)


def cancel_payment(books: Books, payment: InvoicePayment | BillPayment, ctx: Context) -> None:
    """The ``POST .../delete/`` door on either side: the documents are owed again (``cancel``
    refuses a payment that is neither pending nor failed)."""
    cancel(payment)
    settle_payment(books, payment, [], ctx)


def payment_shares(
    books: Books,
    side: Side[D],
    requested: Any,
    *,
    party_id: str,
    limit: int,
    current: Iterable[Allocation] = (),
) -> list[Share[D]]:
    """A payment's requested allocations, checked: each names an open document of the payment's
    party, in whole cents, within what it owes; together within the payment (a remainder is
    allowed, held for the party)."""

    def resolve(index: int, item: dict[str, Any]) -> Share[D]:
        document = open_document(books, side, index, item, party_id)
        return Share(document, allocated_cents(index, item), text(item, "description"))

    amount = "total" if side is RECEIVABLES else "amount"  # as each side's body names it
    return requested_shares(
        requested,
        resolve,
        current=current,
        amount_key="amount_cents",
        exceeds=f"Allocation exceeds the {side.document} outstanding amount ({{available}}).",
        limit=limit,
        too_much=f"Allocations ({{allocated}}) exceed the payment {amount} ({{limit}}).",
    )
