"""The fake's records: plain dataclasses, amounts as integer minor units.

One :class:`Books` per business holds everything that business owns, so isolation between
businesses is structural: a handler only ever sees the books of the business in its path. Derived
figures (invoice outstanding, bill balances, account totals) are kept up to date when money moves
rather than recomputed per request, because list pages are rendered often and must stay cheap.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import field
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from .journal import Tracked, record
from .ledger import Ledger

__all__ = [
    "Allocation",
    "Application",
    "BankAccount",
    "BankTransaction",
    "Bill",
    "BillLine",
    "BillPayment",
    "Books",
    "Business",
    "CreditLine",
    "CreditNote",
    "Customer",
    "CustomerCredit",
    "IdGenerator",
    "Invoice",
    "InvoiceLine",
    "InvoicePayment",
    "Partner",
    "Party",
    "Payment",
    "Payout",
    "Refund",
    "RefundPayment",
    "TaxLine",
    "TrackedPayment",
    "TradeDocument",
    "Vendor",
    "VendorCredit",
    "VendorRefund",
    "VendorRefundAllocation",
    "VendorRefundPayment",
]


class IdGenerator:
    """UUID4s from a seedable generator: reproducible ids for a seeded fake, and fast to make."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def __call__(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


@record()
class Partner(Tracked):
    uuid: str
    api_key: str
    name: str


@record()
class Business(Tracked):
    id: str
    partner_uuid: str
    external_id: str
    legal_name: str
    entity_type: str
    email: str
    country: str
    base_currency: str
    accounting_method: str
    created_at: datetime
    updated_at: datetime
    phone_number: str | None = None
    tin: str | None = None
    vat_number: str | None = None
    company_number: str | None = None
    province: str | None = None
    eu_nace_industry_code: str | None = None
    fiscal_year_end: str | None = None
    metadata: Any = None
    coa_language: str | None = None
    is_active: bool = True
    is_archived: bool = False


@record()
class Application(Tracked):
    """Money applied to one invoice or bill, by a payment or a credit note."""

    source: str
    source_id: str
    allocation_id: str
    amount: int
    on: date


@record()
class Allocation(Tracked):
    """A payment's or credit's share of one target document."""

    id: str
    target_id: str
    amount: int
    at: datetime
    description: str | None = None
    notes: str | None = None
    transaction_tags: Any = None


@record()
class TaxLine(Tracked):
    amount: int
    account_id: str
    discount: int = 0
    rate: Decimal | None = None


# -- parties ---------------------------------------------------------------------------------


@record()
class Party(Tracked):
    """A customer or a vendor; the writable fields are kept as sent, in ``data``."""

    id: str
    data: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None = None
    documents: list[dict[str, Any]] = field(default_factory=list)
    outstanding: int = 0

    @property
    def external_id(self) -> str | None:
        value = self.data.get("external_id")
        return value if isinstance(value, str) else None

    @property
    def display_name(self) -> str:
        for key in ("company_name", "individual_name", "email"):
            value = self.data.get(key)
            if value:
                return str(value)
        return ""


@record()
class Customer(Party):
    """The party invoices are sent to; ``outstanding`` is what its open invoices still owe."""


@record()
class Vendor(Party):
    """The party bills come from; ``outstanding`` is what the business still owes it."""


# -- invoices and bills ----------------------------------------------------------------------


@record(kw_only=True)
class TradeDocument(Tracked):
    """An invoice or a bill: a total that payments and credit notes are applied to.

    ``applied`` is the sum of ``applications``; ``counted_outstanding`` is what the party's
    ``outstanding`` currently includes for this document, so a change adjusts it by the delta.
    """

    UNPAID_STATUS: ClassVar[str]

    id: str
    currency: str
    created_at: datetime
    updated_at: datetime
    total: int = 0
    applied: int = 0
    external_id: str | None = None
    memo: str | None = None
    due_at: datetime | None = None
    voided_at: datetime | None = None
    paid_at: datetime | None = None
    documents: list[dict[str, Any]] = field(default_factory=list)
    applications: list[Application] = field(default_factory=list)
    counted_outstanding: int = 0

    @property
    def party_id(self) -> str:
        """The customer of an invoice, the vendor of a bill."""
        raise NotImplementedError

    @property
    def issued_on(self) -> date:
        """From when the document is owed (aging counts it from then)."""
        raise NotImplementedError

    @property
    def outstanding(self) -> int:
        return 0 if self.voided_at is not None else self.total - self.applied

    @property
    def status(self) -> str:
        if self.voided_at is not None:
            return "VOIDED"
        if self.applied and self.applied >= self.total:
            return "PAID"
        return "PARTIALLY_PAID" if self.applied else self.UNPAID_STATUS


@record()
class InvoiceLine(Tracked):
    id: str
    quantity: Decimal
    unit_price: int
    discount: int
    taxes: list[TaxLine]
    account_id: str
    gross: int
    external_id: str | None = None
    description: str | None = None
    product: str | None = None

    @property
    def net(self) -> int:
        return self.gross - self.discount

    @property
    def tax(self) -> int:
        return sum(t.amount - t.discount for t in self.taxes)


@record(kw_only=True)
class Invoice(TradeDocument):
    UNPAID_STATUS: ClassVar[str] = "SENT"

    customer_id: str
    invoice_number: str
    sent_at: datetime
    lines: list[InvoiceLine]
    refunded: int = 0
    invoice_type: str = "invoice"
    additional_discount: int = 0
    additional_taxes: list[TaxLine] = field(default_factory=list)
    additional_taxes_total: int = 0
    tips: int = 0
    tips_account_id: str | None = None
    transaction_tags: list[Any] = field(default_factory=list)
    metadata: Any = None

    @property
    def party_id(self) -> str:
        return self.customer_id

    @property
    def issued_on(self) -> date:
        return self.sent_at.date()


@record()
class BillLine(Tracked):
    id: str
    quantity: Decimal
    unit_price: Decimal
    taxes: list[TaxLine]
    account_id: str
    subtotal: int
    description: str | None = None
    product: str | None = None
    tax_rate: Decimal | None = None

    @property
    def tax(self) -> int:
        return sum(t.amount - t.discount for t in self.taxes)

    @property
    def total(self) -> int:
        return self.subtotal + self.tax


@record(kw_only=True)
class Bill(TradeDocument):
    UNPAID_STATUS: ClassVar[str] = "OPEN"

    vendor_id: str
    issue_date: date
    lines: list[BillLine]
    bill_number: str | None = None
    vendor_bill_number: str | None = None
    purchase_order_number: str | None = None
    reference_numbers: list[Any] = field(default_factory=list)
    attachment_urls: list[Any] = field(default_factory=list)
    received_at: datetime | None = None
    approved_at: datetime | None = None
    terms: str | None = None

    @property
    def party_id(self) -> str:
        return self.vendor_id

    @property
    def issued_on(self) -> date:
        return self.issue_date


# -- payments --------------------------------------------------------------------------------


@record(kw_only=True)
class Payment(Tracked):
    """What invoice, bill and vendor-refund payments all carry; each starts ``pending``."""

    id: str
    currency: str
    payment_date: date
    created_at: datetime
    updated_at: datetime
    status: str = "pending"
    fee: int = 0
    payment_reference: str | None = None
    external_id: str | None = None
    idempotency_key: str | None = None
    failed_at: datetime | None = None


@record(kw_only=True)
class InvoicePayment(Payment):
    customer_id: str
    total: int
    payment_method: str | None = None
    note: str | None = None
    notes: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    references: dict[str, Any] = field(default_factory=dict)
    payment_processor: str | None = None
    processor_reference: str | None = None
    bank_reference: str | None = None
    transaction_tags: list[Any] = field(default_factory=list)
    allocations: list[Allocation] = field(default_factory=list)
    processed_at: datetime | None = None
    payout_id: str | None = None

    @property
    def allocated(self) -> int:
        return sum(a.amount for a in self.allocations)


@record(kw_only=True)
class TrackedPayment(Payment):
    """A payment under the documented PATCH state machine (bill and vendor-refund payments)."""

    memo: str | None = None
    metadata: Any = None
    failure_reason: str | None = None
    submitted_at: datetime | None = None
    completed_at: datetime | None = None


@record(kw_only=True)
class BillPayment(TrackedPayment):
    vendor_id: str
    amount: int
    payment_method: str
    check_number: str | None = None
    description: str | None = None
    allocations: list[Allocation] = field(default_factory=list)

    @property
    def allocated(self) -> int:
        return sum(a.amount for a in self.allocations)


@record(kw_only=True)
class VendorRefundPayment(TrackedPayment):
    """The allocations made with it name it (``VendorRefundAllocation.payment_id``), so that
    cancelling it can drop them; it keeps no list of its own that could drift from theirs."""

    refund_id: str
    vendor_id: str
    amount: int
    payment_method: str | None = None
    processor: str | None = None


# -- refunds and payouts ---------------------------------------------------------------------


@record()
class Refund(Tracked):
    id: str
    invoice_id: str
    customer_id: str
    amount: int
    created_at: datetime
    updated_at: datetime
    allocation_id: str
    fee: int = 0
    method: str | None = None
    processor: str | None = None
    completed_at: datetime | None = None
    external_id: str | None = None
    memo: str | None = None
    reference_number: str | None = None
    documents: list[dict[str, Any]] = field(default_factory=list)
    payment_ids: list[str] = field(default_factory=list)
    paid: int = 0

    @property
    def status(self) -> str:
        if self.paid >= self.amount:
            return "paid"
        return "processing" if self.paid else "pending"


@record()
class RefundPayment(Tracked):
    id: str
    refund_id: str
    amount: int
    created_at: datetime
    updated_at: datetime
    fee: int = 0
    method: str | None = None
    processor: str | None = None
    external_id: str | None = None
    completed_at: datetime | None = None
    memo: str | None = None
    transaction_tags: list[Any] = field(default_factory=list)
    metadata: Any = None
    payout_id: str | None = None


@record()
class Payout(Tracked):
    id: str
    external_id: str
    currency: str
    created_at: datetime
    updated_at: datetime
    imported_at: datetime
    processor: str | None = None
    processor_payout_id: str | None = None
    paid_out: int = 0
    fee: int = 0
    additional_refunds: int = 0
    status: str = "paid"
    completed_at: datetime | None = None
    reference_number: str | None = None
    memo: str | None = None
    metadata: Any = None
    payment_ids: list[str] = field(default_factory=list)
    refund_payment_ids: list[str] = field(default_factory=list)
    reconciliation_status: str = "unreconciled"


# -- credit notes ----------------------------------------------------------------------------


@record()
class CreditLine(Tracked):
    amount: int
    tax: int
    account_id: str
    memo: str | None = None
    metadata: Any = None
    reference_number: str | None = None
    tags: list[Any] = field(default_factory=list)


@record(kw_only=True)
class CreditNote(Tracked):
    """A customer or vendor credit: lines that reverse revenue or expense, applied to documents."""

    id: str
    lines: list[CreditLine]
    currency: str
    created_at: datetime
    updated_at: datetime
    external_id: str | None = None
    tags: list[Any] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    allocations: list[Allocation] = field(default_factory=list)
    deleted_at: datetime | None = None

    @property
    def issued_at(self) -> datetime:
        """When the customer was sent the credit, or when the vendor's credit was received."""
        raise NotImplementedError

    @property
    def total(self) -> int:
        return sum(line.amount + line.tax for line in self.lines)

    @property
    def applied(self) -> int:
        return sum(a.amount for a in self.allocations)

    @property
    def status(self) -> str:
        if self.deleted_at is not None:
            return "deleted"
        if self.allocations and self.applied >= self.total:
            return "applied"
        return "partially_applied" if self.allocations else "open"


@record(kw_only=True)
class CustomerCredit(CreditNote):
    customer_id: str
    sent_at: datetime
    source_invoice_id: str | None = None
    memo: str | None = None
    metadata: Any = None

    @property
    def issued_at(self) -> datetime:
        return self.sent_at


@record(kw_only=True)
class VendorCredit(CreditNote):
    vendor_id: str
    received_at: datetime
    source_bill_id: str | None = None

    @property
    def issued_at(self) -> datetime:
        return self.received_at


# -- vendor refunds --------------------------------------------------------------------------


@record()
class VendorRefundAllocation(Tracked):
    id: str
    allocation_type: str
    amount: int
    created_at: datetime
    bill_id: str | None = None
    bill_payment_id: str | None = None
    description: str | None = None
    metadata: Any = None
    payment_id: str | None = None


@record()
class VendorRefund(Tracked):
    id: str
    vendor_id: str
    total: int
    currency: str
    refund_date: date
    created_at: datetime
    updated_at: datetime
    refund_type: str | None = None
    reference_number: str | None = None
    external_id: str | None = None
    description: str | None = None
    memo: str | None = None
    reason: str | None = None
    metadata: Any = None
    expected_completion_date: str | None = None
    documents: list[dict[str, Any]] = field(default_factory=list)
    allocations: list[VendorRefundAllocation] = field(default_factory=list)
    payment_ids: list[str] = field(default_factory=list)
    deleted_at: datetime | None = None

    @property
    def allocated(self) -> int:
        return sum(a.amount for a in self.allocations)


# -- bank feed -------------------------------------------------------------------------------


@record()
class BankAccount(Tracked):
    id: str
    account_key: str
    display_name: str
    official_name: str
    mask: str
    currency: str
    balance: int
    provider: str
    bank_link_id: str
    created_at: datetime
    updated_at: datetime
    is_active: bool = True
    bank_link_status: str = "active"
    mapped_account_id: str | None = None
    first_synced_at: datetime | None = None


@record()
class BankTransaction(Tracked):
    id: str
    bank_account_id: str
    on: date
    amount: int
    direction: str
    currency: str
    created_at: datetime
    description: str = ""
    counterparty_name: str = ""
    merchant_name: str = ""
    transaction_type: str = "bank_transfer"
    categorization_status: str = "uncategorized"
    account_id: str | None = None
    is_reconciled: bool = False
    reconciled_at: datetime | None = None
    reconciled_amount: int = 0


@record()
class Books(Tracked):
    """Everything one business owns, keyed by id in insertion order (the list order)."""

    business: Business
    ledger: Ledger
    customers: dict[str, Customer] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    invoice_payments: dict[str, InvoicePayment] = field(default_factory=dict)
    refunds: dict[str, Refund] = field(default_factory=dict)
    refund_payments: dict[str, RefundPayment] = field(default_factory=dict)
    payouts: dict[str, Payout] = field(default_factory=dict)
    customer_credits: dict[str, CustomerCredit] = field(default_factory=dict)
    vendors: dict[str, Vendor] = field(default_factory=dict)
    bills: dict[str, Bill] = field(default_factory=dict)
    bill_payments: dict[str, BillPayment] = field(default_factory=dict)
    vendor_credits: dict[str, VendorCredit] = field(default_factory=dict)
    vendor_refunds: dict[str, VendorRefund] = field(default_factory=dict)
    vendor_refund_payments: dict[str, VendorRefundPayment] = field(default_factory=dict)
    bank_accounts: dict[str, BankAccount] = field(default_factory=dict)
    bank_transactions: dict[str, BankTransaction] = field(default_factory=dict)
    menu: dict[str, Any] | None = None
    external_ids: dict[str, dict[str, str]] = field(default_factory=dict)
    # (operation, key) -> ((path params, body) sent, status, body answered) of the first answer
    idempotent_replies: dict[tuple[str, str], tuple[Any, int, Any]] = field(default_factory=dict)
    invoice_counter: int = 0

    @property
    def id(self) -> str:
        return self.business.id

    @property
    def currency(self) -> str:
        return self.business.base_currency

    def party_of(self, document: TradeDocument) -> Party | None:
        """The customer of an invoice or the vendor of a bill."""
        parties: dict[str, Customer] | dict[str, Vendor]
        parties = self.customers if isinstance(document, Invoice) else self.vendors
        return parties.get(document.party_id)

    def find_external(self, kind: str, external_id: str | None) -> str | None:
        if not external_id:
            return None
        return self.external_ids.get(kind, {}).get(external_id)

    def remember_external(self, kind: str, external_id: str | None, record_id: str) -> None:
        if external_id:
            self.external_ids.setdefault(kind, {})[external_id] = record_id

    def forget_external(self, kind: str, external_id: str | None) -> None:
        if external_id:
            self.external_ids.get(kind, {}).pop(external_id, None)

    def next_invoice_number(self) -> str:
        self.invoice_counter += 1
        return f"INV-{self.invoice_counter:06d}"
