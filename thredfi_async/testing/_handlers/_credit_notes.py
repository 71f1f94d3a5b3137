"""What customer credits and vendor credits share: reading a credit's lines and common fields from
a request, and rendering its lines and amounts. The accounting lives in ``_books.credit_notes``.
"""

from __future__ import annotations

from typing import Any

from .._books.money import major
from .._books.records import change_external_id, resolve_account
from .._books.state import (
    Books,
    CreditLine,
    CreditNote,
)
from .._server.context import Context, make_documents
from .._server.errors import field_error
from .._server.values import iso, minor_units, text


def tag_texts(tags: Any) -> list[str]:
    """Line tags arrive as objects but the response declares strings."""
    result = []
    for tag in tags or []:
        if isinstance(tag, dict):
            result.append(str(tag.get("name") or tag.get("value") or tag.get("id") or ""))
        else:
            result.append(str(tag))
    return result


def build_lines(
    books: Books, items: Any, *, account_key: str, default_code: str
) -> list[CreditLine]:
    if not items:
        raise field_error("line_items", "At least one line item is required.")
    lines = []
    for index, item in enumerate(items):
        prefix = f"line_items.{index}"
        amount = minor_units(item.get("amount"), f"{prefix}.amount")
        if amount < 1:
            raise field_error(
                f"{prefix}.amount", "Ensure this value is greater than or equal to 1."
            )
        tax = item.get("tax_amount_cents") or 0
        if not isinstance(tax, int) or tax < 0:
            raise field_error(
                f"{prefix}.tax_amount_cents", "Ensure this value is greater than or equal to 0."
            )
        account = resolve_account(
            books, item.get(account_key), f"{prefix}.{account_key}", default_code
        )
        lines.append(
            CreditLine(
                amount=amount,
                tax=tax,
                account_id=account.id,
                memo=text(item, "memo"),
                metadata=item.get("metadata"),
                reference_number=text(item, "reference_number"),
                tags=list(item.get("tags") or []),
            )
        )
    return lines


def allocations_to_check(body: dict[str, Any], credit: CreditNote, target_key: str) -> Any:
    """An update's allocations; without any, the current ones, checked again (lines may shrink)."""
    if "allocations" in body:
        return body["allocations"]
    return [{target_key: a.target_id, "amount": a.amount} for a in credit.allocations]


def line_views(books: Books, lines: list[CreditLine], account_key: str) -> list[dict[str, Any]]:
    return [
        {
            "amount": major(line.amount, books.currency),
            account_key: {"id": line.account_id, "type": "AccountId"},
            "tags": tag_texts(line.tags),
            "memo": line.memo,
            "metadata": line.metadata,
        }
        for line in lines
    ]


def amounts_view(credit: CreditNote) -> dict[str, Any]:
    """The tags and amounts part of either credit's view."""
    currency = credit.currency
    return {
        "tags": credit.tags,
        "total_amount": major(credit.total, currency),
        "applied_amount": major(credit.applied, currency),
    }


def record_view(credit: CreditNote) -> dict[str, Any]:
    """The closing part of either credit's view: its document, timestamps and currency."""
    return {
        "document": credit.documents[0] if credit.documents else None,
        "created_at": iso(credit.created_at),
        "updated_at": iso(credit.updated_at),
        "currency": credit.currency,
    }


def created_fields(ctx: Context, body: dict[str, Any], kind: str) -> dict[str, Any]:
    """The fields a create body gives either kind of credit, besides its party, lines and date."""
    return {
        "currency": ctx.books.currency,
        "created_at": ctx.now,
        "updated_at": ctx.now,
        "external_id": text(body, "external_id"),
        "tags": list(body.get("tags") or []),
        "documents": make_documents(ctx, body.get("document"), kind),
    }


def update_common(ctx: Context, credit: CreditNote, body: dict[str, Any], kind: str) -> None:
    change_external_id(ctx.books, kind, credit, body)
    if "tags" in body:
        credit.tags = list(body["tags"] or [])
    if body.get("document"):
        credit.documents = make_documents(ctx, body["document"], kind)
    credit.updated_at = ctx.now
