"""Payment status rules shared by invoice, bill and vendor-refund payments.

The bill-payment state machine is the documented one (docs/api-behaviour.md, "Payment
states"); invoice payments use it too,
plus ``completed -> refunded``. Cancelling through ``POST .../delete/`` is a separate door that
only ``pending`` and ``failed`` payments pass (a ``failed`` payment can be cancelled there even
though PATCH treats ``failed`` as final).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .._server.errors import ApiError, field_error
from .._server.values import set_texts
from .state import Payment, TrackedPayment

__all__ = [
    "BILL_PAYMENT_TRANSITIONS",
    "CANCELLABLE",
    "PAYMENT_TRANSITIONS",
    "apply_state_patch",
    "cancel",
    "check_transition",
    "move_status",
    "require_failure_reason",
]

BILL_PAYMENT_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"processing", "completed", "failed", "cancelled"}),
    "processing": frozenset({"completed", "failed"}),
    "completed": frozenset(),
    "failed": frozenset(),
    "cancelled": frozenset(),
}
PAYMENT_TRANSITIONS: dict[str, frozenset[str]] = BILL_PAYMENT_TRANSITIONS | {
    "completed": frozenset({"refunded"}),
    "refunded": frozenset(),
}
CANCELLABLE = frozenset({"pending", "failed"})


def require_failure_reason(payment: TrackedPayment, body: dict[str, Any]) -> None:
    """Moving to ``failed`` needs a ``failure_reason``, sent now or recorded before."""
    if body.get("status") == "failed" and not (
        body.get("failure_reason") or payment.failure_reason
    ):
        raise field_error("failure_reason", "A failure reason is required when a payment fails.")


def apply_state_patch(
    payment: TrackedPayment, body: dict[str, Any], now: datetime, text_keys: tuple[str, ...]
) -> None:
    """A PATCH under the bill-payment state machine (docs/api-behaviour.md, "Payment states").

    The status moves first (an illegal move is refused before anything changes), then the
    ``failure_reason``, ``payment_reference``, ``memo``, further ``text_keys`` and ``metadata``
    the body sends. Call :func:`require_failure_reason` before validating anything else.
    """
    new_status = body.get("status")
    if new_status:
        move_status(payment, str(new_status), BILL_PAYMENT_TRANSITIONS, now)
    set_texts(payment, body, ("failure_reason", "payment_reference", "memo", *text_keys))
    if "metadata" in body:
        payment.metadata = body["metadata"]


def check_transition(
    payment: Payment, new_status: str, transitions: dict[str, frozenset[str]]
) -> None:
    """A 400 unless ``transitions`` allow the move (staying put is always allowed)."""
    current = payment.status
    if new_status != current and new_status not in transitions.get(current, frozenset()):
        allowed = ", ".join(sorted(transitions.get(current, ()))) or "none"
        raise ApiError(
            400,
            "invalid_status_transition",
            f'Cannot move a payment from "{current}" to "{new_status}".',
            detail=f'Allowed from "{current}": {allowed}',
        )


def move_status(
    payment: Payment, new_status: str, transitions: dict[str, frozenset[str]], now: datetime
) -> None:
    """Apply a status change allowed by ``transitions`` and stamp its timestamp; 400 otherwise."""
    check_transition(payment, new_status, transitions)
    if new_status == payment.status:
        return
    payment.status = new_status
    stamps = {
        "completed": ("completed_at", "processed_at"),
        "failed": ("failed_at",),
        "processing": ("submitted_at",),
    }
    for attribute in stamps.get(new_status, ()):
        if hasattr(payment, attribute):
            setattr(payment, attribute, now)


def cancel(payment: Payment) -> None:
    """The ``POST .../delete/`` door: a pending or failed payment becomes ``cancelled``.

    Anything else (a completed payment above all) is refused with a 400; reversing what the
    payment did is the caller's part.
    """
    status = payment.status
    if status not in CANCELLABLE:
        raise ApiError(
            400,
            "invalid_status_transition",
            f'Only pending or failed payments can be cancelled; this one is "{status}".',
            detail={"status": status, "cancellable_statuses": sorted(CANCELLABLE)},
        )
    payment.status = "cancelled"
