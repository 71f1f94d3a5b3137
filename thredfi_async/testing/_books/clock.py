"""The fake server's time, so tests can expire tokens or age invoices without sleeping.

It is the server's clock (``fake.clock``, moved by ``fake.advance``), not an SDK ``Clock``: it
has no ``sleep`` and the client never reads it. The client's test clock is ``RecordingClock``.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime, timedelta

__all__ = ["ServerClock"]


class ServerClock:
    """The fake server's notion of now.

    By default it follows the wall clock, shifted by whatever `advance` added; give it a
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
        return f"ServerClock({mode}, now={self.now().isoformat()})"


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
