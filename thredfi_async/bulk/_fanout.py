"""One read per business for many businesses, bounded like an import (AR aging for every
business overnight): the results, the failures, and the same events and timing."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import anyio

from .._client import AsyncThredfi, BusinessView
from .._exceptions import ThredfiError
from ._events import EventCallback, Finished, Planned, RecordDone
from ._importer import DEFAULT_CONCURRENCY

__all__ = ["FanOutReport", "fan_out"]

T = TypeVar("T")


@dataclass(slots=True)
class FanOutReport(Generic[T]):
    results: dict[str, T] = field(default_factory=dict)
    failures: dict[str, ThredfiError] = field(default_factory=dict)
    wall_time: float = 0.0

    @property
    def rate(self) -> float:
        done = len(self.results) + len(self.failures)
        return done / self.wall_time if self.wall_time > 0 else 0.0


async def fan_out(
    thredfi: AsyncThredfi,
    business_ids: Iterable[str],
    read: Callable[[BusinessView], Awaitable[T]],
    *,
    concurrency: int = DEFAULT_CONCURRENCY,
    on_event: EventCallback | None = None,
    kind: str = "read",
) -> FanOutReport[T]:
    """`await read(thredfi.business(id))` for every business, at most `concurrency` at once.

    A ThredfiError (after the client's retries) is that business's failure; anything else
    is a bug in `read` and stops the run.
    """
    started = time.perf_counter()
    ids = list(dict.fromkeys(str(b) for b in business_ids))
    report: FanOutReport[T] = FanOutReport()
    emit = on_event or (lambda event: None)
    emit(Planned({kind: len(ids)}, len(ids)))
    limiter = anyio.CapacityLimiter(concurrency)

    async def one(business_id: str) -> None:
        async with limiter:
            try:
                report.results[business_id] = await read(thredfi.business(business_id))
            except ThredfiError as error:
                report.failures[business_id] = error
                emit(RecordDone(business_id, kind, None, "failed", reason=str(error)))
            else:
                emit(RecordDone(business_id, kind, None, "created"))

    async with anyio.create_task_group() as tasks:
        for business_id in ids:
            tasks.start_soon(one, business_id)
    report.wall_time = time.perf_counter() - started
    emit(Finished(report))
    return report
