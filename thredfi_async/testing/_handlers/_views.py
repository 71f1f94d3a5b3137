"""Renderings two resources share: a customer or vendor as invoices and bills embed it, a
refund payment as both refund resources answer it, a cancelled payment on any side.
"""

from __future__ import annotations

from typing import Any

from .._books.money import major
from .._books.state import (
    Books,
    Customer,
    Payment,
    RefundPayment,
    Vendor,
)
from .._server.context import Reply
from .._server.values import iso

ADDRESS_FIELDS = (
    "address_line1",
    "address_line2",
    "city",
    "state_county",
    "postal_code",
    "country",
)


# -- customers -------------------------------------------------------------------------------


def customer_view(books: Books, customer: Customer) -> dict[str, Any]:
    data = customer.data
    address = ", ".join(str(data[key]) for key in ADDRESS_FIELDS if data.get(key))
    limit = data.get("credit_limit_cents")
    archived = customer.archived_at is not None
    return {
        "type": "Customer",
        "id": customer.id,
        "external_id": data.get("external_id"),
        "reference_number": data.get("reference_number"),
        "individual_name": data.get("individual_name"),
        "company_name": data.get("company_name"),
        "display_name": customer.display_name,
        "email": data.get("email"),
        "mobile_phone": data.get("mobile_phone"),
        "office_phone": data.get("office_phone"),
        "address_line1": data.get("address_line1"),
        "address_line2": data.get("address_line2"),
        "city": data.get("city"),
        "state_county": data.get("state_county"),
        "postal_code": data.get("postal_code"),
        "country": data.get("country"),
        "full_address": address,
        "address_string": address,
        "vat_number": data.get("vat_number"),
        "tax_exempt": bool(data.get("tax_exempt", False)),
        "status": "archived" if archived else str(data.get("status") or "active"),
        "is_active": not archived,
        "is_archived": archived,
        "transaction_tags": data.get("transaction_tags") or [],
        "notes": data.get("notes"),
        "metadata": data.get("metadata"),
        "payment_terms_days": data.get("payment_terms_days"),
        "credit_limit": major(int(limit), books.currency) if limit is not None else None,
        "credit_limit_cents": limit,
        "outstanding_balance": major(customer.outstanding, books.currency),
        "documents": customer.documents,
        "created_at": iso(customer.created_at),
        "updated_at": iso(customer.updated_at),
        "archived_at": iso(customer.archived_at),
    }


# -- vendors ---------------------------------------------------------------------------------


def vendor_view(books: Books, vendor: Vendor) -> dict[str, Any]:
    data = vendor.data
    return {
        "type": "VendorData",
        "id": vendor.id,
        "external_id": data.get("external_id"),
        "individual_name": data.get("individual_name"),
        "company_name": data.get("company_name"),
        "email": data.get("email"),
        "mobile_phone": data.get("mobile_phone") or "",
        "office_phone": data.get("office_phone") or "",
        "address_string": data.get("address_string") or "",
        "memo": data.get("memo") or "",
        "status": "ARCHIVED" if vendor.archived_at is not None else "ACTIVE",
        "transaction_tags": data.get("transaction_tags") or [],
        "documents": vendor.documents,
    }


def refund_payment_view(books: Books, payment: RefundPayment) -> dict[str, Any]:
    currency = books.currency
    return {
        "id": payment.id,
        "refund_id": payment.refund_id,
        "refunded_amount": major(payment.amount, currency),
        "refund_processing_fee": major(payment.fee, currency),
        "reconciled_bank_transactions": [],
        "created_at": iso(payment.created_at),
        "updated_at": iso(payment.updated_at),
        "external_id": payment.external_id,
        "completed_at": iso(payment.completed_at),
        "method": payment.method,
        "processor": payment.processor,
        "transaction_tags": payment.transaction_tags,
        "memo": payment.memo,
        "metadata": payment.metadata,
    }


def cancelled_reply(message: str, payment: Payment, **links: str) -> Reply:
    """The documented cancel answer: ``{message, payment_id, [links...], status, updated_at}``."""
    return Reply(
        200,
        {
            "message": message,
            "payment_id": payment.id,
            **links,
            "status": payment.status,
            "updated_at": iso(payment.updated_at),
        },
    )
