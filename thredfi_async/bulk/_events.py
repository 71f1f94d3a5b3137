"""Machine-readable progress: what an import or a fan-out tells its `on_event` callback.

A callback rather than a log line, so a caller meters, logs or draws as it likes; the rich
display (`_progress.py`) is one such callback, and `EventStream` turns the callback into an
async iterator. Callbacks are plain functions: they run inside
the import and must not block.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio
from anyio.streams.memory import MemoryObjectReceiveStream, MemoryObjectSendStream

from ._report import Outcome

if TYPE_CHECKING:
    from ._report import ImportReport

__all__ = ["Event", "EventCallback", "EventStream", "Finished", "Planned", "RecordDone"]


@dataclass(frozen=True, slots=True)
class Planned:
    """Sent once, before the first request: how many records of each kind will be handled."""

    totals: Mapping[str, int]
    businesses: int


@dataclass(frozen=True, slots=True)
class RecordDone:
    """One record settled. `id` is the API's id (created, present or resumed)."""

    business_id: str
    kind: str
    external_id: str | None
    outcome: Outcome
    id: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Finished:
    report: ImportReport | Any


Event = Planned | RecordDone | Finished
EventCallback = Callable[[Event], None]


class EventStream:
    """The events of one run as an async iterator: pass it as `on_event`, iterate it meanwhile.

    ```python
    events = EventStream()
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(BulkImporter(thredfi, on_event=events).run, records)
        async for event in events:  # ends after `Finished`
            ...
    ```
    The buffer is unbounded because the import must never wait for a slow reader (a callback
    must not block); a reader that stops early loses nothing but the events it did not read.
    Iteration ends after `Finished`, or at once after `close()` (when the run failed, say).
    """

    def __init__(self) -> None:
        send, receive = anyio.create_memory_object_stream[Event](math.inf)
        self._send: MemoryObjectSendStream[Event] = send
        self._receive: MemoryObjectReceiveStream[Event] = receive

    def __call__(self, event: Event) -> None:
        try:
            self._send.send_nowait(event)
        except (anyio.ClosedResourceError, anyio.BrokenResourceError):
            return  # the reader closed the stream; the run goes on without it
        if isinstance(event, Finished):
            self._send.close()

    def close(self) -> None:
        """End the iteration after the events already sent."""
        self._send.close()

    def __aiter__(self) -> AsyncIterator[Event]:
        return self._events()

    async def _events(self) -> AsyncIterator[Event]:
        with self._receive:
            async for event in self._receive:
                yield event
