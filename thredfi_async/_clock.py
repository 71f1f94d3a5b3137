"""The one clock the SDK reads and sleeps on, so tests control time instead of waiting.

Token expiry is wall-clock time (a shared token store may hold tokens fetched by another
process); retry backoff sleeps through the same object.
"""

from __future__ import annotations

import time
from typing import Protocol, runtime_checkable

import anyio

__all__ = ["Clock", "SystemClock"]


@runtime_checkable
class Clock(Protocol):
    def time(self) -> float:
        """Seconds since the epoch."""
        ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """Real time: `time.time()` and `anyio.sleep` (works under asyncio and trio)."""

    def time(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await anyio.sleep(seconds)

    def __repr__(self) -> str:
        return "SystemClock()"
