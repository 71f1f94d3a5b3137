"""``thredfi.bank_accounts``: bank feeds, read-only (``fake.seed`` creates them; there is no API
to).
"""

from __future__ import annotations

from typing import Any

from .._books.money import major
from .._books.records import get_or_404
from .._books.state import BankAccount, Books
from .._server.context import Context, Reply, handles
from .._server.pagination import paginate
from .._server.values import iso


def bank_account_view(books: Books, account: BankAccount, *, summary: bool) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": account.id,
        "display_name": account.display_name,
        "official_name": account.official_name,
        "mask": account.mask,
        "balance": major(account.balance, account.currency),
        "balance_cents": account.balance,
        "currency": account.currency,
        "is_active": account.is_active,
        "bank_link_status": account.bank_link_status,
        "business_name": books.business.legal_name,
        "provider": account.provider,
        "created_at": iso(account.created_at),
    }
    if not summary:
        view.update(
            {
                "account_key": account.account_key,
                "bank_link_id": account.bank_link_id,
                "business_id": books.id,
                "mapped_account": account.mapped_account_id,
                "updated_at": iso(account.updated_at),
            }
        )
    return view


@handles("list_bank_accounts")
def list_bank_accounts(ctx: Context) -> Reply:
    books = ctx.books
    items = list(books.bank_accounts.values())
    for key, attr in (
        ("account_key", "account_key"),
        ("currency", "currency"),
        ("bank_link_status", "bank_link_status"),
        ("provider", "provider"),
        ("display_name", "display_name"),
    ):
        wanted = ctx.filter(key)
        if wanted is not None:
            items = [a for a in items if str(getattr(a, attr)).lower() == str(wanted).lower()]
    active = ctx.filter("is_active")
    if isinstance(active, bool):
        items = [a for a in items if a.is_active == active]
    mapped = ctx.filter("has_mapped_account")
    if isinstance(mapped, bool):
        items = [a for a in items if (a.mapped_account_id is not None) == mapped]
    low, high = ctx.typed_filter("balance_min", "number"), ctx.typed_filter("balance_max", "number")
    if low is not None:
        items = [a for a in items if major(a.balance, a.currency) >= low]
    if high is not None:
        items = [a for a in items if major(a.balance, a.currency) <= high]
    search = ctx.filter("search")
    if search:
        needle = str(search).lower()
        items = [
            a
            for a in items
            if needle in a.display_name.lower() or needle in a.official_name.lower()
        ]
    ordering = str(ctx.filter("ordering") or "-created_at")
    key = ordering.lstrip("-")
    if key in ("created_at", "display_name", "balance", "currency"):
        items.sort(key=lambda a: getattr(a, key), reverse=ordering.startswith("-"))
    statistics = {
        "total_accounts": len(items),
        "by_status": _count(a.bank_link_status for a in items),
        "by_provider": _count(a.provider for a in items),
        "by_currency": _count(a.currency for a in items),
        "balance_summary": {"total_balance_cents": sum(a.balance for a in items)},
    }
    return Reply(
        200,
        paginate(
            ctx,
            items,
            lambda a: bank_account_view(books, a, summary=True),
            extra={"statistics": statistics},
        ),
    )


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[str(value)] = counts.get(str(value), 0) + 1
    return counts


@handles("retrieve_bank_account")
def retrieve_bank_account(ctx: Context) -> Reply:
    account = get_or_404(ctx.books.bank_accounts, ctx.param("bank_account_id"), "bank_account")
    return Reply(200, bank_account_view(ctx.books, account, summary=False))
