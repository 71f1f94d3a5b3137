"""Money from one source (a payment or a credit note) shared out over invoices or bills.

The balance rules are the same for all four sources (invoice and bill payments, customer and
vendor credits): a share may not exceed what the document still owes plus what this same source
already applies to it (freed again when the source is re-allocated), and the shares together may
not exceed the source's amount. How a request names its documents, and which documents a source
may reach (its own party's, not voided), differ per source: the caller's ``resolve`` checks them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, Protocol, TypeVar

from .._server.context import Context
from .._server.errors import field_error
from .documents import apply_to_document, unapply_from_document
from .sides import Side
from .state import Allocation, Books, TradeDocument

__all__ = [
    "AllocationSource",
    "Share",
    "allocated_cents",
    "open_document",
    "reallocate",
    "requested_shares",
]

D = TypeVar("D", bound=TradeDocument)


@dataclass(frozen=True, slots=True)
class Share(Generic[D]):
    """One requested allocation, checked: this much of the source goes to ``document``."""

    document: D
    amount: int
    description: str | None = None


class AllocationSource(Protocol):
    id: str
    allocations: list[Allocation]


def open_document(
    books: Books, side: Side[D], index: int, item: dict[str, Any], party_id: str
) -> D:
    """The document allocation ``index`` names: it exists, is not voided, and is the party's.

    Every source (a payment or a credit note, on either side) may reach only its own party's
    open documents; the refusal names the field, ``allocations.<index>.<document>_id``.
    """
    key = f"{side.document}_id"
    field_name = f"allocations.{index}.{key}"
    document_id = item.get(key)
    if not document_id:
        raise field_error(field_name, "This field is required.")
    document = side.documents(books).get(str(document_id))
    if document is None:
        raise field_error(
            field_name, f'{side.document.capitalize()} "{document_id}" does not exist.'
        )
    if side.party_of(document) != party_id or document.voided_at is not None:
        raise field_error(
            field_name, f"The {side.document} is voided or belongs to another {side.party}."
        )
    return document


def allocated_cents(index: int, item: dict[str, Any]) -> int:
    """A payment allocation's ``amount_cents``: a whole number of minor units, at least 1."""
    amount = item.get("amount_cents")
    if not isinstance(amount, int) or isinstance(amount, bool) or amount < 1:
        raise field_error(
            f"allocations.{index}.amount_cents", "Ensure this value is greater than or equal to 1."
        )
    return amount


def requested_shares(
    requested: Any,
    resolve: Callable[[int, dict[str, Any]], Share[D]],
    *,
    current: Iterable[Allocation],
    amount_key: str,
    exceeds: str,
    limit: int,
    too_much: str,
) -> list[Share[D]]:
    """Check the requested allocations against the documents' balances and the source's amount.

    ``resolve`` turns item ``index`` into a share (or refuses it); ``current`` is what the source
    holds now. ``exceeds`` may name ``{available}``, ``too_much`` ``{allocated}`` and ``{limit}``.
    """
    held: dict[str, int] = {}
    for allocation in current:
        held[allocation.target_id] = held.get(allocation.target_id, 0) + allocation.amount
    wanted: dict[str, int] = {}
    shares: list[Share[D]] = []
    for index, item in enumerate(requested or []):
        share = resolve(index, item)
        document_id = share.document.id
        wanted[document_id] = wanted.get(document_id, 0) + share.amount
        available = share.document.outstanding + held.get(document_id, 0)
        if wanted[document_id] > available:
            raise field_error(
                f"allocations.{index}.{amount_key}", exceeds.format(available=available)
            )
        shares.append(share)
    allocated = sum(share.amount for share in shares)
    if allocated > limit:
        raise field_error("allocations", too_much.format(allocated=allocated, limit=limit))
    return shares


def reallocate(
    books: Books,
    source: AllocationSource,
    shares: Iterable[Share[D]],
    ctx: Context,
    *,
    side: Side[D],
    source_type: str,
    on: date,
) -> None:
    """Replace what ``source`` applies: reverse its allocations, then apply ``shares`` in order.

    An empty ``shares`` only reverses (a cancelled payment, a deleted credit note).
    """
    documents = side.documents(books)
    for allocation in source.allocations:
        unapply_from_document(books, documents[allocation.target_id], allocation.id, ctx.now)
    source.allocations = []
    for share in shares:
        allocation = Allocation(
            id=ctx.new_id(),
            target_id=share.document.id,
            amount=share.amount,
            at=ctx.now,
            description=share.description,
        )
        source.allocations.append(allocation)
        apply_to_document(
            books,
            share.document,
            source=source_type,
            source_id=source.id,
            allocation_id=allocation.id,
            amount=share.amount,
            on=on,
            now=ctx.now,
        )
