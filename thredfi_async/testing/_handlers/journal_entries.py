"""``thredfi.journal_entries``: the journal entries the books post, read-only."""

from __future__ import annotations

from typing import Any

from .._books.ledger import JournalEntry
from .._books.state import Books
from .._server.context import Context, Reply, handles
from .._server.errors import not_found
from .._server.pagination import paginate
from .._server.values import iso, iso_date, parse_date

_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def journal_entry_view(books: Books, entry: JournalEntry, *, detail: bool) -> dict[str, Any]:
    ledger = books.ledger
    view: dict[str, Any] = {
        "id": entry.id,
        "sequence_number": f"JE-{entry.sequence:06d}",
        "entry_date": iso_date(entry.entry_date),
        "reference": entry.reference,
        "description": entry.description,
        "currency": entry.currency,
        "total_debit": entry.total_debit,
        "total_credit": entry.total_credit,
        "is_balanced": entry.total_debit == entry.total_credit,
        "created_by": entry.created_by,
        "created_by_display": entry.created_by.capitalize(),
        "status": entry.status,
        "status_display": entry.status.capitalize(),
        "is_posted": entry.is_posted,
        "posted_at": iso(entry.created_at) if entry.is_posted else None,
        "bank_transaction_id": None,
        "source_type": entry.source_type,
        "source_reference": entry.source_id,
        "created_at": iso(entry.created_at),
    }
    if detail:
        day = entry.entry_date
        view["accounting_period"] = {
            "id": f"{day.year}-{day.month:02d}",
            "year": day.year,
            "month": day.month,
            "period_name": f"{_MONTHS[day.month - 1]} {day.year}",
            "status": "open",
        }
        view["lines"] = [
            {
                "id": line.id,
                "line_number": line.line_number,
                "account_code": ledger.accounts[line.account_id].code,
                "account_name": ledger.accounts[line.account_id].name,
                "account_type": ledger.accounts[line.account_id].account_type,
                "debit_amount": line.debit,
                "credit_amount": line.credit,
                "description": line.description,
                "external_reference": line.external_reference,
            }
            for line in entry.lines
        ]
    return view


@handles("list_journal_entries")
def list_journal_entries(ctx: Context) -> Reply:
    books = ctx.books
    ledger = books.ledger
    items = list(reversed(ledger.entries.values()))  # newest first
    since = parse_date(ctx.filter("date_from"), "date_from")
    if since is not None:
        items = [e for e in items if e.entry_date >= since]
    until = parse_date(ctx.filter("date_to"), "date_to")
    if until is not None:
        items = [e for e in items if e.entry_date <= until]
    account_ref = ctx.filter("account_id")
    if account_ref:
        account = ledger.lookup(str(account_ref))
        wanted = account.id if account else None
        items = [e for e in items if any(line.account_id == wanted for line in e.lines)]
    for key in ("created_by", "status", "is_posted"):
        value = ctx.filter(key)
        if value is not None:
            items = [e for e in items if getattr(e, key) == value]
    search = ctx.filter("search")
    if search:
        needle = str(search).lower()
        items = [e for e in items if needle in f"{e.description or ''} {e.reference or ''}".lower()]
    return Reply(200, paginate(ctx, items, lambda e: journal_entry_view(books, e, detail=False)))


@handles("get_journal_entry_detail")
def get_journal_entry_detail(ctx: Context) -> Reply:
    entry = ctx.books.ledger.entries.get(ctx.param("entry_id"))
    if entry is None:
        raise not_found("journal_entry", ctx.param("entry_id"))
    return Reply(200, journal_entry_view(ctx.books, entry, detail=True))
