"""A credit note on either side: recorded, applied to documents, posted, soft-deleted.

A customer credit reverses revenue against Accounts Receivable, a vendor credit reverses expense
against Accounts Payable; the rules are one, the side (``sides``) says which accounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .._server.context import Context
from .allocations import Share, reallocate
from .ledger import CODES, Posting
from .sides import PAYABLES, RECEIVABLES, Side
from .state import Books, CreditNote, CustomerCredit


def _kind(credit: CreditNote) -> str:
    return "customer_credit" if isinstance(credit, CustomerCredit) else "vendor_credit"


def _collection(books: Books, credit: CreditNote) -> dict[str, Any]:
    if isinstance(credit, CustomerCredit):
        return books.customer_credits
    return books.vendor_credits


def record_credit(
    books: Books, credit: CreditNote, shares: Sequence[Share[Any]], ctx: Context
) -> None:
    """A new credit joins its books (findable by ``external_id``) and is applied and posted."""
    _collection(books, credit)[credit.id] = credit
    books.remember_external(_kind(credit), credit.external_id, credit.id)
    apply_credit(books, credit, shares, ctx)


def delete_credit(books: Books, credit: CreditNote, ctx: Context) -> None:
    """A soft delete: kept but flagged, gone from lists and lookups, applied to nothing."""
    books.forget_external(_kind(credit), credit.external_id)
    credit.deleted_at = ctx.now
    credit.updated_at = ctx.now
    apply_credit(books, credit, [], ctx)


def apply_credit(
    books: Books, credit: CreditNote, shares: Sequence[Share[Any]], ctx: Context
) -> None:
    """Apply a credit's shares (none: release them) and post its entry, on either side."""
    if isinstance(credit, CustomerCredit):
        side: Side[Any] = RECEIVABLES
        source_type, ledger_source = "credit", "customer_credit"
    else:
        side, source_type, ledger_source = PAYABLES, "vendor_credit", "vendor_credit"
    on = credit.issued_at.date()
    reallocate(books, credit, shares, ctx, side=side, source_type=source_type, on=on)
    post_credit(books, credit, ledger_source, side)


def post_credit(books: Books, credit: CreditNote, source_type: str, side: Side[Any]) -> None:
    """Customer: DR revenue and VAT / CR AR and customer credit. Vendor: the mirror image."""
    ledger = books.ledger
    receivable, balance, sign = side.control_account, side.spare_account, side.sign
    if credit.deleted_at is not None:
        ledger.unpost_source(source_type, credit.id)
        return
    postings = []
    for line in credit.lines:
        postings.append(Posting(line.account_id, sign * line.amount))
        postings.append(Posting(ledger.system[CODES.VAT], sign * line.tax))
    postings.append(Posting(ledger.system[receivable], -sign * credit.applied))
    postings.append(Posting(ledger.system[balance], -sign * (credit.total - credit.applied)))
    ledger.post_source(
        source_type,
        credit.id,
        credit.issued_at.date(),
        postings,
        description=f"{source_type.replace('_', ' ').capitalize()} "
        f"{credit.external_id or credit.id}",
        reference=credit.external_id,
    )
