"""Invoices and bills alike: how money applied to a document moves it and its party's balance.

Money applied to a document (a payment allocation or a credit-note allocation) is recorded as an
:class:`~.state.Application`; the document's outstanding amount, status and ``paid_at`` follow from
those, and the party's outstanding balance is adjusted by the change, so no request ever has to re-
add a party's documents. What differs between the two sides is named in ``sides``; line maths and
ledger postings are in ``invoicing`` and ``billing``, the voiding rules in the handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import TypeVar

from .._server.errors import ApiError, field_error
from .sides import Side
from .state import Application, Books, TradeDocument

__all__ = [
    "apply_to_document",
    "move_to_party",
    "refresh_document",
    "refuse_if_voided",
    "refuse_party_change",
    "refuse_total_below_applied",
    "release_from_party",
    "settle_total",
    "unapply_from_document",
    "void_document",
]

D = TypeVar("D", bound=TradeDocument)


def refresh_document(books: Books, document: TradeDocument, now: datetime) -> None:
    """Bring ``paid_at`` and the party's outstanding balance in line with the document."""
    if document.status == "PAID":
        if document.paid_at is None:
            document.paid_at = now
    else:
        document.paid_at = None
    outstanding = document.outstanding
    party = books.party_of(document)
    if party is not None:
        party.outstanding += outstanding - document.counted_outstanding
    document.counted_outstanding = outstanding


def apply_to_document(
    books: Books,
    document: TradeDocument,
    *,
    source: str,
    source_id: str,
    allocation_id: str,
    amount: int,
    on: date,
    now: datetime,
) -> None:
    document.applications.append(Application(source, source_id, allocation_id, amount, on))
    document.applied += amount
    document.updated_at = now
    refresh_document(books, document, now)


def unapply_from_document(
    books: Books, document: TradeDocument, allocation_id: str, now: datetime
) -> None:
    for application in list(document.applications):
        if application.allocation_id == allocation_id:
            document.applications.remove(application)
            document.applied -= application.amount
    document.updated_at = now
    refresh_document(books, document, now)


def refuse_if_voided(document: TradeDocument, noun: str) -> None:
    """A voided document is final: it takes no further updates."""
    if document.voided_at is not None:
        raise ApiError(400, "invalid_status_transition", f"A voided {noun} cannot be updated.")


def release_from_party(books: Books, document: TradeDocument) -> None:
    """Take the document off its party's balance before it changes hands (refresh adds it back)."""
    party = books.party_of(document)
    if party is not None:
        party.outstanding -= document.counted_outstanding
    document.counted_outstanding = 0


def refuse_party_change(side: Side[D], document: D, party_id: str) -> None:
    """Money applied to a document came from its party: with any applied, the party stays."""
    if party_id != side.party_of(document) and document.applications:
        raise field_error(
            f"{side.party}_id",
            f"The {side.party} of {side.a_document} with payments cannot change.",
        )


def move_to_party(books: Books, side: Side[D], document: D, party_id: str) -> None:
    """Hand the document to ``party_id`` (checked first: see refuse_party_change); its balance
    leaves the old party now and reaches the new one at the next refresh."""
    if party_id != side.party_of(document):
        release_from_party(books, document)
        setattr(document, side.party_field, party_id)


def refuse_total_below_applied(document: TradeDocument, total: int) -> None:
    """An update's new total may not fall below what is already applied to the document."""
    applied = document.applied
    if total < applied:
        raise field_error(
            "line_items",
            f"The new total ({total}) is less than the amount already applied ({applied}).",
        )


def settle_total(
    books: Books, document: D, total: int, now: datetime, post: Callable[[Books, D], None]
) -> None:
    """Take a recomputed total after an update (checked first: see refuse_total_below_applied)."""
    refuse_total_below_applied(document, total)
    document.total = total
    document.updated_at = now
    post(books, document)
    refresh_document(books, document, now)


def void_document(
    books: Books, document: TradeDocument, source_type: str, voided_at: datetime, now: datetime
) -> None:
    """Nothing is owed any more and the document's own ledger entry is reversed.

    Applied money is left as it is; whether a document with payments may be voided at all is
    the caller's rule (a bill may, an invoice may not).
    """
    document.voided_at = voided_at
    document.updated_at = now
    books.ledger.unpost_source(source_type, document.id, reversal_date=voided_at.date())
    refresh_document(books, document, now)
