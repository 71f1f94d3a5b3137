"""Finding and keying a business's records: by id (404 when missing or soft-deleted), by
``external_id`` (the index duplicates are refused against), ledger accounts by any reference a
request may send, and the one currency a business accepts.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, TypeVar

from .._server.errors import conflict, field_error, not_found
from .._server.values import text
from .ledger import LedgerAccount
from .state import Books

T = TypeVar("T")


def check_currency(books: Books, currency: Any) -> str:
    """The currency a request names (the base currency if none); no other is accepted."""
    value = str(currency or books.currency).upper()
    if value != books.currency:
        raise field_error(
            "currency",
            f"Currency must equal the business base currency ({books.currency}).",
        )
    return value


def resolve_account(
    books: Books, reference: Any, field_name: str, default_code: str
) -> LedgerAccount:
    """An account reference as requests send it: UUID, code, external_id, or ``{"id": ...}``."""
    ledger = books.ledger
    if reference is None or reference == "":
        return ledger.account(default_code)
    candidates: list[str] = []
    if isinstance(reference, dict):
        for key in ("id", "code", "external_id", "identifier", "account_code"):
            value = reference.get(key)
            if value:
                candidates.append(str(value))
    else:
        candidates.append(str(reference))
    for candidate in candidates:
        account = ledger.lookup(candidate)
        if account is not None:
            return account
    raise field_error(field_name, f"Ledger account {reference!r} does not exist.")


class _ExternallyKeyed(Protocol):
    id: str
    external_id: str | None


def change_external_id(
    books: Books, kind: str, record: _ExternallyKeyed, body: dict[str, Any]
) -> None:
    """Re-key ``record`` in the external-id index when an update sends a different id."""
    if "external_id" in body and body["external_id"] != record.external_id:
        books.forget_external(kind, record.external_id)
        record.external_id = text(body, "external_id")
        books.remember_external(kind, record.external_id, record.id)


def refuse_duplicate(books: Books, kind: str, external_id: Any) -> None:
    """409 ``duplicate_external_id`` where no idempotency is documented (docs/api-behaviour.md)."""
    existing = books.find_external(kind, external_id)
    if existing is not None:
        raise conflict(
            "duplicate_external_id",
            f'A {kind.replace("_", " ")} with external_id "{external_id}" already exists.',
            existing_id=existing,
        )


def get_or_404(collection: Mapping[str, T], key: str, kind: str) -> T:
    """The record at ``key``; a 404 when there is none or it was soft-deleted."""
    record = collection.get(key)
    if record is None or getattr(record, "deleted_at", None) is not None:
        raise not_found(kind, key)
    return record


def linked_id(
    body: dict[str, Any], field_name: str, records: Mapping[str, Any], label: str
) -> str | None:
    """An optional link to another record (``source_invoice_id``): a 400 when it names none.

    A link sent before its record exists is an out-of-order request, which the error guide
    answers with a validation error rather than storing a dangling id.
    """
    value = text(body, field_name)
    if value is not None and value not in records:
        raise field_error(field_name, f'{label} "{value}" does not exist.')
    return value
