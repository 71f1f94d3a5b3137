"""The wall-clock limit of one attempt: TimeoutError past it, and movable while the attempt
queues for a concurrency slot (queueing is not part of the attempt's time).

Under asyncio this is an `asyncio.Timeout`; anyio's CancelScope does the same but costs about
twice as much per attempt (it keeps per-task cancellation state for anyio's own semantics),
which at 100 calls in flight was a tenth of the SDK's time per call. Both cancel the task at
the deadline and tell their own cancellation apart from an outer one, which propagates as
usual. Elsewhere (trio) the anyio scope stays.
"""

from __future__ import annotations

import asyncio
import math
from types import TracebackType
from typing import Self, TypeAlias

import anyio

__all__ = ["AttemptDeadline", "attempt_deadline"]


def attempt_deadline(limit: float | None) -> _AsyncioDeadline | _ScopeDeadline:
    """A deadline `limit` seconds from now (None: none, but still movable)."""
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # trio, or another anyio backend
        return _ScopeDeadline(limit)
    return _AsyncioDeadline(None if limit is None else loop.time() + limit)


class _AsyncioDeadline:
    __slots__ = ("_timeout",)

    def __init__(self, when: float | None) -> None:
        self._timeout = asyncio.timeout_at(when)

    @property
    def deadline(self) -> float:
        when = self._timeout.when()
        return math.inf if when is None else when

    @deadline.setter
    def deadline(self, value: float) -> None:
        self._timeout.reschedule(None if value == math.inf else value)

    async def __aenter__(self) -> Self:
        await self._timeout.__aenter__()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        await self._timeout.__aexit__(kind, exc, tb)  # raises TimeoutError past the deadline
        return None


class _ScopeDeadline:
    __slots__ = ("_scope",)

    def __init__(self, limit: float | None) -> None:
        self._scope = anyio.CancelScope(
            deadline=math.inf if limit is None else anyio.current_time() + limit
        )

    @property
    def deadline(self) -> float:
        return self._scope.deadline

    @deadline.setter
    def deadline(self, value: float) -> None:
        self._scope.deadline = value

    async def __aenter__(self) -> Self:
        self._scope.__enter__()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> bool | None:
        swallowed = self._scope.__exit__(kind, exc, tb)
        if self._scope.cancelled_caught:
            raise TimeoutError("the attempt's deadline passed") from exc
        return swallowed


AttemptDeadline: TypeAlias = _AsyncioDeadline | _ScopeDeadline
