"""``thredfi.businesses``: a partner's businesses; registering one provisions its books
(``_books.businesses``).
"""

from __future__ import annotations

from typing import Any

from .._books.businesses import check_entity_type, create_business_record
from .._books.state import Business
from .._server.context import Context, Reply, handles
from .._server.pagination import paginate
from .._server.values import iso

_BUSINESS_PATCHABLE = (
    "legal_name",
    "entity_type",
    "phone_number",
    "tin",
    "vat_number",
    "company_number",
    "province",
    "eu_nace_industry_code",
    "email",
    "accounting_method",
    "fiscal_year_end",
    "metadata",
)


def business_view(business: Business, *, list_row: bool = False) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": business.id,
        "external_id": business.external_id,
        "legal_name": business.legal_name,
        "name": business.legal_name,
        "entity_type": business.entity_type,
        "phone_number": business.phone_number,
        "tin": business.tin,
        "vat_number": business.vat_number,
        "company_number": business.company_number,
        "country": business.country,
        "province": business.province,
        "eu_nace_industry_code": business.eu_nace_industry_code,
        "email": business.email,
        "base_currency": business.base_currency,
        "accounting_method": business.accounting_method,
        "fiscal_year_end": business.fiscal_year_end,
        "activation_at": iso(business.created_at),
        "is_active": business.is_active,
        "created_at": iso(business.created_at),
        "updated_at": iso(business.updated_at),
        "metadata": business.metadata,
    }
    if list_row:
        view["tax_id"] = business.tin  # list rows say tax_id; tin is kept as well
    return view


def _partner_businesses(ctx: Context) -> list[Business]:
    assert ctx.claims is not None
    partner = ctx.claims.partner_uuid
    return [b.business for b in ctx.world.books.values() if b.business.partner_uuid == partner]


@handles("list_businesses")
def list_businesses(ctx: Context) -> Reply:
    items = _partner_businesses(ctx)
    country = ctx.filter("country")
    if country:
        items = [b for b in items if b.country.lower() == str(country).lower()]
    entity_type = ctx.filter("entity_type")
    if entity_type:
        items = [b for b in items if b.entity_type == str(entity_type).lower()]
    archived = ctx.filter("is_archived")
    items = [b for b in items if b.is_archived == bool(archived)]
    return Reply(200, paginate(ctx, items, lambda b: business_view(b, list_row=True)))


@handles("create_business")
def create_business(ctx: Context) -> Reply:
    assert ctx.claims is not None
    partner = ctx.claims.partner_uuid
    existing = ctx.world.business_by_external.get((partner, str(ctx.body["external_id"])))
    if existing is not None:
        view = business_view(ctx.world.books[existing].business)
        view["_meta"] = {"created": False}
        return Reply(200, view)
    books = create_business_record(ctx.world, partner, ctx.body)
    view = business_view(books.business)
    view["_meta"] = {"created": True}
    return Reply(201, view)


@handles("get_business")
def get_business(ctx: Context) -> Reply:
    return Reply(200, business_view(ctx.books.business))


@handles("update_business")
def update_business(ctx: Context) -> Reply:
    business = ctx.books.business
    changes = dict(ctx.body)
    if "entity_type" in changes and changes["entity_type"] is not None:
        changes["entity_type"] = check_entity_type(business.country, str(changes["entity_type"]))
    for key in _BUSINESS_PATCHABLE:
        if key in changes:
            setattr(business, key, changes[key])
    business.updated_at = ctx.now
    view = business_view(business)
    return Reply(200, {key: view.get(key) for key in _BUSINESS_PATCHABLE})
