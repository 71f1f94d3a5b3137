"""A bill's ledger entry: DR expense and tax accounts, CR Accounts Payable."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from .documents import (
    refresh_document,
)
from .ledger import CODES, Posting
from .money import representable
from .state import Bill, BillLine, Books, Vendor


def post_bill(books: Books, bill: Bill) -> None:
    """DR expense and input tax / CR Accounts Payable."""
    ledger = books.ledger
    postings = [Posting(ledger.system[CODES.PAYABLES], -bill.total)]
    for line in bill.lines:
        postings.append(Posting(line.account_id, line.subtotal))
        postings.extend(Posting(t.account_id, t.amount - t.discount) for t in line.taxes)
    ledger.post_source(
        "bill",
        bill.id,
        bill.issue_date,
        postings,
        description=f"Bill {bill.bill_number or bill.vendor_bill_number or bill.id[:8]}",
        reference=bill.bill_number or bill.vendor_bill_number,
    )


def create_bill_record(
    books: Books,
    *,
    bill_id: str,
    vendor: Vendor,
    lines: list[BillLine],
    issue_date: date,
    now: datetime,
    **fields: Any,
) -> Bill:
    bill = Bill(
        id=bill_id,
        vendor_id=vendor.id,
        issue_date=issue_date,
        currency=books.currency,
        lines=lines,
        created_at=now,
        updated_at=now,
        **fields,
    )
    bill.total = representable(sum(line.total for line in lines), "line_items")
    books.bills[bill.id] = bill
    books.remember_external("bill", bill.external_id, bill.id)
    post_bill(books, bill)
    refresh_document(books, bill, now)
    return bill
