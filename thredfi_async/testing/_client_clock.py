"""The SDK client's clock for tests: ``AsyncThredfi(clock=RecordingClock())``.

An SDK ``Clock`` (``time()`` and ``sleep()``), unlike the fake server's ``ServerClock``: the two
are separate because a test moves them separately (the client's tokens age on one, the server's
on the other, as two machines' clocks would).
"""

from __future__ import annotations

import time

import anyio.lowlevel

__all__ = ["RecordingClock"]


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
