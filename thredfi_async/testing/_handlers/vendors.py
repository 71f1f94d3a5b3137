"""``thredfi.vendors``: vendors, archived rather than deleted; the payables side of customers."""

from __future__ import annotations

from typing import Any

from .._books.parties import archive_party, create_vendor_record, unarchive_party
from .._books.records import get_or_404
from .._books.state import Vendor
from .._server.context import Context, Reply, handles, make_documents
from .._server.errors import field_error
from .._server.filters import Filters, joined
from .._server.pagination import paginate
from ._views import vendor_view

_VENDOR_FIELDS = (
    "external_id",
    "individual_name",
    "company_name",
    "email",
    "mobile_phone",
    "office_phone",
    "address_string",
    "memo",
    "transaction_tags",
    "country",
    "vat_number",
    "vendor_number",
)


def _vendor(ctx: Context) -> Vendor:
    return get_or_404(ctx.books.vendors, ctx.param("vendor_id"), "vendor")


def _apply_vendor_changes(ctx: Context, vendor: Vendor, body: dict[str, Any]) -> None:
    """Unlike customers, a vendor takes a new external_id unchecked, and documents on update."""
    books = ctx.books
    if "external_id" in body and body["external_id"] != vendor.external_id:
        books.forget_external("vendor", vendor.external_id)
        books.remember_external("vendor", body["external_id"], vendor.id)
    for key in _VENDOR_FIELDS:
        if key in body:
            vendor.data[key] = body[key]
    if body.get("document"):
        vendor.documents.extend(make_documents(ctx, body["document"], "vendor_document"))
    vendor.updated_at = ctx.now


@handles("list_vendors")
def list_vendors(ctx: Context) -> Reply:
    books = ctx.books
    items = Filters(ctx, books.vendors.values())
    if not ctx.filter("include_archived"):
        items.keep(lambda v: v.archived_at is None)
    items.equal("external_id")
    items.contains("external_id_contains", lambda v: v.external_id or "")
    items.sent(
        "name", lambda name, v: name in (v.data.get("company_name"), v.data.get("individual_name"))
    )
    items.contains(
        "name_contains", lambda v: joined(v.data.get("company_name"), v.data.get("individual_name"))
    )
    return Reply(200, paginate(ctx, items.items, lambda v: vendor_view(books, v)))


@handles("create_vendor")
def create_vendor(ctx: Context) -> Reply:
    books = ctx.books
    body = ctx.body
    existing = books.find_external("vendor", body.get("external_id"))
    if existing is not None:
        return Reply(200, vendor_view(books, books.vendors[existing]))
    if not body.get("individual_name") and not body.get("company_name"):
        raise field_error("non_field_errors", "Either individual_name or company_name is required.")
    data = {k: body[k] for k in _VENDOR_FIELDS if k in body}
    vendor = create_vendor_record(books, ctx.new_id(), ctx.now, data)
    vendor.documents = make_documents(ctx, body.get("document"), "vendor_document")
    return Reply(201, vendor_view(books, vendor))


@handles("get_vendor")
def get_vendor(ctx: Context) -> Reply:
    return Reply(200, vendor_view(ctx.books, _vendor(ctx)))


@handles("update_vendor")
def update_vendor(ctx: Context) -> Reply:
    vendor = _vendor(ctx)
    _apply_vendor_changes(ctx, vendor, ctx.body)
    return Reply(200, vendor_view(ctx.books, vendor))


@handles("archive_vendor")
def archive_vendor(ctx: Context) -> Reply:
    vendor = _vendor(ctx)
    archive_party(ctx, vendor, lambda body: _apply_vendor_changes(ctx, vendor, body))
    return Reply(200, vendor_view(ctx.books, vendor))


@handles("unarchive_vendor")
def unarchive_vendor(ctx: Context) -> Reply:
    vendor = _vendor(ctx)
    unarchive_party(ctx, vendor, "vendor", lambda body: _apply_vendor_changes(ctx, vendor, body))
    return Reply(200, vendor_view(ctx.books, vendor))
