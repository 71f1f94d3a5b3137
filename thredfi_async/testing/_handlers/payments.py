"""``thredfi.payments``: invoice payments, money received from a customer.

A payment starts ``pending`` (it waits for bank reconciliation) and its allocations take effect
at once: each allocated invoice's outstanding amount falls and its status moves to
``PARTIALLY_PAID`` or ``PAID``. Cancelling reverses the allocations; a completed payment cannot
be cancelled (its money comes back through refunds).
"""

from __future__ import annotations

from typing import Any

from .._books.allocations import Share
from .._books.money import format_money
from .._books.parties import find_customer
from .._books.payments import cancel_payment, create_payment_record, payment_shares, settle_payment
from .._books.records import change_external_id, check_currency, get_or_404
from .._books.sides import RECEIVABLES
from .._books.state import Books, InvoicePayment
from .._books.status import PAYMENT_TRANSITIONS, check_transition, move_status
from .._server.context import Context, Reply, handles
from .._server.errors import ApiError, field_error
from .._server.filters import Filters, joined
from .._server.pagination import paginate
from .._server.values import iso, iso_date, parse_date, parse_datetime, set_texts, start_of, text
from ._views import cancelled_reply


def payment_detail_view(books: Books, payment: InvoicePayment) -> dict[str, Any]:
    allocated = payment.allocated
    applied: dict[str, int] = {}
    for allocation in payment.allocations:
        applied[allocation.target_id] = applied.get(allocation.target_id, 0) + allocation.amount
    return {
        "id": payment.id,
        "business_id": books.id,
        "customer_id": payment.customer_id,
        "total_amount_cents": payment.total,
        "applied_amount_cents": allocated,
        "allocated_amount_cents": allocated,
        "unapplied_amount_cents": payment.total - allocated,
        "remaining_amount_cents": payment.total - allocated,
        "processing_fee_cents": payment.fee,
        "net_amount_cents": payment.total - payment.fee,
        "currency": payment.currency,
        "status": payment.status,
        "payment_method": payment.payment_method,
        "payment_date": iso_date(payment.payment_date),
        "payment_reference": payment.payment_reference,
        "external_id": payment.external_id,
        "note": payment.note,
        "bank_reference": payment.bank_reference,
        "metadata": payment.metadata,
        "idempotency_key": payment.idempotency_key,
        "created_at": iso(payment.created_at),
        "updated_at": iso(payment.updated_at),
        "applied_invoices": [
            {
                "id": invoice_id,
                "invoice_number": books.invoices[invoice_id].invoice_number,
                "applied_amount_cents": amount,
                "status": books.invoices[invoice_id].status,
                "outstanding_amount_cents": books.invoices[invoice_id].outstanding,
            }
            for invoice_id, amount in applied.items()
        ],
    }


def payment_list_view(books: Books, payment: InvoicePayment) -> dict[str, Any]:
    customer = books.customers[payment.customer_id]
    allocated = payment.allocated
    return {
        "id": payment.id,
        "customer": {
            "id": customer.id,
            "name": customer.display_name,
            "email": customer.data.get("email"),
            "company_name": customer.data.get("company_name"),
        },
        "customer_name": customer.display_name,
        "customer_email": customer.data.get("email"),
        "payment_method": payment.payment_method,
        "payment_date": iso_date(payment.payment_date),
        "payment_reference": payment.payment_reference,
        "external_id": payment.external_id,
        "total_amount": payment.total,
        "total_amount_cents": payment.total,
        "allocated_amount": allocated,
        "allocated_amount_cents": allocated,
        "unallocated_amount": payment.total - allocated,
        "net_amount": payment.total - payment.fee,
        "processing_fee": payment.fee,
        "processing_fee_cents": payment.fee,
        "display_amount": format_money(payment.total, payment.currency),
        "is_fully_allocated": allocated >= payment.total,
        "is_completed": payment.status == "completed",
        "processed_at": iso(payment.processed_at),
        "failed_at": iso(payment.failed_at),
        "created_at": iso(payment.created_at),
        "updated_at": iso(payment.updated_at),
        "allocations": [
            {
                "id": a.id,
                "invoice_id": a.target_id,
                "invoice_number": books.invoices[a.target_id].invoice_number,
                "invoice_status": books.invoices[a.target_id].status,
                "amount": a.amount,
                "allocated_at": iso(a.at),
                "transaction_tags": a.transaction_tags,
                "notes": a.notes,
            }
            for a in payment.allocations
        ],
        "refund_allocations": [],
        "reconciled_bank_transactions": [],
        "currency": payment.currency,
        "status": payment.status,
    }


@handles("list_invoice_payments")
def list_invoice_payments(ctx: Context) -> Reply:
    books = ctx.books
    items = Filters(ctx, books.invoice_payments.values())
    items.one_of("customer_id", lambda p: p.customer_id)
    date_from = parse_datetime(ctx.filter("date_from"), "date_from")
    if date_from is not None:
        items.keep(lambda p: start_of(p.payment_date) >= date_from.replace(hour=0))
    date_to = parse_datetime(ctx.filter("date_to"), "date_to")
    if date_to is not None:
        items.keep(lambda p: start_of(p.payment_date) <= date_to)
    items.flag("fully_allocated", lambda p: p.allocated >= p.total)
    items.sent(
        "invoice_id", lambda invoice_id, p: any(a.target_id == invoice_id for a in p.allocations)
    )
    items.at_least("min_amount", lambda p: p.total)
    items.at_most("max_amount", lambda p: p.total)
    items.equal_ignoring_case("method", "payment_method")
    items.equal_ignoring_case("processor", "payment_processor")
    items.equal_ignoring_case("status", "status")
    items.contains(
        "search",
        lambda p: joined(
            p.payment_reference,
            p.note,
            p.external_id,
            books.customers[p.customer_id].display_name,
        ),
    )
    sort_by = str(ctx.filter("sort_by") or "payment_date")
    key_funcs = {
        "payment_date": lambda p: (p.payment_date, p.created_at),
        "amount": lambda p: (p.total, p.created_at),
        "created_at": lambda p: (p.created_at, p.created_at),
    }
    listed = sorted(items.items, key=key_funcs.get(sort_by, key_funcs["payment_date"]))
    if str(ctx.filter("order") or "desc") == "desc":
        listed.reverse()
    return Reply(200, paginate(ctx, listed, lambda p: payment_list_view(books, p)))


@handles("create_invoice_payment")
def create_invoice_payment(ctx: Context) -> Reply:
    books = ctx.books
    body = ctx.body
    existing = books.find_external("invoice_payment", body.get("external_id"))
    if existing is not None:
        return Reply(200, {"payment": payment_detail_view(books, books.invoice_payments[existing])})
    total = body.get("total_amount_cents")
    if total is None:
        raise field_error("total_amount_cents", "This field is required.")
    customer_id = body.get("customer_id")
    if not customer_id and body.get("allocations"):
        first = books.invoices.get(str(body["allocations"][0].get("invoice_id")))
        customer_id = first.customer_id if first else None
    customer = find_customer(books, customer_id, None)
    currency = check_currency(books, body.get("currency"))
    fee = int(body.get("processing_fee_cents") or 0)
    if fee > total:
        raise field_error("processing_fee_cents", "The fee cannot exceed the payment total.")
    shares = payment_shares(
        books, RECEIVABLES, body.get("allocations"), party_id=customer.id, limit=int(total)
    )
    payment = create_payment_record(
        books,
        ctx,
        customer=customer,
        total=int(total),
        shares=shares,
        payment_date=parse_date(body.get("payment_date"), "payment_date") or ctx.today,
        fee=fee,
        payment_method=text(body, "payment_method"),
        payment_reference=text(body, "payment_reference"),
        external_id=text(body, "external_id"),
        note=text(body, "note") or text(body, "notes"),
        notes=text(body, "notes"),
        metadata=dict(body.get("metadata") or {}),
        references=dict(body.get("references") or {}),
        payment_processor=text(body, "payment_processor"),
        idempotency_key=ctx.idempotency_key,
    )
    payment.currency = currency
    return Reply(201, {"payment": payment_detail_view(books, payment)})


def _payment(ctx: Context) -> InvoicePayment:
    return get_or_404(ctx.books.invoice_payments, ctx.param("payment_id"), "payment")


@handles("get_invoice_payment")
def get_invoice_payment(ctx: Context) -> Reply:
    return Reply(200, payment_list_view(ctx.books, _payment(ctx)))


def _update_payment(ctx: Context) -> Reply:
    """PUT and PATCH alike: amounts, allocations and status may change until it is cancelled.

    Everything is checked before anything changes, so a refused update keeps the payment.
    """
    books = ctx.books
    body = ctx.body
    payment = _payment(ctx)
    if payment.status == "cancelled":
        raise ApiError(400, "invalid_status_transition", "A cancelled payment cannot change.")
    currency = payment.currency
    if "currency" in body:
        currency = check_currency(books, body["currency"])
    customer = books.customers[payment.customer_id]
    if body.get("customer_id") and body["customer_id"] != payment.customer_id:
        customer = find_customer(books, body["customer_id"], None)
    total = int(body.get("total_amount_cents", payment.total))
    fee = int(body.get("processing_fee_cents", payment.fee))
    if fee > total:
        raise field_error("processing_fee_cents", "The fee cannot exceed the payment total.")
    if "allocations" in body:
        shares = payment_shares(
            books,
            RECEIVABLES,
            body["allocations"],
            party_id=customer.id,
            limit=total,
            current=payment.allocations,
        )
    else:
        shares = [Share(books.invoices[a.target_id], a.amount) for a in payment.allocations]
        if any(share.document.customer_id != customer.id for share in shares):
            raise field_error("customer_id", "The payment's invoices belong to another customer.")
        if sum(share.amount for share in shares) > total:
            raise field_error(
                "total_amount_cents", "The new amount no longer covers the allocations."
            )
    new_status = body.get("status")
    if new_status is not None:
        check_transition(payment, str(new_status), PAYMENT_TRANSITIONS)
    payment_date = payment.payment_date
    if "payment_date" in body:
        payment_date = parse_date(body["payment_date"], "payment_date") or ctx.today
    payment.currency = currency
    if new_status is not None:
        move_status(payment, str(new_status), PAYMENT_TRANSITIONS, ctx.now)
    payment.customer_id = customer.id
    payment.total = total
    payment.fee = fee
    payment.payment_date = payment_date
    set_texts(
        payment,
        body,
        (
            "payment_method",
            "payment_reference",
            "note",
            "notes",
            "payment_processor",
            "processor_reference",
            "bank_reference",
        ),
    )
    for key in ("metadata", "references"):
        if key in body:
            setattr(payment, key, dict(body[key] or {}))
    if "transaction_tags" in body:
        payment.transaction_tags = list(body["transaction_tags"] or [])
    change_external_id(books, "invoice_payment", payment, body)
    settle_payment(books, payment, shares, ctx)
    return Reply(200, {"payment": payment_detail_view(books, payment)})


@handles("update_invoice_payment")
def update_invoice_payment(ctx: Context) -> Reply:
    return _update_payment(ctx)


@handles("partial_update_invoice_payment")
def partial_update_invoice_payment(ctx: Context) -> Reply:
    return _update_payment(ctx)


@handles("delete_invoice_payment")
def delete_invoice_payment(ctx: Context) -> Reply:
    """Cancel a pending or failed payment: its invoices are owed again, its ledger entry goes.

    A completed payment is refused; its money comes back through refunds instead
    (docs/api-behaviour.md, "Payment states").
    """
    payment = _payment(ctx)
    cancel_payment(ctx.books, payment, ctx)
    return cancelled_reply("Payment cancelled and its allocations reversed.", payment)
