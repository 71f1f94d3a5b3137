"""Pydantic v2 models equivalent to the generated ones a page of invoices parses into.

Same declared fields and Python types (UUID, datetime, Decimal, nested models), every field
optional, undeclared fields kept (`extra="allow"`), and the same tolerance: a UUID or datetime
that does not parse is kept as the string (`union_mode="left_to_right"` tries the typed member
first; pydantic's default "smart" mode would pick `str` for any string and parse nothing).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Annotated, Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["PaginatedInvoiceList"]

TolerantUUID = Annotated[UUID | str | None, Field(union_mode="left_to_right")]
TolerantDateTime = Annotated[datetime.datetime | str | None, Field(union_mode="left_to_right")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow")


class PageInfo(_Model):
    total_count: int | None = None
    current_page: int | None = None
    total_pages: int | None = None
    page_size: int | None = None


class CustomerDocumentsItem(_Model):
    url: str | None = None
    expires_in: int | None = None
    document_id: TolerantUUID = None
    file_name: str | None = None
    file_size: int | None = None
    mime_type: str | None = None


class Customer(_Model):
    type: str | None = None
    id: TolerantUUID = None
    external_id: str | None = None
    reference_number: str | None = None
    individual_name: str | None = None
    company_name: str | None = None
    display_name: str | None = None
    email: str | None = None
    mobile_phone: str | None = None
    office_phone: str | None = None
    address_line1: str | None = None
    address_line2: str | None = None
    city: str | None = None
    state_county: str | None = None
    postal_code: str | None = None
    country: str | None = None
    full_address: str | None = None
    address_string: str | None = None
    vat_number: str | None = None
    tax_exempt: bool | None = None
    status: str | None = None
    is_active: bool | None = None
    is_archived: bool | None = None
    transaction_tags: list[Any] | None = None
    notes: str | None = None
    metadata: Any = None
    payment_terms_days: int | None = None
    credit_limit: Decimal | None = None
    credit_limit_cents: int | None = None
    outstanding_balance: Decimal | None = None
    documents: list[CustomerDocumentsItem] | None = None
    created_at: TolerantDateTime = None
    updated_at: TolerantDateTime = None
    archived_at: TolerantDateTime = None


class AccountReference(_Model):
    id: TolerantUUID = None
    type: str | None = None


class InvoiceLineSalesTax(_Model):
    amount: int | None = None
    discount_amount: int | None = None
    tax_account: AccountReference | None = None


class InvoiceLineItem(_Model):
    id: TolerantUUID = None
    external_id: str | None = None
    description: str | None = None
    product: str | None = None
    quantity: Decimal | None = None
    unit_price: int | None = None
    discount_amount: int | None = None
    sales_taxes: list[InvoiceLineSalesTax] | None = None
    account_identifier: AccountReference | None = None
    subtotal_cents: int | None = None
    tax_amount_cents: int | None = None
    total_amount_cents: int | None = None


class Invoice(_Model):
    type: str | None = None
    id: TolerantUUID = None
    business_id: TolerantUUID = None
    status: str | None = None
    sent_at: TolerantDateTime = None
    due_at: TolerantDateTime = None
    paid_at: TolerantDateTime = None
    voided_at: TolerantDateTime = None
    is_overdue: bool | None = None
    invoice_number: str | None = None
    invoice_type: str | None = None
    currency: str | None = None
    customer: Customer | None = None
    external_id: str | None = None
    memo: str | None = None
    customer_id: TolerantUUID = None
    additional_discount: int | None = None
    additional_sales_taxes_total: int | None = None
    tips: int | None = None
    transaction_tags: list[str] | None = None
    metadata: Any = None
    line_items: list[InvoiceLineItem] | None = None
    documents: list[CustomerDocumentsItem] | None = None
    subtotal_cents: int | None = None
    discount_amount_cents: int | None = None
    tax_amount_cents: int | None = None
    total_amount_cents: int | None = None
    paid_amount_cents: int | None = None
    refunded_amount_cents: int | None = None
    outstanding_amount_cents: int | None = None
    total_amount: Decimal | None = None
    outstanding_amount: Decimal | None = None
    created_at: TolerantDateTime = None
    updated_at: TolerantDateTime = None


class PaginatedInvoiceList(_Model):
    count: int | None = None
    page_info: PageInfo | None = None
    results: list[Invoice] | None = None
    next: str | None = None
    previous: str | None = None
