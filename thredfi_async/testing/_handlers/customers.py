"""``thredfi.customers``: customers, archived rather than deleted. Their balances are kept by the
invoices, payments and credits applied to them (``_books.documents``).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from .._books.parties import archive_party, create_customer_record, unarchive_party
from .._books.records import get_or_404, refuse_duplicate
from .._books.state import Customer
from .._server.context import Context, Reply, handles, make_documents
from .._server.errors import conflict, field_error
from .._server.filters import Filters, joined
from .._server.pagination import paginate
from ._views import ADDRESS_FIELDS, customer_view

_CUSTOMER_FIELDS = (
    "external_id",
    "reference_number",
    "individual_name",
    "company_name",
    "email",
    "mobile_phone",
    "office_phone",
    *ADDRESS_FIELDS,
    "vat_number",
    "tax_exempt",
    "status",
    "transaction_tags",
    "notes",
    "metadata",
    "payment_terms_days",
    "credit_limit_cents",
)


def _customer(ctx: Context) -> Customer:
    return get_or_404(ctx.books.customers, ctx.param("customer_id"), "customer")


@handles("list_customers")
def list_customers(ctx: Context) -> Reply:
    books = ctx.books
    items = Filters(ctx, books.customers.values())
    if not ctx.filter("include_archived"):
        items.keep(lambda c: c.archived_at is None)
    items.contains("search", lambda c: joined(c.display_name, c.data.get("email")))
    items.equal("external_id")
    return Reply(200, paginate(ctx, items.items, lambda c: customer_view(books, c)))


@handles("create_customer")
def create_customer(ctx: Context) -> Reply:
    books = ctx.books
    # No idempotency is documented for customers (docs/api-behaviour.md); the fake answers the error
    # guide's 409 so clients exercise that branch of "already exists".
    refuse_duplicate(books, "customer", ctx.body.get("external_id"))
    _check_payment_terms(ctx, ctx.body)
    data = {k: ctx.body[k] for k in _CUSTOMER_FIELDS if k in ctx.body}
    data.setdefault("tax_exempt", False)
    customer = create_customer_record(books, ctx.new_id(), ctx.now, data)
    customer.documents = make_documents(ctx, ctx.body.get("document"), "customer_document")
    return Reply(201, customer_view(books, customer))


@handles("get_customer")
def get_customer(ctx: Context) -> Reply:
    return Reply(200, customer_view(ctx.books, _customer(ctx)))


@handles("update_customer")
def update_customer(ctx: Context) -> Reply:
    customer = _customer(ctx)
    _apply_customer_changes(ctx, customer, ctx.body)
    return Reply(200, customer_view(ctx.books, customer))


def _apply_customer_changes(ctx: Context, customer: Customer, body: dict[str, Any]) -> None:
    """Unlike vendors, a customer's new external_id must be free (409) and its limit >= 0."""
    books = ctx.books
    _check_payment_terms(ctx, body)
    limit = body.get("credit_limit_cents")
    if isinstance(limit, int) and limit < 0:
        raise field_error("credit_limit_cents", "Ensure this value is greater than or equal to 0.")
    if "external_id" in body and body["external_id"] != customer.external_id:
        other = books.find_external("customer", body["external_id"])
        if other is not None and other != customer.id:
            raise conflict(
                "duplicate_external_id",
                f'A customer with external_id "{body["external_id"]}" already exists.',
                existing_id=other,
            )
        books.forget_external("customer", customer.external_id)
        books.remember_external("customer", body["external_id"], customer.id)
    for key in _CUSTOMER_FIELDS:
        if key in body and key != "status":
            customer.data[key] = body[key]
    customer.updated_at = ctx.now


def _check_payment_terms(ctx: Context, body: dict[str, Any]) -> None:
    """Terms whose due date, counted from today, is past year 9999 cannot be stored: every
    later invoice without ``due_at`` would fail to compute its due date."""
    days = body.get("payment_terms_days")
    if isinstance(days, int) and not isinstance(days, bool):
        try:
            ctx.now + timedelta(days=days)
        except OverflowError:
            raise field_error(
                "payment_terms_days", "Ensure the due date these terms give is before year 10000."
            ) from None


@handles("archive_customer")
def archive_customer(ctx: Context) -> Reply:
    customer = _customer(ctx)
    archive_party(ctx, customer, lambda body: _apply_customer_changes(ctx, customer, body))
    return Reply(200, customer_view(ctx.books, customer))


@handles("unarchive_customer")
def unarchive_customer(ctx: Context) -> Reply:
    customer = _customer(ctx)
    unarchive_party(
        ctx, customer, "customer", lambda body: _apply_customer_changes(ctx, customer, body)
    )
    return Reply(200, customer_view(ctx.books, customer))
