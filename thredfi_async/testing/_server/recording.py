"""Every request the fake saw, so tests can count token fetches, retries and idempotency keys."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import overload

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
    token_exchange: bool = False
    refused_by: str | None = None  # "rate_limit": answered 429 by the limits a test set


class RequestLog:
    """``fake.requests``: every request in arrival order, and the questions tests usually ask.

    Read-only to tests: it iterates, has a length and indexes (``fake.requests[-1]``), but is not
    a list, so ``count`` means requests to one operation and nothing else.
    """

    __slots__ = ("_records",)

    def __init__(self) -> None:
        self._records: list[RecordedRequest] = []

    def add(self, record: RecordedRequest) -> None:
        self._records.append(record)

    def __iter__(self) -> Iterator[RecordedRequest]:
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    @overload
    def __getitem__(self, index: int) -> RecordedRequest: ...

    @overload
    def __getitem__(self, index: slice) -> list[RecordedRequest]: ...

    def __getitem__(self, index: int | slice) -> RecordedRequest | list[RecordedRequest]:
        return self._records[index]

    def __repr__(self) -> str:
        return f"RequestLog({len(self._records)} requests)"

    def for_operation(self, operation_id: str) -> list[RecordedRequest]:
        return [r for r in self._records if r.operation_id == operation_id]

    def count(self, operation_id: str | None = None) -> int:
        """How many requests hit ``operation_id`` (all requests when omitted)."""
        if operation_id is None:
            return len(self._records)
        return sum(1 for r in self._records if r.operation_id == operation_id)

    def counts(self) -> Counter[str | None]:
        """Requests by operationId (``None`` for those that matched no route)."""
        return Counter(r.operation_id for r in self._records)

    def refused(self, by: str = "rate_limit") -> list[RecordedRequest]:
        """The requests the fake's own rules refused for ``by`` (its rate limits)."""
        return [r for r in self._records if r.refused_by == by]

    @property
    def token_requests(self) -> list[RecordedRequest]:
        """Requests to either token exchange."""
        return [r for r in self._records if r.token_exchange]
