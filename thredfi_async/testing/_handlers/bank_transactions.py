"""``thredfi.bank_transactions``: the transactions of the seeded bank feeds, read-only."""

from __future__ import annotations

from typing import Any

from .._books.money import format_money
from .._books.state import BankTransaction, Books
from .._server.context import Context, Reply, handles
from .._server.pagination import paginate
from .._server.values import iso, iso_date


def bank_transaction_view(books: Books, txn: BankTransaction) -> dict[str, Any]:
    account = books.bank_accounts[txn.bank_account_id]
    ledger_account = books.ledger.accounts.get(txn.account_id) if txn.account_id else None
    signed = txn.amount if txn.direction == "credit" else -txn.amount
    return {
        "id": txn.id,
        "date": iso_date(txn.on),
        "amount": txn.amount,
        "display_amount": format_money(signed, txn.currency),
        "signed_amount": signed,
        "direction": txn.direction,
        "currency": txn.currency,
        "counterparty_name": txn.counterparty_name,
        "merchant_name": txn.merchant_name,
        "description": txn.description,
        "categorization_status": txn.categorization_status,
        "transaction_type": txn.transaction_type,
        "subcategory": None,
        "business_id": books.id,
        "business_name": books.business.legal_name,
        "account_id": ledger_account.id if ledger_account else None,
        "account_code": ledger_account.code if ledger_account else None,
        "account_name": ledger_account.name if ledger_account else None,
        "bank_account_connection_id": account.id,
        "bank_account_name": account.display_name,
        "bank_account_mask": account.mask,
        "bank_account_currency": account.currency,
        "is_reconciled": txn.is_reconciled,
        "reconciled_at": iso(txn.reconciled_at),
        "reconciled_amount_cents": txn.reconciled_amount,
        "remaining_amount_cents": txn.amount - txn.reconciled_amount,
        "reconciliations": None,
        "created_at": iso(txn.created_at),
    }


@handles("list_bank_transactions")
def list_bank_transactions(ctx: Context) -> Reply:
    books = ctx.books
    items = list(books.bank_transactions.values())
    direction = ctx.filter("direction")
    if direction:
        items = [t for t in items if t.direction == direction]
    for key, attr in (
        ("currency", "currency"),
        ("bank_account_connection_id", "bank_account_id"),
        ("transaction_type", "transaction_type"),
        ("account_id", "account_id"),
    ):
        wanted = ctx.filter(key)
        if wanted is not None:
            items = [t for t in items if str(getattr(t, attr)) == str(wanted)]
    statuses = ctx.filter("categorization_status")
    if statuses:
        wanted_statuses = set(statuses if isinstance(statuses, list) else [statuses])
        items = [t for t in items if t.categorization_status in wanted_statuses]
    reconciled = ctx.filter("is_reconciled")
    if isinstance(reconciled, bool):
        items = [t for t in items if t.is_reconciled == reconciled]
    categorized = ctx.filter("is_categorized")
    if isinstance(categorized, bool):
        items = [t for t in items if (t.categorization_status == "categorized") == categorized]
    low, high = ctx.typed_filter("amount_min", "integer"), ctx.typed_filter("amount_max", "integer")
    if low is not None:
        items = [t for t in items if t.amount >= low]
    if high is not None:
        items = [t for t in items if t.amount <= high]
    since, until = ctx.filter("date_from"), ctx.filter("date_to")
    if since:
        items = [t for t in items if t.on.isoformat() >= str(since)]
    if until:
        items = [t for t in items if t.on.isoformat() <= str(until)]
    search = ctx.filter("search")
    if search:
        needle = str(search).lower()
        items = [
            t
            for t in items
            if needle in f"{t.description} {t.counterparty_name} {t.merchant_name}".lower()
        ]
    items.sort(key=lambda t: (t.on, t.created_at), reverse=True)
    return Reply(200, paginate(ctx, items, lambda t: bank_transaction_view(books, t)))
