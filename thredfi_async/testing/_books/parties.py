"""Customers and vendors alike: finding the parent party of a record, archiving, unarchiving.

Their fields, views, list filters and update rules differ (docs/api-behaviour.md, "Parties and
documents") and stay in the ``customers`` and ``vendors`` handlers; ``kind`` (``"customer"`` or
``"vendor"``) names the party in messages and is its key in the books' external-id index.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, TypeVar

from .._server.context import Context
from .._server.errors import ApiError, field_error
from .state import Books, Customer, Party, Vendor

__all__ = ["archive_party", "find_party", "party_reference", "unarchive_party"]

P = TypeVar("P", bound=Party)
ApplyChanges = Callable[[dict[str, Any]], None]


def find_party(
    books: Books,
    parties: dict[str, P],
    kind: str,
    party_id: Any,
    party_external_id: Any,
    field_name: str,
) -> P:
    """The parent party by id or by partner id; a 400 when it does not exist.

    A missing parent is a record sent out of dependency order (docs/api-behaviour.md, "Parties and
    documents").
    """
    if party_id:
        party = parties.get(str(party_id))
        if party is None:
            raise field_error(field_name, f'{kind.capitalize()} "{party_id}" does not exist.')
        return party
    if party_external_id:
        found = books.find_external(kind, str(party_external_id))
        if found is None:
            raise field_error(
                f"{kind}_external_id", f'No {kind} with external_id "{party_external_id}".'
            )
        return parties[found]
    raise field_error(field_name, "This field is required.")


def party_reference(party: Party) -> dict[str, Any]:
    """The short form of a party that credit-note and vendor-refund views embed."""
    return {"id": party.id, "external_id": party.external_id, "display_name": party.display_name}


def archive_party(ctx: Context, party: Party, apply_changes: ApplyChanges) -> None:
    """Hide the party from default lists; a body is applied as an update first."""
    if ctx.body:
        apply_changes(ctx.body)
    if party.archived_at is None:  # archiving twice is harmless
        party.archived_at = ctx.now
        party.updated_at = ctx.now


def unarchive_party(ctx: Context, party: Party, kind: str, apply_changes: ApplyChanges) -> None:
    """Only an archived party can be unarchived (a 400 otherwise, inferred)."""
    if party.archived_at is None:
        raise ApiError(
            400, "invalid_status_transition", f"Only archived {kind}s can be unarchived."
        )
    if ctx.body:
        apply_changes(ctx.body)
    party.archived_at = None
    party.updated_at = ctx.now


def create_customer_record(
    books: Books, new_id: str, now: datetime, data: dict[str, Any]
) -> Customer:
    customer = Customer(id=new_id, data=data, created_at=now, updated_at=now)
    books.customers[customer.id] = customer
    books.remember_external("customer", customer.external_id, customer.id)
    return customer


def find_customer(
    books: Books, customer_id: Any, customer_external_id: Any, field_name: str = "customer_id"
) -> Customer:
    return find_party(
        books, books.customers, "customer", customer_id, customer_external_id, field_name
    )


def create_vendor_record(books: Books, new_id: str, now: datetime, data: dict[str, Any]) -> Vendor:
    vendor = Vendor(id=new_id, data=data, created_at=now, updated_at=now)
    books.vendors[vendor.id] = vendor
    books.remember_external("vendor", vendor.external_id, vendor.id)
    return vendor


def find_vendor(
    books: Books, vendor_id: Any, vendor_external_id: Any, field_name: str = "vendor_id"
) -> Vendor:
    return find_party(books, books.vendors, "vendor", vendor_id, vendor_external_id, field_name)
