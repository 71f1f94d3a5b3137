"""Reports computed from the ledger and the open documents, never canned.

Every figure is integer minor units of the base currency. The documented identities hold by
construction (docs/api-behaviour.md, "Ledger and reports"): assets = non-current + current; net
assets = assets - liabilities = equity, where retained earnings include the accumulated profit; the
P&L ladder runs from net revenue to net profit; the cash-flow statement (indirect method) reconciles
opening cash plus the net change to the closing cash on the cash accounts. Aging reports bucket what
is still owed on the as-of date by days past due (no due date counts as current)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any

from .._books.ledger import CODES, Ledger, LedgerAccount
from .._books.state import Application, Books, Party, TradeDocument
from .._server.context import Context, Reply, handles
from .._server.errors import field_error
from .._server.values import iso_date, parse_date

_INCOME_SUBTYPES = ("revenue", "other_operating_income", "finance_income")
_EXPENSE_SUBTYPES = ("direct_costs", "operating_expenses", "finance_costs", "income_tax")
_BUCKETS = ("current", "days_1_30", "days_31_60", "days_61_90", "over_90_days")


def _natural(account: LedgerAccount, debit_minus_credit: int) -> int:
    """A movement in the report's sign: debit-positive for assets/expenses, else credit."""
    if account.account_type in ("asset", "expense"):
        return debit_minus_credit
    return -debit_minus_credit


def _section(
    ledger: Ledger,
    values: dict[str, int],
    display_name: str,
    detailed: bool,
    extra_lines: Iterable[dict[str, Any]] = (),
) -> dict[str, Any]:
    """A report section from report-signed ``values`` per account id; lines only when detailed."""
    lines = [
        {
            "account_id": account_id,
            "account_code": ledger.accounts[account_id].code,
            "account_name": ledger.accounts[account_id].name,
            "value_cents": value,
        }
        for account_id, value in sorted(
            values.items(), key=lambda pair: ledger.accounts[pair[0]].code
        )
        if value
    ]
    total = sum(values.values())
    for line in extra_lines:
        total += line["value_cents"]
        lines.append(line)
    return {
        "display_name": display_name,
        "total_cents": total,
        "line_items": lines if detailed else [],
    }


def _subtype_values(ledger: Ledger, movements: dict[str, int], subtype: str) -> dict[str, int]:
    """The subtype's accounts' movements in the report's sign (see :func:`_natural`)."""
    return {
        a.id: _natural(a, movements.get(a.id, 0))
        for a in ledger.accounts.values()
        if a.account_subtype == subtype
    }


def _revenue_and_expenses(ledger: Ledger, values: dict[str, int]) -> tuple[int, int]:
    revenue = sum(
        -values.get(a.id, 0) for a in ledger.accounts.values() if a.account_type == "revenue"
    )
    expenses = sum(
        values.get(a.id, 0) for a in ledger.accounts.values() if a.account_type == "expense"
    )
    return revenue, expenses


def _profit(ledger: Ledger, values: dict[str, int]) -> int:
    revenue, expenses = _revenue_and_expenses(ledger, values)
    return revenue - expenses


def _header(books: Books, **fields: Any) -> dict[str, Any]:
    return {"business_id": books.id, **fields, "currency": books.currency}


def _detail_level(ctx: Context) -> str:
    return str(ctx.filter("detail_level") or "summary")


def _range(ctx: Context) -> tuple[date, date]:
    start = parse_date(ctx.filter("start_date"), "start_date")
    end = parse_date(ctx.filter("end_date"), "end_date")
    if start is None or end is None:  # both are required by the spec, so validated already
        raise field_error("start_date" if start is None else "end_date", "This field is required.")
    if start > end:
        raise field_error("end_date", "end_date must not be before start_date.")
    return start, end


# -- balance sheet ---------------------------------------------------------------------------


def balance_sheet(books: Books, as_of: date, detail_level: str) -> dict[str, Any]:
    ledger = books.ledger
    detailed = detail_level == "detailed"
    values = ledger.movements(until=as_of)

    def section(subtype: str, name: str, extra: Iterable[dict[str, Any]] = ()) -> dict[str, Any]:
        return _section(ledger, _subtype_values(ledger, values, subtype), name, detailed, extra)

    retained = ledger.account(CODES.RETAINED_EARNINGS)
    profit_line = {
        "account_id": retained.id,
        "account_code": retained.code,
        "account_name": "Current period profit",
        "value_cents": _profit(ledger, values),
    }
    sections = {
        "non_current_assets": section("non_current_assets", "Non-current Assets"),
        "current_assets": section("current_assets", "Current Assets"),
        "current_liabilities": section("current_liabilities", "Current Liabilities"),
        "non_current_liabilities": section("non_current_liabilities", "Non-current Liabilities"),
        "share_capital": section("share_capital", "Share Capital"),
        "share_premium": section("share_premium", "Share Premium"),
        "reserves": section("reserves", "Reserves"),
        "retained_earnings": section("retained_earnings", "Retained Earnings", [profit_line]),
    }
    non_current = sections["non_current_assets"]["total_cents"]
    current = sections["current_assets"]["total_cents"]
    current_liabilities = sections["current_liabilities"]["total_cents"]
    non_current_liabilities = sections["non_current_liabilities"]["total_cents"]
    equity = sum(
        sections[key]["total_cents"]
        for key in ("share_capital", "share_premium", "reserves", "retained_earnings")
    )
    assets = non_current + current
    liabilities = current_liabilities + non_current_liabilities
    return {
        **_header(books, as_of_date=iso_date(as_of), detail_level=detail_level),
        "summary": {
            "total_assets_cents": assets,
            "total_non_current_assets_cents": non_current,
            "total_current_assets_cents": current,
            "total_liabilities_cents": liabilities,
            "total_current_liabilities_cents": current_liabilities,
            "total_non_current_liabilities_cents": non_current_liabilities,
            "total_equity_cents": equity,
            "net_assets_cents": assets - liabilities,
        },
        **sections,
    }


@handles("get_balance_sheet")
def get_balance_sheet(ctx: Context) -> Reply:
    as_of = parse_date(ctx.filter("as_of_date"), "as_of_date") or ctx.today
    return Reply(200, balance_sheet(ctx.books, as_of, _detail_level(ctx)))


# -- profit and loss -------------------------------------------------------------------------


def profit_and_loss(books: Books, start: date, end: date, detail_level: str) -> dict[str, Any]:
    ledger = books.ledger
    detailed = detail_level == "detailed"
    values = ledger.movements(since=start, until=end)
    names = {
        "revenue": "Revenue",
        "other_operating_income": "Other Operating Income",
        "direct_costs": "Direct Costs",
        "operating_expenses": "Operating Expenses",
        "finance_income": "Finance Income",
        "finance_costs": "Finance Costs",
        "income_tax": "Income Tax",
    }
    sections = {
        key: _section(ledger, _subtype_values(ledger, values, key), name, detailed)
        for key, name in names.items()
    }
    totals = {key: section["total_cents"] for key, section in sections.items()}
    operating_income = totals["revenue"] + totals["other_operating_income"]
    gross = operating_income - totals["direct_costs"]
    operating = gross - totals["operating_expenses"]
    before_tax = operating + totals["finance_income"] - totals["finance_costs"]
    return {
        **_header(
            books,
            start_date=iso_date(start),
            end_date=iso_date(end),
            detail_level=detail_level,
        ),
        "summary": {
            "net_revenue_cents": totals["revenue"],
            "total_operating_income_cents": operating_income,
            "gross_profit_cents": gross,
            "total_operating_expenses_cents": totals["operating_expenses"],
            "operating_profit_cents": operating,
            "profit_before_tax_cents": before_tax,
            "net_profit_cents": before_tax - totals["income_tax"],
        },
        **sections,
    }


@handles("get_profit_and_loss")
def get_profit_and_loss(ctx: Context) -> Reply:
    start, end = _range(ctx)
    return Reply(200, profit_and_loss(ctx.books, start, end, _detail_level(ctx)))


# -- financial summary -----------------------------------------------------------------------


def _periods(start: date, end: date, granularity: str) -> list[tuple[date, date]]:
    months = {"monthly": 1, "quarterly": 3, "yearly": 12}[granularity]
    periods = []
    month_index = start.year * 12 + start.month - 1
    month_index -= month_index % months  # calendar-aligned (quarters are Q1-Q4)
    while month_index // 12 <= date.max.year:
        first = date(month_index // 12, month_index % 12 + 1, 1)
        if first > end:
            break
        following = month_index + months
        if following // 12 > date.max.year:  # the period that ends the calendar
            last = date.max
        else:
            last = date(following // 12, following % 12 + 1, 1) - timedelta(days=1)
        periods.append((max(first, start), min(last, end)))
        month_index = following
    return periods


@handles("get_financial_summary")
def get_financial_summary(ctx: Context) -> Reply:
    books = ctx.books
    ledger = books.ledger
    start, end = _range(ctx)
    granularity = str(ctx.filter("granularity") or "monthly")
    trends = []
    revenue_total = expenses_total = 0
    for first, last in _periods(start, end, granularity):
        revenue, expenses = _revenue_and_expenses(ledger, ledger.movements(since=first, until=last))
        revenue_total += revenue
        expenses_total += expenses
        trends.append(
            {
                "period_start": iso_date(first),
                "period_end": iso_date(last),
                "revenue_cents": revenue,
                "expenses_cents": expenses,
                "net_profit_cents": revenue - expenses,
            }
        )
    body = {
        **_header(
            books, start_date=iso_date(start), end_date=iso_date(end), granularity=granularity
        ),
        "summary": {
            "total_revenue_cents": revenue_total,
            "total_expenses_cents": expenses_total,
            "net_profit_cents": revenue_total - expenses_total,
        },
        "trends": trends,
    }
    return Reply(200, body)


# -- cash flow -------------------------------------------------------------------------------


def cash_flow(books: Books, start: date, end: date, detail_level: str) -> dict[str, Any]:
    ledger = books.ledger
    detailed = detail_level == "detailed"
    cash_accounts = [a for a in ledger.accounts.values() if a.is_cash_account]
    opening = (
        0
        if start == date.min  # nothing can come before year 1 (and start - 1 day overflows)
        else sum(ledger.movement(a, until=start - timedelta(days=1)) for a in cash_accounts)
    )
    closing = sum(ledger.movement(a, until=end) for a in cash_accounts)
    net_profit = _profit(ledger, ledger.movements(since=start, until=end))
    buckets: dict[str, dict[str, int]] = {
        "non_cash": {},
        "working_capital": {},
        "investing": {},
        "financing": {},
    }
    for entry in ledger.entries.values():
        if not start <= entry.entry_date <= end:
            continue
        non_cash_entry = any(
            ledger.accounts[line.account_id].is_non_cash_expense for line in entry.lines
        )
        for line in entry.lines:
            account = ledger.accounts[line.account_id]
            if account.is_cash_account or account.account_type in ("revenue", "expense"):
                continue
            subtype = account.account_subtype
            if non_cash_entry and subtype == "non_current_assets":
                bucket = "non_cash"
            elif subtype in ("current_assets", "current_liabilities"):
                bucket = "working_capital"
            elif subtype == "non_current_assets":
                bucket = "investing"
            else:
                bucket = "financing"
            # Cash impact: a debit to a non-cash balance-sheet account uses cash.
            impact = line.credit - line.debit
            buckets[bucket][account.id] = buckets[bucket].get(account.id, 0) + impact

    adjustments = _section(ledger, buckets["non_cash"], "Non-cash Adjustments", detailed)
    working_capital = _section(
        ledger, buckets["working_capital"], "Working Capital Changes", detailed
    )
    investing = _section(ledger, buckets["investing"], "Investing Activities", detailed)
    financing = _section(ledger, buckets["financing"], "Financing Activities", detailed)
    operating_total = net_profit + adjustments["total_cents"] + working_capital["total_cents"]
    net_change = operating_total + investing["total_cents"] + financing["total_cents"]
    return {
        **_header(
            books,
            start_date=iso_date(start),
            end_date=iso_date(end),
            detail_level=detail_level,
        ),
        "summary": {
            "net_cash_from_operating_cents": operating_total,
            "net_cash_from_investing_cents": investing["total_cents"],
            "net_cash_from_financing_cents": financing["total_cents"],
            "net_change_in_cash_cents": net_change,
            "opening_cash_cents": opening,
            "closing_cash_cents": closing,
        },
        "cash_reconciliation": {
            "opening_cash_cents": opening,
            "net_change_cents": net_change,
            "calculated_closing_cents": opening + net_change,
            "actual_closing_cents": closing,
            "reconciles": opening + net_change == closing,
        },
        "operating_activities": {
            "net_profit_cents": net_profit,
            "non_cash_adjustments": adjustments,
            "working_capital_changes": working_capital,
        },
        "investing_activities": investing,
        "financing_activities": financing,
    }


@handles("get_cash_flow_statement")
def get_cash_flow_statement(ctx: Context) -> Reply:
    start, end = _range(ctx)
    return Reply(200, cash_flow(ctx.books, start, end, _detail_level(ctx)))


# -- aging -----------------------------------------------------------------------------------


def _bucket(as_of: date, due: date | None) -> str:
    days = (as_of - due).days if due is not None else 0
    if days <= 0:
        return "current"
    if days <= 30:
        return "days_1_30"
    if days <= 60:
        return "days_31_60"
    if days <= 90:
        return "days_61_90"
    return "over_90_days"


def _aging(
    rows: Iterable[tuple[str, str, int, date | None]], as_of: date, detailed: bool
) -> tuple[dict[str, int], list[dict[str, Any]]]:
    totals = dict.fromkeys(_BUCKETS, 0)
    parties: dict[str, tuple[str, dict[str, int]]] = {}
    for party_id, party_name, amount, due in rows:
        bucket = _bucket(as_of, due)
        totals[bucket] += amount
        party = parties.setdefault(party_id, (party_name, dict.fromkeys(_BUCKETS, 0)))
        party[1][bucket] += amount
    ranked = sorted(parties.items(), key=lambda item: (-sum(item[1][1].values()), item[1][0]))
    breakdown: list[dict[str, Any]] = [
        {"id": pid, "name": name, "total": sum(buckets.values()), "buckets": buckets}
        for pid, (name, buckets) in ranked
    ]
    return totals, breakdown if detailed else []


def _outstanding_on(total: int, applications: Iterable[Application], as_of: date) -> int:
    return total - sum(a.amount for a in applications if a.on <= as_of)


def _aging_report(
    ctx: Context, party: str, documents: Iterable[TradeDocument], parties: Mapping[str, Party]
) -> Reply:
    """AR and AP aging alike: what is still owed per ``party`` ("customer" or "vendor")."""
    books = ctx.books
    as_of = parse_date(ctx.filter("as_of_date"), "as_of_date") or ctx.today
    group_by = str(ctx.filter("group_by") or party)
    rows = []
    for document in documents:
        if document.voided_at is not None and document.voided_at.date() <= as_of:
            continue
        if document.issued_on > as_of:
            continue
        amount = _outstanding_on(document.total, document.applications, as_of)
        if amount > 0:
            owner = parties[document.party_id]
            due = document.due_at.date() if document.due_at else None
            rows.append((owner.id, owner.display_name, amount, due))
    totals, breakdown = _aging(rows, as_of, group_by == party)
    body: dict[str, Any] = {
        **_header(books, as_of_date=iso_date(as_of), group_by=group_by),
        "total_outstanding_cents": sum(totals.values()),
        "total_aging_buckets": totals,
    }
    if group_by == party:
        body[f"{party}s"] = [
            {
                f"{party}_id": row["id"],
                f"{party}_name": row["name"],
                "total_outstanding_cents": row["total"],
                "aging_buckets": row["buckets"],
            }
            for row in breakdown
        ]
    return Reply(200, body)


@handles("get_ar_aging")
def get_ar_aging(ctx: Context) -> Reply:
    return _aging_report(ctx, "customer", ctx.books.invoices.values(), ctx.books.customers)


@handles("get_ap_aging")
def get_ap_aging(ctx: Context) -> Reply:
    return _aging_report(ctx, "vendor", ctx.books.bills.values(), ctx.books.vendors)
