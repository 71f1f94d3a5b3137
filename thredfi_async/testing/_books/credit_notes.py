"""The ledger entry of a credit note: a customer credit reverses revenue against Accounts
Receivable, a vendor credit reverses expense against Accounts Payable.
"""

from __future__ import annotations

from .ledger import CODES, Posting
from .state import Books, CreditNote


def post_credit(
    books: Books, credit: CreditNote, source_type: str, *, receivable: str, balance: str, sign: int
) -> None:
    """Customer: DR revenue and VAT / CR AR and customer credit. Vendor: the mirror image."""
    ledger = books.ledger
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
