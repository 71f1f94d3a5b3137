"""Registering a business: its country decides its currency and entity types, and its books get a
chart of accounts.
"""

from __future__ import annotations

from typing import Any

from .._server.errors import ApiError, field_error
from .._server.values import text
from .money import ALLOWED_CURRENCIES, COUNTRY_CURRENCY
from .state import Books, Business
from .world import World

EURO_COUNTRIES = frozenset({"DE", "FR", "NL", "ES", "BE", "IT", "IE", "AT", "PT", "FI"})
ENTITY_TYPES = {"GB": ("limited", "sole_trader", "llp", "partnership", "plc")}


def check_entity_type(country: str, entity_type: str) -> str:
    value = entity_type.strip().lower()
    allowed = ENTITY_TYPES.get(country)
    if allowed is not None and value not in allowed:
        raise ApiError(
            400,
            "validation_error",
            f"Invalid entity_type '{value}' for country {country}. "
            f"Valid options: {', '.join(allowed)}",
            shape="detail",
        )
    return value


def create_business_record(world: World, partner_uuid: str, body: dict[str, Any]) -> Books:
    """Create a business with its chart of accounts; used by the API and the seeder."""
    country = str(body.get("country") or "GB").upper()
    entity_type = check_entity_type(country, str(body["entity_type"]))
    default_currency = "EUR" if country in EURO_COUNTRIES else COUNTRY_CURRENCY.get(country, "GBP")
    currency = str(body.get("base_currency") or default_currency).upper()
    if currency not in ALLOWED_CURRENCIES:
        raise field_error(
            "base_currency",
            f"Invalid currency code. Must be one of: {', '.join(ALLOWED_CURRENCIES)}",
        )
    now = world.clock.now()
    business = Business(
        id=world.new_id(),
        partner_uuid=partner_uuid,
        external_id=str(body["external_id"]),
        legal_name=str(body["legal_name"]),
        entity_type=entity_type,
        email=str(body["email"]),
        country=country,
        base_currency=currency,
        accounting_method=str(body.get("accounting_method") or "accrual"),
        created_at=now,
        updated_at=now,
        phone_number=text(body, "phone_number"),
        tin=text(body, "tin"),
        vat_number=text(body, "vat_number"),
        company_number=text(body, "company_number"),
        province=text(body, "province"),
        eu_nace_industry_code=text(body, "eu_nace_industry_code"),
        fiscal_year_end=text(body, "fiscal_year_end"),
        metadata=body.get("metadata"),
        coa_language=text(body, "coa_language"),
    )
    return world.open_books(business)
