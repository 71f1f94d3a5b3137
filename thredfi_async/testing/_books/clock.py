"""Injectable time, so tests can expire tokens or age invoices without sleeping."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

import anyio.lowlevel

__all__ = ["FakeClock", "RecordingClock"]


class FakeClock:
    """The fake's notion of now.

    By default it follows the wall clock, shifted by whatever :meth:`advance` added; give it a
    ``start`` and it stands still at that instant (plus advances), which makes timestamps in
    responses deterministic.
    """

    def __init__(self, start: datetime | None = None) -> None:
        self._frozen_at: datetime | None = _aware(start) if start is not None else None
        self._offset = 0.0

    def now(self) -> datetime:
        if self._frozen_at is not None:
            return self._frozen_at + timedelta(seconds=self._offset)
        return datetime.fromtimestamp(time.time() + self._offset, tz=UTC)

    def timestamp(self) -> float:
        return self.now().timestamp()

    def today(self) -> date:
        return self.now().date()

    def advance(self, seconds: float) -> None:
        """Move time forward (tokens expire, invoices become overdue)."""
        self._offset += seconds

    def set(self, instant: datetime) -> None:
        """Freeze the clock at ``instant``."""
        self._frozen_at = _aware(instant)
        self._offset = 0.0

    def __repr__(self) -> str:
        mode = "frozen" if self._frozen_at is not None else "wall"
        return f"FakeClock({mode}, now={self.now().isoformat()})"


class RecordingClock:
    """A clock for the client (``AsyncThredfi(clock=...)``) whose waits cost no time.

    Retry backoff and ``Retry-After`` waits are appended to ``sleeps`` and move ``time()`` on
    at once, so a test that goes through retries runs in milliseconds and can assert the waits.
    A sleep is still a checkpoint, as a real one is: other tasks run and cancellation lands.
    """

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now
        self.sleeps: list[float] = []

    def time(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await anyio.lowlevel.checkpoint()

    def advance(self, seconds: float) -> None:
        """Move the client's time on without a recorded wait (its tokens age)."""
        self.now += seconds

    def __repr__(self) -> str:
        return f"RecordingClock(now={self.now!r}, sleeps={self.sleeps!r})"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
