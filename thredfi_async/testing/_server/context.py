"""What a handler receives and returns, the handler registry, and small shared helpers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from .._books.ledger import LedgerAccount
from .._books.state import Books
from .._books.transaction import Transaction
from .._books.world import World
from .auth import Claims
from .errors import conflict, field_error, not_found
from .spec import Operation
from .validation import coerce_query_value

__all__ = [
    "HANDLERS",
    "Context",
    "Reply",
    "handles",
    "iso",
    "iso_date",
    "parse_date",
    "parse_datetime",
]


@dataclass(slots=True)
class Reply:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(slots=True)
class Context:
    world: World
    op: Operation
    path_params: dict[str, str]
    query: dict[str, Any]
    extra_query: dict[str, str]
    body: dict[str, Any]
    headers: dict[str, str]
    url: str
    base_url: str
    claims: Claims | None = None
    books_: Books | None = None
    idempotency_key: str | None = None
    basic_credentials: tuple[str, str] | None = None
    transaction: Transaction | None = None

    @property
    def books(self) -> Books:
        """The books of the business in the path, saved first when the request may change them."""
        if self.books_ is None:
            raise AssertionError(f"{self.op.operation_id} has no business in its path")
        if self.transaction is not None:
            self.transaction.touch(self.books_)
        return self.books_

    @property
    def now(self) -> datetime:
        return self.world.clock.now()

    @property
    def today(self) -> date:
        return self.world.clock.today()

    def new_id(self) -> str:
        return self.world.new_id()

    def param(self, name: str) -> str:
        return self.path_params[name]

    def filter(self, name: str) -> Any:
        """A query filter, declared (typed) or not (raw text); None when absent or blank."""
        if name in self.query:
            return self.query[name]
        value = self.extra_query.get(name)
        return value if value not in (None, "") else None

    def typed_filter(self, name: str, kind: str) -> Any:
        """A filter the handler compares as ``kind`` (``"integer"``, ``"number"``); None if absent.

        A declared one arrives typed; an undeclared one is raw text, coerced here and refused
        with the declared parameter's 400 when malformed (never a crash, whatever the list holds).
        """
        value = self.filter(name)
        if isinstance(value, str):
            return coerce_query_value(name, value, {"type": kind})
        return value


T = TypeVar("T")
Handler = Callable[[Context], Reply]
HANDLERS: dict[str, Handler] = {}


def handles(operation_id: str) -> Callable[[Handler], Handler]:
    """Register the function implementing ``operation_id``."""

    def register(func: Handler) -> Handler:
        if operation_id in HANDLERS:
            raise ValueError(f"{operation_id} registered twice")
        HANDLERS[operation_id] = func
        return func

    return register


# -- value helpers ---------------------------------------------------------------------------


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def iso_date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def parse_datetime(value: Any, field_name: str = "") -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    text = str(value).replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise field_error(field_name, "Datetime has wrong format.") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_date(value: Any, field_name: str = "") -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise field_error(field_name, "Date has wrong format. Use YYYY-MM-DD.") from None


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    return str(value)


def minor_units(value: Any, field_name: str) -> int:
    """An amount in minor units; a ``number`` field may carry a decimal, rounded half up."""
    if isinstance(value, bool) or value is None:
        raise field_error(field_name, "A valid number is required.")
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        from .._books.money import round_minor

        return round_minor(value)
    raise field_error(field_name, "A valid number is required.")


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


def make_documents(ctx: Context, document: Any, kind: str) -> list[dict[str, Any]]:
    """The stored form of an uploaded document; the file itself is not kept."""
    if not isinstance(document, dict) and not isinstance(document, str):
        return []
    name = document if isinstance(document, str) else document.get("file")
    document_id = ctx.new_id()
    file_name = str(name) if name else f"{kind}.pdf"
    return [
        {
            "url": f"{ctx.base_url}/documents/{document_id}/{file_name}",
            "expires_in": 3600,
            "document_id": document_id,
            "file_name": file_name,
            "file_size": 0,
            "mime_type": "application/pdf"
            if file_name.endswith(".pdf")
            else "application/octet-stream",
        }
    ]


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


def set_texts(record: Any, body: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Copy the ``keys`` the body sends onto ``record`` as text (``None`` stays ``None``)."""
    for key in keys:
        if key in body:
            setattr(record, key, text(body, key))


def get_or_404(collection: Mapping[str, T], key: str, kind: str) -> T:
    """The record at ``key``; a 404 when there is none or it was soft-deleted."""
    record = collection.get(key)
    if record is None or getattr(record, "deleted_at", None) is not None:
        raise not_found(kind, key)
    return record
