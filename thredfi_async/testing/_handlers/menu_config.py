"""``thredfi.menu_config``: a business's menu configuration, stored as sent, reset to a default."""

from __future__ import annotations

import copy
from typing import Any

from .._books.state import Books
from .._server.context import Context, Reply, handles

DEFAULT_MENU: dict[str, Any] = {
    "menu": {
        "insights": True,
        "tasks": False,
        "bank_transactions": False,
        "general_ledger": True,
        "reports": True,
        "accounts_receivable": True,
        "accounts_payable": False,
    },
    "sub_menu_tabs": {
        "reports.balance_sheet": True,
        "reports.profit_and_loss": True,
        "reports.cashflow_statement": True,
    },
}


def _menu(books: Books) -> dict[str, Any]:
    if books.menu is None:
        books.menu = copy.deepcopy(DEFAULT_MENU)
    return books.menu


@handles("get_menu_config")
def get_menu_config(ctx: Context) -> Reply:
    """A read: the defaults are shown, not stored (reads change nothing)."""
    return Reply(200, copy.deepcopy(ctx.books.menu or DEFAULT_MENU))


@handles("update_menu_config")
def update_menu_config(ctx: Context) -> Reply:
    menu = _menu(ctx.books)
    menu["menu"].update(ctx.body.get("menu") or {})
    menu["sub_menu_tabs"].update(ctx.body.get("sub_menu_tabs") or {})
    return Reply(200, copy.deepcopy(menu))


@handles("reset_menu_config")
def reset_menu_config(ctx: Context) -> Reply:
    ctx.books.menu = None
    return Reply(200, copy.deepcopy(_menu(ctx.books)))
