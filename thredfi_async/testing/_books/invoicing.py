"""An invoice's total and its ledger entry: DR Accounts Receivable, CR revenue, tax and tips."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from .._server.errors import field_error
from .documents import (
    refresh_document,
)
from .ledger import CODES, Posting
from .money import representable
from .state import Books, Customer, Invoice, InvoiceLine


def compute_invoice_total(invoice: Invoice) -> int:
    """Lines (quantity x unit price - discount + taxes) - additional discount + taxes + tips."""
    lines = sum(line.net + line.tax for line in invoice.lines)
    return lines - invoice.additional_discount + invoice.additional_taxes_total + invoice.tips


def post_invoice(books: Books, invoice: Invoice) -> None:
    """DR Accounts Receivable / CR revenue, tax and tips accounts."""
    ledger = books.ledger
    postings = [Posting(ledger.system[CODES.RECEIVABLES], invoice.total)]
    for line in invoice.lines:
        postings.append(Posting(line.account_id, -line.net))
        postings.extend(Posting(t.account_id, -(t.amount - t.discount)) for t in line.taxes)
    postings.append(Posting(ledger.system[CODES.SALES], invoice.additional_discount))
    listed = sum(t.amount for t in invoice.additional_taxes)
    postings.extend(Posting(t.account_id, -t.amount) for t in invoice.additional_taxes)
    postings.append(Posting(ledger.system[CODES.VAT], -(invoice.additional_taxes_total - listed)))
    tips_account = invoice.tips_account_id or ledger.system[CODES.TIPS]
    postings.append(Posting(tips_account, -invoice.tips))
    ledger.post_source(
        "invoice",
        invoice.id,
        invoice.sent_at.date(),
        postings,
        description=f"Invoice {invoice.invoice_number}",
        reference=invoice.invoice_number,
    )


def create_invoice_record(
    books: Books,
    *,
    invoice_id: str,
    customer: Customer,
    lines: list[InvoiceLine],
    now: datetime,
    sent_at: datetime | None = None,
    due_at: datetime | None = None,
    **fields: Any,
) -> Invoice:
    sent = sent_at or now
    if due_at is None and customer.data.get("payment_terms_days") is not None:
        try:
            due_at = sent + timedelta(days=int(customer.data["payment_terms_days"]))
        except OverflowError:
            raise field_error(
                "sent_at", "The due date (sent_at plus the payment terms) is past year 9999."
            ) from None
    invoice = Invoice(
        id=invoice_id,
        customer_id=customer.id,
        invoice_number=fields.pop("invoice_number", None) or books.next_invoice_number(),
        sent_at=sent,
        due_at=due_at,
        created_at=now,
        updated_at=now,
        lines=lines,
        currency=books.currency,
        **fields,
    )
    invoice.total = representable(compute_invoice_total(invoice), "line_items")
    books.invoices[invoice.id] = invoice
    books.remember_external("invoice", invoice.external_id, invoice.id)
    post_invoice(books, invoice)
    refresh_document(books, invoice, now)
    return invoice
