"""What a handler receives and returns, and the registry ``@handles`` fills."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .._books.state import Books
from .._books.transaction import Transaction
from .._books.world import World
from .auth import Claims
from .spec import Operation
from .validation import coerce_query_value

__all__ = ["HANDLERS", "Context", "Reply", "handles", "make_documents"]


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
        """The books of the business in the path."""
        if self.books_ is None:
            raise AssertionError(f"{self.op.operation_id} has no business in its path")
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
