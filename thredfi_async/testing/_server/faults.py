"""Fault injection: the failures a client must survive, on demand and counted.

Each rule matches on an optional method, path pattern (a glob where ``*`` spans slashes, or a
compiled regex) and operationId, and applies to the next ``times`` matching requests (``None``
means every one). Rules are checked in the order they were added; the first matching ``fail`` or
``drop_connection`` rule wins, while every matching latency rule adds its delay.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any, Literal

__all__ = ["FaultRule", "Faults"]

FaultKind = Literal["fail", "latency", "page_latency", "drop"]


@dataclass(slots=True)
class FaultRule:
    """One injected behaviour; ``hits`` counts how often it fired, ``remaining`` what is left."""

    kind: FaultKind
    remaining: int | None
    method: str | None = None
    path: str | re.Pattern[str] | None = None
    operation_id: str | None = None
    status: int = 503
    retry_after: float | str | None = None
    after_processing: bool = False
    seconds: float = 0.0
    error_code: str | None = None
    message: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    hits: int = 0

    @property
    def active(self) -> bool:
        return self.remaining is None or self.remaining > 0

    def matches(self, method: str, path: str, operation_id: str | None, paginated: bool) -> bool:
        if not self.active:
            return False
        if self.method is not None and self.method.upper() != method:
            return False
        if self.operation_id is not None and self.operation_id != operation_id:
            return False
        if self.kind == "page_latency" and not paginated:
            return False
        if self.path is None:
            return True
        if isinstance(self.path, re.Pattern):
            return self.path.search(path) is not None
        return fnmatchcase(path, self.path)

    def consume(self) -> None:
        self.hits += 1
        if self.remaining is not None:
            self.remaining -= 1

    def failure_body(self) -> dict[str, Any]:
        code = self.error_code or _default_code(self.status)
        return {
            "error_code": code,
            "message": self.message or f"Injected failure ({self.status}).",
            "detail": self.message or f"Injected failure ({self.status}).",
        }

    def failure_headers(self) -> dict[str, str]:
        headers = dict(self.headers)
        if self.retry_after is not None:
            value = self.retry_after
            if isinstance(value, float) and value.is_integer():
                value = int(value)
            headers["Retry-After"] = str(value)
        return headers


def _default_code(status: int) -> str:
    return {
        429: "rate_limited",
        500: "internal_error",
        502: "bad_gateway",
        503: "service_unavailable",
        504: "gateway_timeout",
    }.get(status, "injected_failure")


@dataclass(slots=True)
class Decision:
    """What the pipeline should do with one request, decided before it runs."""

    delay: float = 0.0
    fail: FaultRule | None = None
    drop: FaultRule | None = None
    fail_after: FaultRule | None = None
    drop_after: FaultRule | None = None

    @property
    def labels(self) -> list[str]:
        labels = []
        if self.delay:
            labels.append("latency")
        if self.fail or self.fail_after:
            labels.append("fail")
        if self.drop or self.drop_after:
            labels.append("drop")
        return labels


class Faults:
    """``fake.faults``: add rules, inspect them, clear them."""

    def __init__(self, expire_tokens: Callable[[], None]) -> None:
        self._rules: list[FaultRule] = []
        self._expire_tokens = expire_tokens

    @property
    def rules(self) -> list[FaultRule]:
        return list(self._rules)

    def fail(
        self,
        status: int = 503,
        *,
        times: int | None = 1,
        retry_after: float | str | None = None,
        after_processing: bool = False,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        operation_id: str | None = None,
        error_code: str | None = None,
        message: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> FaultRule:
        """Answer ``status`` instead of the real response.

        With ``after_processing=True`` the request is executed first and only its response is
        replaced: the change happened but the client never heard, which is what idempotency keys
        and ``external_id`` exist for. ``retry_after`` adds a ``Retry-After`` header.
        """
        if not 400 <= status <= 599:
            raise ValueError("an injected failure needs a 4xx or 5xx status")
        return self._add(
            FaultRule(
                kind="fail",
                remaining=times,
                method=method,
                path=path,
                operation_id=operation_id,
                status=status,
                retry_after=retry_after,
                after_processing=after_processing,
                error_code=error_code,
                message=message,
                headers=dict(headers or {}),
            )
        )

    def rate_limit(
        self,
        retry_after: float | str | None = 1,
        *,
        times: int | None = 1,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        operation_id: str | None = None,
    ) -> FaultRule:
        """A 429 with ``Retry-After``; shorthand for ``fail(429, retry_after=...)``."""
        return self.fail(
            429,
            times=times,
            retry_after=retry_after,
            method=method,
            path=path,
            operation_id=operation_id,
        )

    def latency(
        self,
        seconds: float,
        *,
        times: int | None = None,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        operation_id: str | None = None,
    ) -> FaultRule:
        """Delay matching requests by ``seconds`` (``anyio.sleep``: asyncio and trio alike)."""
        return self._add(
            FaultRule(
                kind="latency",
                remaining=times,
                method=method,
                path=path,
                operation_id=operation_id,
                seconds=seconds,
            )
        )

    def page_latency(
        self,
        seconds: float,
        *,
        times: int | None = None,
        operation_id: str | None = None,
        path: str | re.Pattern[str] | None = None,
    ) -> FaultRule:
        """Delay every page of a paginated list operation, e.g. to benchmark prefetching."""
        return self._add(
            FaultRule(
                kind="page_latency",
                remaining=times,
                method="GET",
                path=path,
                operation_id=operation_id,
                seconds=seconds,
            )
        )

    def drop_connection(
        self,
        *,
        times: int | None = 1,
        after_processing: bool = False,
        method: str | None = None,
        path: str | re.Pattern[str] | None = None,
        operation_id: str | None = None,
    ) -> FaultRule:
        """Lose the connection instead of answering.

        In process (``httpx.ASGITransport``) the client sees ``httpx.RemoteProtocolError``. Served
        by uvicorn, the status line and headers go out and the connection is then closed mid-body,
        so httpx raises ``RemoteProtocolError`` too (an ASGI app cannot reset a socket outright).
        ``after_processing=True`` runs the request first.
        """
        return self._add(
            FaultRule(
                kind="drop",
                remaining=times,
                method=method,
                path=path,
                operation_id=operation_id,
                after_processing=after_processing,
            )
        )

    def expire_tokens(self) -> None:
        """Every token issued so far becomes invalid (401 ``invalid_token``); new ones work."""
        self._expire_tokens()

    def remove(self, rule: FaultRule) -> None:
        self._rules.remove(rule)

    def clear(self) -> None:
        """Remove every rule."""
        self._rules.clear()

    def _add(self, rule: FaultRule) -> FaultRule:
        if rule.remaining is not None and rule.remaining < 0:
            raise ValueError("times must be positive or None")
        self._rules.append(rule)
        return rule

    def decide(self, method: str, path: str, operation_id: str | None, paginated: bool) -> Decision:
        decision = Decision()
        answered = False  # the first matching fail or drop rule wins
        for rule in self._rules:
            if not rule.matches(method, path, operation_id, paginated):
                continue
            if rule.kind in ("latency", "page_latency"):
                decision.delay += rule.seconds
                rule.consume()
                continue
            if answered:
                continue
            answered = True
            rule.consume()
            if rule.kind == "drop":
                if rule.after_processing:
                    decision.drop_after = rule
                else:
                    decision.drop = rule
            elif rule.after_processing:
                decision.fail_after = rule
            else:
                decision.fail = rule
        return decision
