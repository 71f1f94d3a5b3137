"""``thredfi.accounts``: the chart of accounts as the API exposes it.

Accounts are looked up by UUID, code or ``external_id`` everywhere (docs/api-behaviour.md,
"Ledger accounts"). A parent's balance includes its descendants'. Archiving is refused while
the balance is non-zero or active children remain. ``total_debits``/``total_credits`` on the
detail are counts of lines, which is what the documented examples (234, 189) look like. An
account's entries are the lines posted to that account itself.
"""

from __future__ import annotations

from datetime import MAXYEAR, MINYEAR, date, timedelta
from typing import Any

from .._books.ledger import ACCOUNT_SUBTYPES, LedgerAccount
from .._books.money import format_money
from .._books.state import Books
from .._server.context import Context, Reply, handles
from .._server.errors import ApiError, field_error, not_found, validation_error
from .._server.pagination import paginate
from .._server.values import iso, iso_date, parse_date, start_of, text

_TYPE_ORDER = {kind: index for index, kind in enumerate(ACCOUNT_SUBTYPES)}


def _display(value: str) -> str:
    return value.replace("non_current", "non-current").replace("_", " ").title()


def account_view(
    books: Books,
    account: LedgerAccount,
    *,
    period_balance: int | None = None,
    detail: bool = False,
) -> dict[str, Any]:
    ledger = books.ledger
    currency = books.currency
    balance = ledger.rolled_up_balance(account)
    natural = balance if account.debit_normal else -balance
    parent = ledger.accounts[account.parent_id] if account.parent_id else None
    view: dict[str, Any] = {
        "id": account.id,
        "code": account.code,
        "name": account.name,
        "currency": currency,
        "account_type": account.account_type,
        "account_type_display": _display(account.account_type),
        "account_subtype": account.account_subtype,
        "account_subtype_display": _display(account.account_subtype),
        "parent_account_code": parent.code if parent else None,
        "current_balance": balance,
        "current_balance_formatted": format_money(balance, currency),
        "debit_balance": natural if natural > 0 else 0,
        "credit_balance": -natural if natural < 0 else 0,
        "period_balance": period_balance,
        "period_balance_formatted": (
            format_money(period_balance, currency) if period_balance is not None else None
        ),
        "has_children": bool(account.children),
        "hierarchy_level": ledger.depth(account),
        "is_active": account.is_active,
    }
    if detail:
        view.update(
            {
                "description": account.description,
                "institution_name": account.institution_name,
                "iban": account.iban,
                "sort_code": account.sort_code,
                "account_number_mask": account.account_number_mask,
                "total_debits": account.debit_count,
                "total_credits": account.credit_count,
                "last_entry_date": iso(start_of(account.last_entry_date))
                if account.last_entry_date
                else None,
                "last_entry_reference": account.last_entry_reference,
                "sub_accounts": [
                    account_view(books, ledger.accounts[child]) for child in account.children
                ],
            }
        )
    return view


def _account_or_404(books: Books, reference: str) -> LedgerAccount:
    account = books.ledger.lookup(reference)
    if account is None:
        raise not_found("account", reference)
    return account


def _period_balance(books: Books, account: LedgerAccount, since: date, until: date) -> int:
    ledger = books.ledger
    total = ledger.movement(account, since=since, until=until)
    for child in ledger.descendants(account):
        total += ledger.movement(child, since=since, until=until)
    return account.signed(total)


def _year(ctx: Context, name: str) -> int | None:
    """A year filter; one a date cannot hold is a 400, not a crash in ``date()``."""
    year: int | None = ctx.typed_filter(name, "integer")
    if year is not None and year < MINYEAR:
        raise field_error(name, f"Ensure this value is greater than or equal to {MINYEAR}.")
    if year is not None and year > MAXYEAR:
        raise field_error(name, f"Ensure this value is less than or equal to {MAXYEAR}.")
    return year


def _period(ctx: Context) -> tuple[date, date] | None:
    year, month = _year(ctx, "period_year"), ctx.typed_filter("period_month", "integer")
    if (year is None) != (month is None):
        raise validation_error(
            {
                "period_month" if month is None else "period_year": [
                    "Send period_year and period_month together."
                ]
            }
        )
    if year is not None and month is not None:
        if not 1 <= month <= 12:
            raise field_error("period_month", "Ensure this value is between 1 and 12.")
        start = date(year, month, 1)
        end = date(year, 12, 31) if month == 12 else date(year, month + 1, 1) - timedelta(days=1)
        return start, end
    fiscal_year = _year(ctx, "fiscal_year")
    if fiscal_year is not None:
        return date(fiscal_year, 1, 1), date(fiscal_year, 12, 31)
    return None


@handles("list_chart_of_accounts")
def list_chart_of_accounts(ctx: Context) -> Reply:
    books = ctx.books
    ledger = books.ledger
    items = sorted(ledger.accounts.values(), key=lambda a: a.code)
    kind = ctx.filter("account_type")
    if kind:
        items = [a for a in items if a.account_type == kind]
    search = ctx.filter("search")
    if search:
        needle = str(search).lower()
        items = [a for a in items if needle in a.name.lower() or needle in a.code.lower()]
    include_zero = ctx.filter("include_zero_balance")
    if include_zero is False:
        items = [a for a in items if ledger.rolled_up_balance(a) != 0]
    if ctx.filter("group_by") == "type":
        items.sort(key=lambda a: (_TYPE_ORDER[a.account_type], a.code))
    period = _period(ctx)

    def render(account: LedgerAccount) -> dict[str, Any]:
        balance = _period_balance(books, account, *period) if period else None
        return account_view(books, account, period_balance=balance)

    return Reply(200, paginate(ctx, items, render))


def _check_subtype(account_type: str, subtype: Any) -> str:
    allowed = ACCOUNT_SUBTYPES[account_type]
    if subtype in (None, ""):
        return allowed[0]
    if subtype not in allowed:
        raise field_error(
            "account_subtype",
            f'"{subtype}" is not a subtype of {account_type}: use one of {", ".join(allowed)}.',
        )
    return str(subtype)


def _check_code(books: Books, code: str, account: LedgerAccount | None = None) -> None:
    existing = books.ledger.by_code.get(code)
    if existing is not None and (account is None or existing != account.id):
        raise field_error("code", f'An account with code "{code}" already exists.')


def _resolve_parent(books: Books, reference: Any, account_type: str) -> LedgerAccount | None:
    if reference in (None, ""):
        return None
    parent = books.ledger.lookup(str(reference))
    if parent is None:
        raise field_error("parent_id", f'Parent account "{reference}" does not exist.')
    if parent.account_type != account_type:
        raise field_error("parent_id", "A parent account must have the same account type.")
    return parent


def _optional_fields(body: dict[str, Any]) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for key in ("institution_name", "iban", "sort_code", "account_number_mask", "description"):
        if key in body:
            extra[key] = text(body, key)
    if "custom_fields" in body:
        extra["custom_fields"] = body["custom_fields"]
    return extra


@handles("create_account")
def create_account(ctx: Context) -> Reply:
    books = ctx.books
    body = ctx.body
    ledger = books.ledger
    external_id = text(body, "external_id")
    if external_id and external_id in ledger.by_external:
        account = ledger.accounts[ledger.by_external[external_id]]
        return Reply(200, account_view(books, account, detail=True))
    account_type = str(body["account_type"])
    parent = _resolve_parent(books, body.get("parent_id"), account_type)
    subtype = _check_subtype(
        account_type, body.get("account_subtype") or (parent.account_subtype if parent else None)
    )
    code = str(body["code"])
    _check_code(books, code)
    if body.get("is_non_cash_expense") and account_type != "expense":
        raise field_error("is_non_cash_expense", "Only expense accounts can be non-cash expenses.")
    account = ledger.add_account(
        code=code,
        name=str(body["name"]),
        account_type=account_type,
        account_subtype=subtype,
        parent_id=parent.id if parent else None,
        external_id=external_id,
        balance_behavior=str(body.get("balance_behavior") or ""),
        is_cash_account=bool(body.get("is_cash_account", False)),
        is_non_cash_expense=bool(body.get("is_non_cash_expense", False)),
        **_optional_fields(body),
    )
    return Reply(201, account_view(books, account, detail=True))


@handles("create_child_account")
def create_child_account(ctx: Context) -> Reply:
    books = ctx.books
    body = ctx.body
    ledger = books.ledger
    parent = _account_or_404(books, ctx.param("account_id"))
    external_id = text(body, "external_id")
    if external_id and external_id in ledger.by_external:
        account = ledger.accounts[ledger.by_external[external_id]]
        return Reply(200, account_view(books, account, detail=True))
    if not parent.is_active:
        raise ApiError(400, "account_inactive", "Children cannot be added to an archived account.")
    code = str(body["code"])
    _check_code(books, code)
    account = ledger.add_account(
        code=code,
        name=str(body["name"]),
        account_type=parent.account_type,
        account_subtype=parent.account_subtype,
        parent_id=parent.id,
        external_id=external_id,
        is_cash_account=parent.is_cash_account,
        is_non_cash_expense=parent.is_non_cash_expense,
        **_optional_fields(body),
    )
    return Reply(201, account_view(books, account, detail=True))


@handles("get_account_detail")
def get_account_detail(ctx: Context) -> Reply:
    account = _account_or_404(ctx.books, ctx.param("account_id"))
    return Reply(200, account_view(ctx.books, account, detail=True))


@handles("update_account")
def update_account(ctx: Context) -> Reply:
    """Every change is checked before any is made: a refused update keeps the account as it was."""
    books = ctx.books
    body = ctx.body
    ledger = books.ledger
    account = _account_or_404(books, ctx.param("account_id"))
    code = str(body["code"]) if "code" in body else account.code
    _check_code(books, code, account)
    subtype = account.account_subtype
    if "account_subtype" in body:
        subtype = _check_subtype(account.account_type, body["account_subtype"])
    parent_id = account.parent_id
    if "parent_id" in body:
        parent = _resolve_parent(books, body["parent_id"], account.account_type)
        if parent is not None and (
            parent.id == account.id or parent in ledger.descendants(account)
        ):
            raise field_error("parent_id", "An account cannot be its own ancestor.")
        parent_id = parent.id if parent else None
    external_id = account.external_id
    if "external_id" in body:
        external_id = text(body, "external_id")
        other = ledger.by_external.get(external_id or "")
        if other is not None and other != account.id:
            raise field_error("external_id", "Another account already uses this external_id.")
    if body.get("is_non_cash_expense") and account.account_type != "expense":
        raise field_error("is_non_cash_expense", "Only expense accounts can be non-cash expenses.")
    if code != account.code:
        del ledger.by_code[account.code]
        account.code = code
        ledger.by_code[code] = account.id
    if "name" in body:
        account.name = str(body["name"])
    account.account_subtype = subtype
    if "parent_id" in body:
        if account.parent_id:
            ledger.accounts[account.parent_id].children.remove(account.id)
        account.parent_id = parent_id
        if parent_id:
            ledger.accounts[parent_id].children.append(account.id)
    if "external_id" in body:
        if account.external_id:
            ledger.by_external.pop(account.external_id, None)
        account.external_id = external_id
        if external_id:
            ledger.by_external[external_id] = account.id
    for key in ("is_cash_account", "is_non_cash_expense"):
        if key in body:
            setattr(account, key, bool(body[key]))
    if "balance_behavior" in body:
        account.balance_behavior = str(body["balance_behavior"] or "")
    for key, value in _optional_fields(body).items():
        setattr(account, key, value)
    account.updated_at = ctx.now
    return Reply(200, account_view(books, account, detail=True))


@handles("archive_account")
def archive_account(ctx: Context) -> Reply:
    books = ctx.books
    ledger = books.ledger
    account = _account_or_404(books, ctx.param("account_id"))
    balance = ledger.rolled_up_balance(account)
    if balance != 0:
        raise ApiError(
            400,
            "account_has_balance",
            "An account with a non-zero balance cannot be archived.",
            detail={"current_balance": balance},
        )
    active_children = [c for c in account.children if ledger.accounts[c].is_active]
    if active_children:
        raise ApiError(
            400,
            "account_has_active_children",
            "Archive the account's active sub-accounts first.",
            detail={"active_children": [ledger.accounts[c].code for c in active_children]},
        )
    account.is_active = False
    account.updated_at = ctx.now
    return Reply(200, account_view(books, account, detail=True))


@handles("get_chart_of_accounts_hierarchy")
def get_chart_of_accounts_hierarchy(ctx: Context) -> Reply:
    books = ctx.books
    ledger = books.ledger

    def tree(account: LedgerAccount) -> dict[str, Any]:
        node = account_view(books, account)
        node["sub_accounts"] = [
            tree(ledger.accounts[child])
            for child in sorted(account.children, key=lambda c: ledger.accounts[c].code)
        ]
        return node

    roots = sorted(
        (a for a in ledger.accounts.values() if a.parent_id is None), key=lambda a: a.code
    )
    return Reply(
        200, {"hierarchy": [tree(a) for a in roots], "total_accounts": len(ledger.accounts)}
    )


@handles("get_account_entries")
def get_account_entries(ctx: Context) -> Reply:
    books = ctx.books
    ledger = books.ledger
    account = _account_or_404(books, ctx.param("account_id"))
    start = parse_date(ctx.filter("start_date"), "start_date")
    end = parse_date(ctx.filter("end_date"), "end_date")
    if start and end and start > end:
        raise field_error("end_date", "end_date must not be before start_date.")
    lines = sorted(ledger.lines_by_account[account.id], key=lambda x: (x.entry_date, x.sequence))
    opening = 0
    selected = []
    for line in lines:
        if start is not None and line.entry_date < start:
            opening += line.debit - line.credit
        elif end is None or line.entry_date <= end:
            selected.append(line)
    running = opening
    rows = []
    for line in selected:
        running += line.debit - line.credit
        rows.append((line, account.signed(running)))
    closing = account.signed(running)

    def render(row: Any) -> dict[str, Any]:
        line, balance = row
        entry = ledger.entries[line.entry_id]
        return {
            "id": line.id,
            "journal_entry_id": entry.id,
            "sequence_number": f"JE-{entry.sequence:06d}",
            "line_number": line.line_number,
            "entry_date": iso_date(line.entry_date),
            "reference": entry.reference,
            "description": line.description,
            "debit_amount": line.debit,
            "credit_amount": line.credit,
            "running_balance_cents": balance,
            "source_type": entry.source_type,
            "source_document_type": entry.source_type,
            "source_reference": entry.source_id,
        }

    return Reply(
        200,
        paginate(
            ctx,
            rows,
            render,
            extra={
                "opening_balance_cents": account.signed(opening),
                "closing_balance_cents": closing,
            },
        ),
    )
