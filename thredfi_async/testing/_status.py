"""Payment status rules shared by invoice, bill and vendor-refund payments.

The bill-payment state machine (FACTS 3.11) is the documented one; invoice payments use it too,
plus ``completed -> refunded``. Cancelling through ``POST .../delete/`` is a separate door that
only ``pending`` and ``failed`` payments pass (a ``failed`` payment can be cancelled there even
though PATCH treats ``failed`` as final).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ._errors import ApiError, field_error
from ._state import Books

__all__ = [
    "BILL_PAYMENT_TRANSITIONS",
    "CANCELLABLE",
    "PAYMENT_TRANSITIONS",
    "check_currency",
    "move_status",
    "refuse_cancel",
]

PAYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"processing", "completed", "failed", "cancelled"}),
    "processing": frozenset({"completed", "failed"}),
    "completed": frozenset({"refunded"}),
    "failed": frozenset(),
    "cancelled": frozenset(),
    "refunded": frozenset(),
}
CANCELLABLE = frozenset({"pending", "failed"})
BILL_PAYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"processing", "completed", "failed", "cancelled"}),
    "processing": frozenset({"completed", "failed"}),
    "completed": frozenset(),
    "failed": frozenset(),
    "cancelled": frozenset(),
}


def check_currency(books: Books, currency: Any) -> str:
    value = str(currency or books.currency).upper()
    if value != books.currency:
        raise field_error(
            "currency",
            f"Currency must equal the business base currency ({books.currency}).",
        )
    return value


def move_status(
    payment: Any, new_status: str, transitions: dict[str, frozenset[str]], now: datetime
) -> None:
    """Apply a status change allowed by ``transitions`` and stamp its timestamp; 400 otherwise."""
    current = payment.status
    if new_status == current:
        return
    if new_status not in transitions.get(current, frozenset()):
        allowed = ", ".join(sorted(transitions.get(current, ()))) or "none"
        raise ApiError(
            400,
            "invalid_status_transition",
            f'Cannot move a payment from "{current}" to "{new_status}".',
            detail=f'Allowed from "{current}": {allowed}',
        )
    payment.status = new_status
    stamps = {
        "completed": ("completed_at", "processed_at"),
        "failed": ("failed_at",),
        "processing": ("submitted_at",),
    }
    for attribute in stamps.get(new_status, ()):
        if hasattr(payment, attribute):
            setattr(payment, attribute, now)


def refuse_cancel(status: str) -> ApiError:
    return ApiError(
        400,
        "invalid_status_transition",
        f'Only pending or failed payments can be cancelled; this one is "{status}".',
        detail={"status": status, "cancellable_statuses": sorted(CANCELLABLE)},
    )
