"""Payouts: a processor's settlement to the bank, upserted by ``external_id``.

Creating with a known ``external_id`` updates the stored payout (201 new, 200 updated). A payout
links invoice payments and refund payments; each can belong to one payout at a time, and deleting
the payout releases them. Its fee is booked as an expense paid from the bank. Once reconciled
(``fake.mark_payout_reconciled``) it can be neither changed nor deleted: 409 ``payout_reconciled``.

Derived amounts (undocumented formulas, chosen here): ``net = paid_out - fee - additional
refunds``; ``expected_net = payments - refund payments - additional refunds - fee``;
``variance = net - expected_net``.
"""

from __future__ import annotations

from typing import Any

from .._books.ledger import CODES, Posting
from .._books.records import check_currency, get_or_404
from .._books.state import Books, Payout
from .._server.context import Context, Reply, handles
from .._server.errors import conflict, field_error
from .._server.filters import Filters, joined
from .._server.pagination import paginate
from .._server.values import iso, iso_date, parse_datetime, set_texts

_FIELDS = (
    "processor",
    "processor_payout_id",
    "status",
    "reference_number",
    "memo",
)


def payout_view(books: Books, payout: Payout) -> dict[str, Any]:
    payments = [books.invoice_payments[pid] for pid in payout.payment_ids]
    refund_payments = [books.refund_payments[pid] for pid in payout.refund_payment_ids]
    gross = sum(p.total for p in payments)
    refunds = sum(p.amount for p in refund_payments) + payout.additional_refunds
    net = payout.paid_out - payout.fee - payout.additional_refunds
    expected = gross - refunds - payout.fee
    return {
        "id": payout.id,
        "business_id": books.id,
        "external_id": payout.external_id,
        "processor": payout.processor,
        "processor_payout_id": payout.processor_payout_id,
        "paid_out_amount_cents": payout.paid_out,
        "fee_cents": payout.fee,
        "additional_refunds_amount_cents": payout.additional_refunds,
        "net_amount_cents": net,
        "currency": payout.currency,
        "status": payout.status,
        "completed_at": iso(payout.completed_at),
        "imported_at": iso(payout.imported_at),
        "reference_number": payout.reference_number,
        "memo": payout.memo,
        "metadata": payout.metadata,
        "payment_count": len(payments),
        "refund_payment_count": len(refund_payments),
        "gross_payments_amount_cents": gross,
        "total_refunds_amount_cents": refunds,
        "expected_net_amount_cents": expected,
        "amount_variance_cents": net - expected,
        "payments": [
            {
                "id": p.id,
                "external_id": p.external_id,
                "payment_reference": p.payment_reference,
                "customer_name": books.customers[p.customer_id].display_name,
                "payment_date": iso_date(p.payment_date),
                "total_amount_cents": p.total,
                "currency": p.currency,
            }
            for p in payments
        ],
        "refund_payments": [
            {
                "id": rp.id,
                "external_id": rp.external_id,
                "refund_id": rp.refund_id,
                "customer_name": books.customers[
                    books.refunds[rp.refund_id].customer_id
                ].display_name,
                "refunded_amount_cents": rp.amount,
                "completed_at": iso(rp.completed_at),
            }
            for rp in refund_payments
        ],
        "reconciliation_status": payout.reconciliation_status,
        "settlement_file_id": None,
        "created_at": iso(payout.created_at),
        "updated_at": iso(payout.updated_at),
    }


def _refuse_if_reconciled(payout: Payout) -> None:
    if payout.reconciliation_status == "reconciled":
        raise conflict(
            "payout_reconciled",
            "This payout is reconciled to a bank transaction and can no longer change.",
            payout_id=payout.id,
        )


def _checked_links(
    books: Books, payout: Payout, body: dict[str, Any]
) -> tuple[list[str] | None, list[str] | None]:
    """The payment and refund-payment ids the body links (None: unchanged), each checked."""
    payment_ids = [str(p) for p in body.get("payment_ids") or []] if "payment_ids" in body else None
    refund_ids = (
        [str(p) for p in body.get("refund_payment_ids") or []]
        if "refund_payment_ids" in body
        else None
    )
    for index, pid in enumerate(payment_ids or []):
        payment = books.invoice_payments.get(pid)
        if payment is None:
            raise field_error(f"payment_ids.{index}", f'Payment "{pid}" does not exist.')
        if payment.payout_id not in (None, payout.id):
            raise field_error(
                f"payment_ids.{index}", f'Payment "{pid}" already belongs to another payout.'
            )
    for index, rid in enumerate(refund_ids or []):
        refund_payment = books.refund_payments.get(rid)
        if refund_payment is None:
            raise field_error(
                f"refund_payment_ids.{index}", f'Refund payment "{rid}" does not exist.'
            )
        if refund_payment.payout_id not in (None, payout.id):
            raise field_error(
                f"refund_payment_ids.{index}",
                f'Refund payment "{rid}" already belongs to another payout.',
            )
    return payment_ids, refund_ids


def _relink(
    books: Books, payout: Payout, payment_ids: list[str] | None, refund_ids: list[str] | None
) -> None:
    if payment_ids is not None:
        for pid in payout.payment_ids:
            books.invoice_payments[pid].payout_id = None
        payout.payment_ids = list(dict.fromkeys(payment_ids))
        for pid in payout.payment_ids:
            books.invoice_payments[pid].payout_id = payout.id
    if refund_ids is not None:
        for rid in payout.refund_payment_ids:
            books.refund_payments[rid].payout_id = None
        payout.refund_payment_ids = list(dict.fromkeys(refund_ids))
        for rid in payout.refund_payment_ids:
            books.refund_payments[rid].payout_id = payout.id


def _apply(books: Books, payout: Payout, body: dict[str, Any]) -> None:
    """Check the whole body, then change the payout and its links: a refusal changes nothing."""
    payment_ids, refund_ids = _checked_links(books, payout, body)
    completed_at = payout.completed_at
    if "completed_at" in body:
        completed_at = parse_datetime(body["completed_at"], "completed_at")
    check_currency(books, body.get("currency"))
    _relink(books, payout, payment_ids, refund_ids)
    set_texts(payout, body, _FIELDS)
    for key, attr in (
        ("paid_out_amount_cents", "paid_out"),
        ("fee_cents", "fee"),
        ("additional_refunds_amount_cents", "additional_refunds"),
    ):
        if body.get(key) is not None:
            setattr(payout, attr, int(body[key]))
    payout.completed_at = completed_at
    if "metadata" in body:
        payout.metadata = body["metadata"]


def _post(books: Books, payout: Payout) -> None:
    """The processor's fee: DR Payment Processing Fees / CR Bank."""
    ledger = books.ledger
    ledger.post_source(
        "payout",
        payout.id,
        (payout.completed_at or payout.created_at).date(),
        [
            Posting(ledger.system[CODES.PROCESSING_FEES], payout.fee),
            Posting(ledger.system[CODES.BANK], -payout.fee),
        ],
        description=f"Payout {payout.external_id} fees",
        reference=payout.external_id,
    )


@handles("create_payout")
def create_payout(ctx: Context) -> Reply:
    books = ctx.books
    body = ctx.body
    existing_id = books.find_external("payout", str(body["external_id"]))
    if existing_id is not None:
        payout = books.payouts[existing_id]
        _refuse_if_reconciled(payout)
        _apply(books, payout, body)
        payout.updated_at = ctx.now
        _post(books, payout)
        return Reply(200, payout_view(books, payout))
    payout = Payout(
        id=ctx.new_id(),
        external_id=str(body["external_id"]),
        currency=books.currency,
        created_at=ctx.now,
        updated_at=ctx.now,
        imported_at=ctx.now,
    )
    _apply(books, payout, body)
    books.payouts[payout.id] = payout
    books.remember_external("payout", payout.external_id, payout.id)
    _post(books, payout)
    return Reply(201, payout_view(books, payout))


@handles("list_payouts")
def list_payouts(ctx: Context) -> Reply:
    books = ctx.books
    items = Filters(ctx, books.payouts.values())
    items.between(
        "completed_at_start", "completed_at_end", lambda p: p.completed_at, parse_datetime
    )
    items.contains("external_id", lambda p: p.external_id)
    items.at_least("min_amount", lambda p: p.paid_out)
    items.at_most("max_amount", lambda p: p.paid_out)
    items.equal_ignoring_case("processor", "processor")
    items.equal_ignoring_case("status", "status")
    items.contains("search", lambda p: joined(p.external_id, p.reference_number, p.memo))
    return Reply(200, paginate(ctx, items.items, lambda p: payout_view(books, p)))


@handles("get_payout")
def get_payout(ctx: Context) -> Reply:
    payout = get_or_404(ctx.books.payouts, ctx.param("payout_id"), "payout")
    return Reply(200, payout_view(ctx.books, payout))


@handles("delete_payout")
def delete_payout(ctx: Context) -> Reply:
    books = ctx.books
    payout = get_or_404(books.payouts, ctx.param("payout_id"), "payout")
    _refuse_if_reconciled(payout)
    _relink(books, payout, [], [])
    books.ledger.unpost_source("payout", payout.id)
    books.forget_external("payout", payout.external_id)
    del books.payouts[payout.id]
    return Reply(200, {"deleted": True})
