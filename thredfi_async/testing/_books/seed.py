"""Bulk data written straight into the books: fast enough to give benchmarks 10,000 invoices.

The seeder bypasses HTTP but not the business rules: records are made by the same functions the
handlers use, so balances, statuses and journal entries are exactly what the API would produce.
Dates are spread over the last months (deterministically, from the fake's random generator) so
aging reports and trends have something to show.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from .._server.context import Context
from .._server.spec import OperationTable
from .allocations import Share
from .billing import create_bill_record
from .businesses import create_business_record
from .invoicing import create_invoice_record
from .ledger import CODES
from .parties import create_customer_record, create_vendor_record
from .payments import create_payment_record
from .state import BankAccount, BankTransaction, BillLine, Books, InvoiceLine
from .world import World

__all__ = ["SeedPlan", "SeedResult", "SeededBusiness", "seed"]

_COMPANIES = (
    "Acme Trading",
    "Northwind Foods",
    "Blue Harbour Studio",
    "Greenleaf Gardens",
    "Copperline Tools",
    "Silverbirch Consulting",
    "Red Kite Logistics",
    "Oakridge Bakery",
)
_VENDORS = ("Office Supplies Co", "Cloud Hosting Ltd", "City Utilities", "Freight Partners")


@dataclass(slots=True)
class SeededBusiness:
    business_id: str
    customer_ids: list[str] = field(default_factory=list)
    invoice_ids: list[str] = field(default_factory=list)
    payment_ids: list[str] = field(default_factory=list)
    vendor_ids: list[str] = field(default_factory=list)
    bill_ids: list[str] = field(default_factory=list)
    bank_account_ids: list[str] = field(default_factory=list)
    bank_transaction_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class SeedResult:
    """What ``fake.seed()`` created, per business and flattened."""

    businesses: list[SeededBusiness]

    def __getitem__(self, index: int) -> SeededBusiness:
        return self.businesses[index]

    def __len__(self) -> int:
        return len(self.businesses)

    @property
    def business_ids(self) -> list[str]:
        return [b.business_id for b in self.businesses]

    @property
    def customer_ids(self) -> list[str]:
        return [i for b in self.businesses for i in b.customer_ids]

    @property
    def invoice_ids(self) -> list[str]:
        return [i for b in self.businesses for i in b.invoice_ids]

    @property
    def payment_ids(self) -> list[str]:
        return [i for b in self.businesses for i in b.payment_ids]

    @property
    def vendor_ids(self) -> list[str]:
        return [i for b in self.businesses for i in b.vendor_ids]

    @property
    def bill_ids(self) -> list[str]:
        return [i for b in self.businesses for i in b.bill_ids]

    @property
    def bank_account_ids(self) -> list[str]:
        return [i for b in self.businesses for i in b.bank_account_ids]

    @property
    def bank_transaction_ids(self) -> list[str]:
        return [i for b in self.businesses for i in b.bank_transaction_ids]


@dataclass(frozen=True, slots=True)
class SeedPlan:
    """What ``fake.seed`` writes into each business: the one place its sizes are named.

    ``FakeThredfi.seed`` takes these as keyword arguments and ``python -m thredfi_async.testing``
    offers each as a ``--flag``. Counts are per parent (``invoices_per_customer`` invoices for
    every customer); ``payments_per_invoice`` completed payments split each invoice (1 pays it in
    full); invoice and bill dates are spread over the last ``spread_days`` days.
    """

    country: str = "GB"
    customers_per_business: int = 0
    invoices_per_customer: int = 0
    line_items_per_invoice: int = 1
    unit_price_cents: int = 10_000
    payments_per_invoice: int = 0
    vendors_per_business: int = 0
    bills_per_vendor: int = 0
    bank_accounts_per_business: int = 0
    transactions_per_bank_account: int = 0
    spread_days: int = 120


def seed(
    world: World,
    table: OperationTable,
    partner_uuid: str,
    plan: SeedPlan,
    *,
    businesses: int = 1,
    business_id: str | None = None,
) -> SeedResult:
    rng = world.rng
    now = world.clock.now()
    if business_id is not None:
        targets = [world.books[business_id]]
    else:
        targets = []
        start = len(world.books)
        for index in range(businesses):
            number = start + index + 1
            targets.append(
                create_business_record(
                    world,
                    partner_uuid,
                    {
                        "external_id": f"seed-business-{number:05d}",
                        "legal_name": f"Seeded Business {number} Ltd",
                        "entity_type": "limited",
                        "email": f"owner{number}@seeded.example",
                        "country": plan.country,
                    },
                )
            )
    result = SeedResult([])
    for books in targets:
        seeded = SeededBusiness(books.id)
        result.businesses.append(seeded)
        payment_ctx = _context(world, table, books, "create_invoice_payment")
        for c in range(plan.customers_per_business):
            customer = create_customer_record(
                books,
                world.new_id(),
                now,
                {
                    "external_id": f"seed-customer-{len(books.customers) + 1:06d}",
                    "company_name": f"{_COMPANIES[c % len(_COMPANIES)]} {c + 1}",
                    "email": f"billing{c + 1}@customer.example",
                    "payment_terms_days": 30,
                    "tax_exempt": False,
                },
            )
            seeded.customer_ids.append(customer.id)
            for _ in range(plan.invoices_per_customer):
                sent = now - timedelta(days=rng.randrange(plan.spread_days or 1))
                lines = [
                    InvoiceLine(
                        id=world.new_id(),
                        quantity=Decimal(1),
                        unit_price=plan.unit_price_cents,
                        discount=0,
                        taxes=[],
                        account_id=books.ledger.system[CODES.SALES],
                        gross=plan.unit_price_cents,
                        description=f"Item {n + 1}",
                    )
                    for n in range(plan.line_items_per_invoice)
                ]
                invoice = create_invoice_record(
                    books,
                    invoice_id=world.new_id(),
                    customer=customer,
                    lines=lines,
                    now=now,
                    sent_at=sent,
                    external_id=f"seed-invoice-{len(books.invoices) + 1:07d}",
                )
                seeded.invoice_ids.append(invoice.id)
                for amount in _split(invoice.total, plan.payments_per_invoice):
                    payment = create_payment_record(
                        books,
                        payment_ctx,
                        customer=customer,
                        total=amount,
                        shares=[Share(invoice, amount)],
                        payment_date=min(sent.date() + timedelta(days=7), now.date()),
                        payment_method="bank_transfer",
                        status="completed",
                    )
                    seeded.payment_ids.append(payment.id)
        for v in range(plan.vendors_per_business):
            vendor = create_vendor_record(
                books,
                world.new_id(),
                now,
                {
                    "external_id": f"seed-vendor-{len(books.vendors) + 1:05d}",
                    "company_name": f"{_VENDORS[v % len(_VENDORS)]} {v + 1}",
                },
            )
            seeded.vendor_ids.append(vendor.id)
            for _ in range(plan.bills_per_vendor):
                issued = (now - timedelta(days=rng.randrange(plan.spread_days or 1))).date()
                line = BillLine(
                    id=world.new_id(),
                    quantity=Decimal(1),
                    unit_price=Decimal(plan.unit_price_cents),
                    taxes=[],
                    account_id=books.ledger.system[CODES.OPERATING_EXPENSES],
                    subtotal=plan.unit_price_cents,
                    description="Services",
                )
                bill = create_bill_record(
                    books,
                    bill_id=world.new_id(),
                    vendor=vendor,
                    lines=[line],
                    issue_date=issued,
                    now=now,
                    due_at=datetime.combine(issued + timedelta(days=30), now.timetz()),
                    bill_number=f"BILL-{len(books.bills) + 1:06d}",
                )
                seeded.bill_ids.append(bill.id)
        for a in range(plan.bank_accounts_per_business):
            account = _bank_account(world, books, a, now)
            seeded.bank_account_ids.append(account.id)
            for _ in range(plan.transactions_per_bank_account):
                seeded.bank_transaction_ids.append(
                    _bank_transaction(world, books, account, now, plan.spread_days).id
                )
    return result


def _context(world: World, table: OperationTable, books: Books, operation_id: str) -> Context:
    return Context(
        world=world,
        op=table.operations[operation_id],
        path_params={"business_id": books.id},
        query={},
        extra_query={},
        body={},
        headers={},
        url="",
        base_url="",
        books_=books,
    )


def _split(total: int, parts: int) -> list[int]:
    if parts <= 0 or total <= 0:
        return []
    base, rest = divmod(total, parts)
    return [base + (1 if i < rest else 0) for i in range(parts) if base or i < rest]


def _bank_account(world: World, books: Books, index: int, now: datetime) -> BankAccount:
    rng = world.rng
    account = BankAccount(
        id=world.new_id(),
        account_key=f"acct_{rng.getrandbits(48):012x}",
        display_name=f"Business Current {index + 1}",
        official_name=f"Business Current Account {index + 1}",
        mask=f"{rng.randrange(10_000):04d}",
        currency=books.currency,
        balance=rng.randrange(100_000, 10_000_000),
        provider="plaid",
        bank_link_id=f"link_{rng.getrandbits(48):012x}",
        created_at=now,
        updated_at=now,
        mapped_account_id=books.ledger.system[CODES.BANK],
        first_synced_at=now,
    )
    books.bank_accounts[account.id] = account
    return account


def _bank_transaction(
    world: World, books: Books, account: BankAccount, now: datetime, spread_days: int
) -> BankTransaction:
    rng = world.rng
    credit = rng.random() < 0.5
    transaction = BankTransaction(
        id=f"btx_{rng.getrandbits(64):016x}",
        bank_account_id=account.id,
        on=(now - timedelta(days=rng.randrange(spread_days or 1))).date(),
        amount=rng.randrange(500, 500_000),
        direction="credit" if credit else "debit",
        currency=account.currency,
        created_at=now,
        description="Customer payment" if credit else "Card purchase",
        counterparty_name=rng.choice(_COMPANIES if credit else _VENDORS),
        merchant_name="" if credit else rng.choice(_VENDORS),
        transaction_type="fps" if credit else "card_payment",
        categorization_status="uncategorized",
    )
    books.bank_transactions[transaction.id] = transaction
    return transaction
