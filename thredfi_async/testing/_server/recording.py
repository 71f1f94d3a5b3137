"""Every request the fake saw, so tests can count token fetches, retries and idempotency keys."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["RecordedRequest", "RequestLog"]


@dataclass(slots=True)
class RecordedRequest:
    """One request as the fake received it (secrets are never recorded)."""

    method: str
    path: str
    query: dict[str, str]
    operation_id: str | None
    business_id: str | None
    idempotency_key: str | None
    request_id: str
    at: datetime
    status: int | None = None
    error_code: str | None = None
    token_kind: str | None = None
    faults: list[str] = field(default_factory=list)
    replayed: bool = False


class RequestLog(list[RecordedRequest]):
    """``fake.requests``: a list, plus filters for the questions tests usually ask."""

    def for_operation(self, operation_id: str) -> list[RecordedRequest]:
        return [r for r in self if r.operation_id == operation_id]

    def count(self, operation_id: str | None = None) -> int:  # type: ignore[override]
        """How many requests hit ``operation_id`` (all requests when omitted)."""
        if operation_id is None:
            return len(self)
        return sum(1 for r in self if r.operation_id == operation_id)

    @property
    def token_requests(self) -> list[RecordedRequest]:
        """Requests to either token exchange."""
        return [r for r in self if r.operation_id in ("get_partner_token", "get_business_token")]
