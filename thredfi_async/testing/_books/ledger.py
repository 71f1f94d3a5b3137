"""The general ledger behind every figure the fake reports.

Business activity becomes balanced journal entries, posted at once, so that reports (which
count drafts) and account balances (which count posted entries) agree (docs/api-behaviour.md,
"Ledger and reports"). Each source document (an invoice, a payment...) owns the lines it
last posted; when the document changes, the old lines are reversed and the new ones posted, so the
journal keeps a true history while balances always reflect the current state. Reports read these
lines, never canned numbers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .journal import Tracked, record

__all__ = [
    "ACCOUNT_SUBTYPES",
    "CODES",
    "DEFAULT_CHART",
    "JournalEntry",
    "JournalLine",
    "Ledger",
    "LedgerAccount",
    "Posting",
]

ACCOUNT_SUBTYPES: dict[str, tuple[str, ...]] = {
    "asset": ("current_assets", "non_current_assets"),
    "liability": ("current_liabilities", "non_current_liabilities"),
    "equity": ("share_capital", "share_premium", "reserves", "retained_earnings"),
    "revenue": ("revenue", "other_operating_income", "finance_income"),
    "expense": ("direct_costs", "operating_expenses", "finance_costs", "income_tax"),
}
DEBIT_NORMAL = frozenset({"asset", "expense"})


class CODES:
    """Codes of the provisioned accounts the fake posts activity to."""

    BANK = "1000"
    RECEIVABLES = "1100"
    VENDOR_PREPAYMENTS = "1200"
    VENDOR_REFUNDS_RECEIVABLE = "1250"
    EQUIPMENT = "1500"
    PAYABLES = "2000"
    CUSTOMER_CREDITS = "2100"
    REFUNDS_PAYABLE = "2150"
    VAT = "2200"
    LOANS = "2500"
    SHARE_CAPITAL = "3000"
    RETAINED_EARNINGS = "3200"
    SALES = "4000"
    SALES_RETURNS = "4100"
    TIPS = "4200"
    INTEREST_INCOME = "4500"
    COST_OF_SALES = "5000"
    OPERATING_EXPENSES = "6000"
    PROCESSING_FEES = "6100"
    DEPRECIATION = "6200"
    INTEREST_EXPENSE = "7000"
    CORPORATION_TAX = "8000"


# code, name, type, subtype, parent code, cash, non-cash expense
DEFAULT_CHART: tuple[tuple[str, str, str, str, str | None, bool, bool], ...] = (
    (CODES.BANK, "Bank Current Account", "asset", "current_assets", None, True, False),
    (CODES.RECEIVABLES, "Accounts Receivable", "asset", "current_assets", None, False, False),
    ("1150", "Other Receivables", "asset", "current_assets", None, False, False),
    (
        CODES.VENDOR_PREPAYMENTS,
        "Vendor Prepayments and Credits",
        "asset",
        "current_assets",
        "1150",
        False,
        False,
    ),
    (
        CODES.VENDOR_REFUNDS_RECEIVABLE,
        "Vendor Refunds Receivable",
        "asset",
        "current_assets",
        "1150",
        False,
        False,
    ),
    (CODES.EQUIPMENT, "Equipment", "asset", "non_current_assets", None, False, False),
    (CODES.PAYABLES, "Accounts Payable", "liability", "current_liabilities", None, False, False),
    (
        CODES.CUSTOMER_CREDITS,
        "Customer Credits and Prepayments",
        "liability",
        "current_liabilities",
        None,
        False,
        False,
    ),
    (
        CODES.REFUNDS_PAYABLE,
        "Refunds Payable",
        "liability",
        "current_liabilities",
        None,
        False,
        False,
    ),
    (CODES.VAT, "VAT Control", "liability", "current_liabilities", None, False, False),
    (CODES.LOANS, "Long-term Loans", "liability", "non_current_liabilities", None, False, False),
    (CODES.SHARE_CAPITAL, "Share Capital", "equity", "share_capital", None, False, False),
    (
        CODES.RETAINED_EARNINGS,
        "Retained Earnings",
        "equity",
        "retained_earnings",
        None,
        False,
        False,
    ),
    (CODES.SALES, "Sales Revenue", "revenue", "revenue", None, False, False),
    (CODES.SALES_RETURNS, "Sales Returns and Refunds", "revenue", "revenue", None, False, False),
    (CODES.TIPS, "Tips Income", "revenue", "other_operating_income", None, False, False),
    (CODES.INTEREST_INCOME, "Interest Income", "revenue", "finance_income", None, False, False),
    (CODES.COST_OF_SALES, "Cost of Sales", "expense", "direct_costs", None, False, False),
    (
        CODES.OPERATING_EXPENSES,
        "Operating Expenses",
        "expense",
        "operating_expenses",
        None,
        False,
        False,
    ),
    (
        CODES.PROCESSING_FEES,
        "Payment Processing Fees",
        "expense",
        "operating_expenses",
        CODES.OPERATING_EXPENSES,
        False,
        False,
    ),
    (
        CODES.DEPRECIATION,
        "Depreciation",
        "expense",
        "operating_expenses",
        CODES.OPERATING_EXPENSES,
        False,
        True,
    ),
    (CODES.INTEREST_EXPENSE, "Interest Expense", "expense", "finance_costs", None, False, False),
    (CODES.CORPORATION_TAX, "Corporation Tax", "expense", "income_tax", None, False, False),
)


@record()
class LedgerAccount(Tracked):
    id: str
    code: str
    name: str
    account_type: str
    account_subtype: str
    created_at: datetime
    updated_at: datetime
    description: str | None = None
    parent_id: str | None = None
    external_id: str | None = None
    is_active: bool = True
    is_cash_account: bool = False
    is_non_cash_expense: bool = False
    balance_behavior: str = ""
    institution_name: str | None = None
    iban: str | None = None
    sort_code: str | None = None
    account_number_mask: str | None = None
    custom_fields: Any = None
    children: list[str] = field(default_factory=list)
    debit_total: int = 0
    credit_total: int = 0
    debit_count: int = 0
    credit_count: int = 0
    last_entry_date: date | None = None
    last_entry_reference: str | None = None

    @property
    def debit_normal(self) -> bool:
        if self.balance_behavior == "debit_positive":
            return True
        if self.balance_behavior == "credit_positive":
            return False
        return self.account_type in DEBIT_NORMAL

    def signed(self, debit_minus_credit: int) -> int:
        """A debit-minus-credit figure in this account's own sign convention."""
        return debit_minus_credit if self.debit_normal else -debit_minus_credit

    @property
    def own_balance(self) -> int:
        return self.signed(self.debit_total - self.credit_total)


@record()
class JournalLine(Tracked):
    id: str
    entry_id: str
    line_number: int
    account_id: str
    debit: int
    credit: int
    entry_date: date
    sequence: int
    description: str | None = None
    external_reference: str | None = None


@record()
class JournalEntry(Tracked):
    id: str
    sequence: int
    entry_date: date
    currency: str
    lines: list[JournalLine]
    created_at: datetime
    source_type: str | None
    source_id: str | None
    reference: str | None = None
    description: str | None = None
    created_by: str = "system"
    status: str = "approved"
    is_posted: bool = True

    @property
    def total_debit(self) -> int:
        return sum(line.debit for line in self.lines)

    @property
    def total_credit(self) -> int:
        return sum(line.credit for line in self.lines)


@dataclass(frozen=True, slots=True)
class Posting:
    """One intended ledger movement: positive ``amount`` debits, negative credits."""

    account_id: str
    amount: int
    description: str | None = None


class Ledger(Tracked):
    """Accounts and journal of one business."""

    def __init__(
        self, currency: str, new_id: Callable[[], str], now: Callable[[], datetime]
    ) -> None:
        self.currency = currency
        self._new_id = new_id
        self._now = now
        self.accounts: dict[str, LedgerAccount] = {}
        self.by_code: dict[str, str] = {}
        # The provisioned accounts the fake posts activity to, by their original code: a
        # client may change an account's code (update_account), which must not break posting.
        self.system: dict[str, str] = {}
        self.by_external: dict[str, str] = {}
        self.entries: dict[str, JournalEntry] = {}
        self.lines_by_account: dict[str, list[JournalLine]] = {}
        self._posted: dict[tuple[str, str], tuple[date, tuple[tuple[str, int], ...], str]] = {}
        self._sequence = 0

    # -- chart of accounts -------------------------------------------------------------------

    def provision_default_chart(self) -> None:
        for code, name, kind, subtype, parent, cash, non_cash in DEFAULT_CHART:
            parent_id = self.system[parent] if parent else None
            self.system[code] = self.add_account(
                code=code,
                name=name,
                account_type=kind,
                account_subtype=subtype,
                parent_id=parent_id,
                is_cash_account=cash,
                is_non_cash_expense=non_cash,
            ).id

    def add_account(
        self,
        *,
        code: str,
        name: str,
        account_type: str,
        account_subtype: str,
        parent_id: str | None = None,
        **extra: Any,
    ) -> LedgerAccount:
        now = self._now()
        account = LedgerAccount(
            id=self._new_id(),
            code=code,
            name=name,
            account_type=account_type,
            account_subtype=account_subtype,
            parent_id=parent_id,
            created_at=now,
            updated_at=now,
            **extra,
        )
        self.accounts[account.id] = account
        self.by_code[code] = account.id
        if account.external_id:
            self.by_external[account.external_id] = account.id
        if parent_id:
            self.accounts[parent_id].children.append(account.id)
        self.lines_by_account[account.id] = []
        return account

    def account(self, code: str) -> LedgerAccount:
        """A provisioned account by its original code (``CODES``), else the one with that code."""
        return self.accounts[self.system.get(code) or self.by_code[code]]

    def lookup(self, reference: str) -> LedgerAccount | None:
        """An account by UUID, code or external_id, the three forms the API accepts."""
        found = self.accounts.get(reference)
        if found is None and reference in self.by_code:
            found = self.accounts[self.by_code[reference]]
        if found is None and reference in self.by_external:
            found = self.accounts[self.by_external[reference]]
        return found

    def depth(self, account: LedgerAccount) -> int:
        level = 0
        while account.parent_id is not None:
            account = self.accounts[account.parent_id]
            level += 1
        return level

    def descendants(self, account: LedgerAccount) -> Iterator[LedgerAccount]:
        for child_id in account.children:
            child = self.accounts[child_id]
            yield child
            yield from self.descendants(child)

    def rolled_up_balance(self, account: LedgerAccount) -> int:
        """A parent's balance is its own plus all of its descendants' (docs/api-behaviour.md)."""
        total = account.debit_total - account.credit_total
        for child in self.descendants(account):
            total += child.debit_total - child.credit_total
        return account.signed(total)

    # -- posting -----------------------------------------------------------------------------

    def post_source(
        self,
        source_type: str,
        source_id: str,
        entry_date: date,
        postings: Iterable[Posting],
        *,
        description: str,
        reference: str | None = None,
        reversal_date: date | None = None,
    ) -> JournalEntry | None:
        """Make ``source``'s ledger effect equal ``postings``.

        Nothing happens when the effect is unchanged. Otherwise the previous lines are reversed
        (dated ``reversal_date``, or their own date, so history-wide reports see the current
        state) and the new ones posted.
        """
        merged: dict[str, int] = {}
        for posting in postings:
            if posting.amount:
                merged[posting.account_id] = merged.get(posting.account_id, 0) + posting.amount
        if sum(merged.values()) != 0:
            raise AssertionError(f"unbalanced postings for {source_type} {source_id}: {merged}")
        lines = tuple(sorted((k, v) for k, v in merged.items() if v))
        key = (source_type, source_id)
        previous = self._posted.get(key)
        if previous is not None and previous[0] == entry_date and previous[1] == lines:
            return None
        if previous is not None:
            old_date, old_lines, old_description = previous
            self._write(
                reversal_date or old_date,
                [(account, -amount, None) for account, amount in old_lines],
                source_type=source_type,
                source_id=source_id,
                description=f"Reversal: {old_description}",
                reference=reference,
            )
            del self._posted[key]
        if not lines:
            return None
        entry = self._write(
            entry_date,
            [(account, amount, None) for account, amount in lines],
            source_type=source_type,
            source_id=source_id,
            description=description,
            reference=reference,
        )
        self._posted[key] = (entry_date, lines, description)
        return entry

    def unpost_source(
        self, source_type: str, source_id: str, *, reversal_date: date | None = None
    ) -> None:
        previous = self._posted.get((source_type, source_id))
        if previous is not None:
            self.post_source(
                source_type,
                source_id,
                previous[0],
                [],
                description=previous[2],
                reversal_date=reversal_date,
            )

    def _write(
        self,
        entry_date: date,
        amounts: list[tuple[str, int, str | None]],
        *,
        source_type: str,
        source_id: str,
        description: str,
        reference: str | None,
    ) -> JournalEntry:
        self._sequence += 1
        entry_id = self._new_id()
        lines: list[JournalLine] = []
        for number, (account_id, amount, line_description) in enumerate(amounts, start=1):
            line = JournalLine(
                id=f"{entry_id}-{number}",
                entry_id=entry_id,
                line_number=number,
                account_id=account_id,
                debit=amount if amount > 0 else 0,
                credit=-amount if amount < 0 else 0,
                entry_date=entry_date,
                sequence=self._sequence,
                description=line_description or description,
                external_reference=reference,
            )
            lines.append(line)
            account = self.accounts[account_id]
            account.debit_total += line.debit
            account.credit_total += line.credit
            if line.debit:
                account.debit_count += 1
            else:
                account.credit_count += 1
            if account.last_entry_date is None or entry_date >= account.last_entry_date:
                account.last_entry_date = entry_date
                account.last_entry_reference = reference or f"JE-{self._sequence:06d}"
            self.lines_by_account[account_id].append(line)
        entry = JournalEntry(
            id=entry_id,
            sequence=self._sequence,
            entry_date=entry_date,
            currency=self.currency,
            lines=lines,
            created_at=self._now(),
            source_type=source_type,
            source_id=source_id,
            reference=reference,
            description=description,
        )
        self.entries[entry_id] = entry
        return entry

    # -- reading -----------------------------------------------------------------------------

    def movement(
        self, account: LedgerAccount, *, since: date | None = None, until: date | None = None
    ) -> int:
        """Debit minus credit on ``account`` between two dates, both inclusive."""
        total = 0
        for line in self.lines_by_account[account.id]:
            if since is not None and line.entry_date < since:
                continue
            if until is not None and line.entry_date > until:
                continue
            total += line.debit - line.credit
        return total

    def movements(self, *, since: date | None = None, until: date | None = None) -> dict[str, int]:
        """Debit minus credit per account id over a date range, in one pass per account."""
        return {
            account_id: self.movement(account, since=since, until=until)
            for account_id, account in self.accounts.items()
        }
