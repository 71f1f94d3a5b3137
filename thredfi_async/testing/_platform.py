"""Partner-level operations: token exchanges, businesses, menu configuration, bank feeds."""

from __future__ import annotations

import copy
from typing import Any

from ._context import Context, Reply, get_or_404, handles, iso, iso_date, text
from ._errors import ApiError, field_error, validation_error
from ._money import ALLOWED_CURRENCIES, COUNTRY_CURRENCY, format_money, major
from ._pagination import paginate
from ._state import BankAccount, BankTransaction, Books, Business
from ._world import World

__all__ = ["DEFAULT_MENU", "business_view", "create_business_record"]

EURO_COUNTRIES = frozenset({"DE", "FR", "NL", "ES", "BE", "IT", "IE", "AT", "PT", "FI"})
ENTITY_TYPES = {"GB": ("limited", "sole_trader", "llp", "partnership", "plc")}
DEFAULT_MENU: dict[str, Any] = {
    "menu": {
        "insights": True,
        "tasks": False,
        "bank_transactions": False,
        "general_ledger": True,
        "reports": True,
        "accounts_receivable": True,
        "accounts_payable": False,
    },
    "sub_menu_tabs": {
        "reports.balance_sheet": True,
        "reports.profit_and_loss": True,
        "reports.cashflow_statement": True,
    },
}
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


# -- tokens ----------------------------------------------------------------------------------


@handles("get_partner_token")
def get_partner_token(ctx: Context) -> Reply:
    assert ctx.basic_credentials is not None
    partner_uuid, _ = ctx.basic_credentials
    client_id = ctx.body.get("client_id")
    if client_id not in (None, "") and str(client_id) != partner_uuid:
        raise ApiError(401, "invalid_client", "client_id does not match the Basic credentials.")
    grant_type = ctx.body.get("grant_type")
    if grant_type not in (None, "", "client_credentials"):
        raise validation_error(
            {"grant_type": [f'Unsupported grant type "{grant_type}".']},
            "Unsupported grant type",
        )
    issued = ctx.world.tokens.issue(partner_uuid)
    return Reply(
        200,
        {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
        },
    )


@handles("get_business_token")
def get_business_token(ctx: Context) -> Reply:
    assert ctx.claims is not None
    business_id = ctx.param("business_id")  # in scope (checked); its books are not needed
    issued = ctx.world.tokens.issue(ctx.claims.partner_uuid, business_id)
    return Reply(
        200,
        {
            "access_token": issued.access_token,
            "token_type": "Bearer",
            "expires_in": issued.expires_in,
            "scope": "business_access",
            "business_id": business_id,
        },
    )


# -- businesses ------------------------------------------------------------------------------


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
        view["tax_id"] = business.tin  # list rows use tax_id (FACTS 3.1); tin is kept as well
    return view


def _check_entity_type(country: str, entity_type: str) -> str:
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
    entity_type = _check_entity_type(country, str(body["entity_type"]))
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
        changes["entity_type"] = _check_entity_type(business.country, str(changes["entity_type"]))
    for key in _BUSINESS_PATCHABLE:
        if key in changes:
            setattr(business, key, changes[key])
    business.updated_at = ctx.now
    view = business_view(business)
    return Reply(200, {key: view.get(key) for key in _BUSINESS_PATCHABLE})


# -- menu configuration ----------------------------------------------------------------------


def _menu(books: Books) -> dict[str, Any]:
    if books.menu is None:
        books.menu = copy.deepcopy(DEFAULT_MENU)
    return books.menu


@handles("get_menu_config")
def get_menu_config(ctx: Context) -> Reply:
    """A read: the defaults are shown, not stored (reads change nothing)."""
    return Reply(200, copy.deepcopy(ctx.books.menu or DEFAULT_MENU))


@handles("update_menu_config")
def update_menu_config(ctx: Context) -> Reply:
    menu = _menu(ctx.books)
    menu["menu"].update(ctx.body.get("menu") or {})
    menu["sub_menu_tabs"].update(ctx.body.get("sub_menu_tabs") or {})
    return Reply(200, copy.deepcopy(menu))


@handles("reset_menu_config")
def reset_menu_config(ctx: Context) -> Reply:
    ctx.books.menu = None
    return Reply(200, copy.deepcopy(_menu(ctx.books)))


# -- bank accounts and transactions (read-only; the seeder creates them) ---------------------


def bank_account_view(books: Books, account: BankAccount, *, summary: bool) -> dict[str, Any]:
    view: dict[str, Any] = {
        "id": account.id,
        "display_name": account.display_name,
        "official_name": account.official_name,
        "mask": account.mask,
        "balance": major(account.balance, account.currency),
        "balance_cents": account.balance,
        "currency": account.currency,
        "is_active": account.is_active,
        "bank_link_status": account.bank_link_status,
        "business_name": books.business.legal_name,
        "provider": account.provider,
        "created_at": iso(account.created_at),
    }
    if not summary:
        view.update(
            {
                "account_key": account.account_key,
                "bank_link_id": account.bank_link_id,
                "business_id": books.id,
                "mapped_account": account.mapped_account_id,
                "updated_at": iso(account.updated_at),
            }
        )
    return view


@handles("list_bank_accounts")
def list_bank_accounts(ctx: Context) -> Reply:
    books = ctx.books
    items = list(books.bank_accounts.values())
    for key, attr in (
        ("account_key", "account_key"),
        ("currency", "currency"),
        ("bank_link_status", "bank_link_status"),
        ("provider", "provider"),
        ("display_name", "display_name"),
    ):
        wanted = ctx.filter(key)
        if wanted is not None:
            items = [a for a in items if str(getattr(a, attr)).lower() == str(wanted).lower()]
    active = ctx.filter("is_active")
    if isinstance(active, bool):
        items = [a for a in items if a.is_active == active]
    mapped = ctx.filter("has_mapped_account")
    if isinstance(mapped, bool):
        items = [a for a in items if (a.mapped_account_id is not None) == mapped]
    low, high = ctx.typed_filter("balance_min", "number"), ctx.typed_filter("balance_max", "number")
    if low is not None:
        items = [a for a in items if major(a.balance, a.currency) >= low]
    if high is not None:
        items = [a for a in items if major(a.balance, a.currency) <= high]
    search = ctx.filter("search")
    if search:
        needle = str(search).lower()
        items = [
            a
            for a in items
            if needle in a.display_name.lower() or needle in a.official_name.lower()
        ]
    ordering = str(ctx.filter("ordering") or "-created_at")
    key = ordering.lstrip("-")
    if key in ("created_at", "display_name", "balance", "currency"):
        items.sort(key=lambda a: getattr(a, key), reverse=ordering.startswith("-"))
    statistics = {
        "total_accounts": len(items),
        "by_status": _count(a.bank_link_status for a in items),
        "by_provider": _count(a.provider for a in items),
        "by_currency": _count(a.currency for a in items),
        "balance_summary": {"total_balance_cents": sum(a.balance for a in items)},
    }
    return Reply(
        200,
        paginate(
            ctx,
            items,
            lambda a: bank_account_view(books, a, summary=True),
            extra={"statistics": statistics},
        ),
    )


def _count(values: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[str(value)] = counts.get(str(value), 0) + 1
    return counts


@handles("retrieve_bank_account")
def retrieve_bank_account(ctx: Context) -> Reply:
    account = get_or_404(ctx.books.bank_accounts, ctx.param("bank_account_id"), "bank_account")
    return Reply(200, bank_account_view(ctx.books, account, summary=False))


def bank_transaction_view(books: Books, txn: BankTransaction) -> dict[str, Any]:
    account = books.bank_accounts[txn.bank_account_id]
    ledger_account = books.ledger.accounts.get(txn.account_id) if txn.account_id else None
    signed = txn.amount if txn.direction == "credit" else -txn.amount
    return {
        "id": txn.id,
        "date": iso_date(txn.on),
        "amount": txn.amount,
        "display_amount": format_money(signed, txn.currency),
        "signed_amount": signed,
        "direction": txn.direction,
        "currency": txn.currency,
        "counterparty_name": txn.counterparty_name,
        "merchant_name": txn.merchant_name,
        "description": txn.description,
        "categorization_status": txn.categorization_status,
        "transaction_type": txn.transaction_type,
        "subcategory": None,
        "business_id": books.id,
        "business_name": books.business.legal_name,
        "account_id": ledger_account.id if ledger_account else None,
        "account_code": ledger_account.code if ledger_account else None,
        "account_name": ledger_account.name if ledger_account else None,
        "bank_account_connection_id": account.id,
        "bank_account_name": account.display_name,
        "bank_account_mask": account.mask,
        "bank_account_currency": account.currency,
        "is_reconciled": txn.is_reconciled,
        "reconciled_at": iso(txn.reconciled_at),
        "reconciled_amount_cents": txn.reconciled_amount,
        "remaining_amount_cents": txn.amount - txn.reconciled_amount,
        "reconciliations": None,
        "created_at": iso(txn.created_at),
    }


@handles("list_bank_transactions")
def list_bank_transactions(ctx: Context) -> Reply:
    books = ctx.books
    items = list(books.bank_transactions.values())
    direction = ctx.filter("direction")
    if direction:
        items = [t for t in items if t.direction == direction]
    for key, attr in (
        ("currency", "currency"),
        ("bank_account_connection_id", "bank_account_id"),
        ("transaction_type", "transaction_type"),
        ("account_id", "account_id"),
    ):
        wanted = ctx.filter(key)
        if wanted is not None:
            items = [t for t in items if str(getattr(t, attr)) == str(wanted)]
    statuses = ctx.filter("categorization_status")
    if statuses:
        wanted_statuses = set(statuses if isinstance(statuses, list) else [statuses])
        items = [t for t in items if t.categorization_status in wanted_statuses]
    reconciled = ctx.filter("is_reconciled")
    if isinstance(reconciled, bool):
        items = [t for t in items if t.is_reconciled == reconciled]
    categorized = ctx.filter("is_categorized")
    if isinstance(categorized, bool):
        items = [t for t in items if (t.categorization_status == "categorized") == categorized]
    low, high = ctx.typed_filter("amount_min", "integer"), ctx.typed_filter("amount_max", "integer")
    if low is not None:
        items = [t for t in items if t.amount >= low]
    if high is not None:
        items = [t for t in items if t.amount <= high]
    since, until = ctx.filter("date_from"), ctx.filter("date_to")
    if since:
        items = [t for t in items if t.on.isoformat() >= str(since)]
    if until:
        items = [t for t in items if t.on.isoformat() <= str(until)]
    search = ctx.filter("search")
    if search:
        needle = str(search).lower()
        items = [
            t
            for t in items
            if needle in f"{t.description} {t.counterparty_name} {t.merchant_name}".lower()
        ]
    items.sort(key=lambda t: (t.on, t.created_at), reverse=True)
    return Reply(200, paginate(ctx, items, lambda t: bank_transaction_view(books, t)))
