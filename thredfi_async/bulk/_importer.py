"""The import engine: businesses in parallel (bounded), each business's records in order.

Each record is settled once: resumed (the checkpoint has it; nothing is sent), created,
present (the API already had it), failed (a 4xx, retries run out, or refused locally) or
skipped (something it refers to failed). Transient errors are the client's to retry; what
is left after its retries is a failure of that record only, and the run goes on.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterable, Iterable, Mapping
from typing import Any, TypeAlias

import anyio

from .._client import AsyncThredfi, BusinessView
from .._exceptions import APIStatusError, ConflictError, InvalidRequestError, ThredfiError
from ._checkpoint import Checkpoint, MemoryCheckpoint
from ._events import EventCallback, Finished, Planned, RecordDone
from ._kinds import KINDS
from ._lookup import ExistingIndex
from ._plan import BusinessPlan, plan_business
from ._records import ExternalIdFunction, Record, as_record
from ._references import Key, resolve
from ._report import Failure, ImportReport, Outcome

__all__ = ["DEFAULT_CONCURRENCY", "BulkImporter", "idempotency_key", "import_records"]

DEFAULT_CONCURRENCY = 8
"""Businesses imported at once. Each sends one request at a time by default, so this is also
the number of creates in flight; the client's `max_concurrent_requests` (20) stays above it."""

RecordLike: TypeAlias = Record | Mapping[str, Any]

_NAMESPACE = uuid.UUID("5f0c7a1e-3b7e-4c1a-9a51-0d6f3b9e2c41")


def idempotency_key(business_id: str, kind: str, external_id: str) -> str:
    """The same key for the same record on every run, so a replay after a crash is one create."""
    return str(uuid.uuid5(_NAMESPACE, f"{business_id}\x00{kind}\x00{external_id}"))


def _id_of(kind: str, parsed: Any) -> str:
    data: Any = parsed.to_dict()
    for part in KINDS[kind].id_path:
        data = data[part]
    return str(data)


class BulkImporter:
    """Imports records through one client; reusable for several runs.

    `concurrency` businesses at once (default `DEFAULT_CONCURRENCY`), `per_business` records
    of one business at once (default 1; only records of the same kind ever overlap, so the
    dependency order holds either way). `checkpoint` defaults to one in memory; pass
    `SQLiteCheckpoint(path)` to resume after a crash. `external_id` derives a missing one.
    """

    def __init__(
        self,
        thredfi: AsyncThredfi,
        *,
        checkpoint: Checkpoint | None = None,
        concurrency: int = DEFAULT_CONCURRENCY,
        per_business: int = 1,
        on_event: EventCallback | None = None,
        external_id: ExternalIdFunction | None = None,
    ) -> None:
        if concurrency < 1 or per_business < 1:
            raise InvalidRequestError("concurrency and per_business must be at least 1")
        self.thredfi = thredfi
        self.checkpoint: Checkpoint = checkpoint if checkpoint is not None else MemoryCheckpoint()
        self.concurrency = concurrency
        self.per_business = per_business
        self.on_event = on_event
        self.external_id = external_id

    def _emit(self, event: Planned | RecordDone | Finished) -> None:
        if self.on_event is not None:
            self.on_event(event)

    async def run(
        self,
        records: Iterable[RecordLike] | AsyncIterable[RecordLike],
    ) -> ImportReport:
        started = time.perf_counter()
        grouped: dict[str, list[Record]] = {}
        if isinstance(records, AsyncIterable):
            async for item in records:
                record = as_record(item, self.external_id)
                grouped.setdefault(record.business_id, []).append(record)
        else:
            for item in records:
                record = as_record(item, self.external_id)
                grouped.setdefault(record.business_id, []).append(record)
        totals: dict[str, int] = {}
        for group in grouped.values():
            for record in group:
                totals[record.kind] = totals.get(record.kind, 0) + 1
        self._emit(Planned(totals, len(grouped)))
        report = ImportReport()
        limiter = anyio.CapacityLimiter(self.concurrency)

        async def one(business_id: str, group: list[Record]) -> None:
            async with limiter:
                await _Business(self, business_id, report).run(group)

        async with anyio.create_task_group() as tasks:
            for business_id, group in grouped.items():
                tasks.start_soon(one, business_id, group)
        report.wall_time = time.perf_counter() - started
        self._emit(Finished(report))
        return report


class _Business:
    """One business's run: its plan, the ids known so far, and what failed."""

    def __init__(self, importer: BulkImporter, business_id: str, report: ImportReport) -> None:
        self.importer = importer
        self.business_id = business_id
        self.report = report
        # No business_id: every record is refused by the plan, and the view is never used.
        self.view: BusinessView | None = (
            importer.thredfi.business(business_id) if business_id else None
        )
        self.ids: dict[Key, str] = {}
        self.failed: dict[Key, str] = {}
        self.existing = ExistingIndex(self.view) if self.view is not None else None

    def _settle(
        self,
        record: Record,
        outcome: Outcome,
        *,
        id: str | None = None,
        reason: str | None = None,
        error: ThredfiError | None = None,
    ) -> None:
        key = (record.kind, record.external_id or "")
        if outcome == "failed" or outcome == "skipped":
            self.failed[key] = reason or outcome
            self.report.failures.append(
                Failure(
                    self.business_id,
                    record.kind,
                    record.external_id,
                    outcome,
                    reason or outcome,
                    error,
                    record.source,
                )
            )
        self.report.add(self.business_id, record.kind, outcome)
        self.importer._emit(
            RecordDone(self.business_id, record.kind, record.external_id, outcome, id, reason)
        )

    async def run(self, records: list[Record]) -> None:
        done = await self.importer.checkpoint.done(self.business_id) if self.business_id else {}
        self.ids.update(done)
        plan: BusinessPlan = plan_business(self.business_id, records, done)
        for record, reason in plan.refused:
            self._settle(record, "failed", reason=reason)
        slots = anyio.Semaphore(self.importer.per_business)
        for wave in plan.waves:
            async with anyio.create_task_group() as tasks:
                for record, needs in wave:
                    key = (record.kind, record.external_id or "")
                    if key in done:
                        self._settle(record, "resumed", id=done[key])
                        continue
                    blocked = [n for n in needs if n in self.failed]
                    if blocked:
                        kind, name = blocked[0]
                        reason = (
                            f"depends on {kind} {name!r}, which failed: {self.failed[(kind, name)]}"
                        )
                        self._settle(record, "skipped", reason=reason)
                        continue
                    await slots.acquire()
                    tasks.start_soon(self._create_released, record, slots)

    async def _create_released(self, record: Record, slots: anyio.Semaphore) -> None:
        try:
            await self._create(record)
        finally:
            slots.release()

    async def _create(self, record: Record) -> None:
        kind = KINDS[record.kind]
        external_id = record.external_id or ""
        body, path = resolve(record.kind, record.data, self.ids)
        assert self.view is not None
        resource: Any = getattr(self.view, kind.resource)
        raw: Any = resource.with_raw_response
        self.report.requests += 1
        try:
            answer = await raw.create(
                *path.values(),
                body=body,
                idempotency_key=idempotency_key(self.business_id, record.kind, external_id),
            )
        except ConflictError as error:
            found = None
            if error.error_code == "duplicate_external_id" and self.existing is not None:
                found = await self._find(record.kind, external_id)
            if found is None:
                self._settle(record, "failed", reason=_reason(error), error=error)
                return
            await self._done(record, "present", found)
            return
        except APIStatusError as error:
            self._settle(record, "failed", reason=_reason(error), error=error)
            return
        except ThredfiError as error:  # connection errors and timeouts, after the retries
            self._settle(record, "failed", reason=_reason(error), error=error)
            return
        outcome: Outcome = "created" if answer.status_code == 201 else "present"
        await self._done(record, outcome, _id_of(record.kind, answer.parsed))

    async def _find(self, kind: str, external_id: str) -> str | None:
        assert self.existing is not None
        try:
            return await self.existing.find(kind, external_id)
        except ThredfiError:
            return None

    async def _done(self, record: Record, outcome: Outcome, id: str) -> None:
        external_id = record.external_id or ""
        self.ids[(record.kind, external_id)] = id
        await self.importer.checkpoint.record(self.business_id, record.kind, external_id, id)
        self._settle(record, outcome, id=id)


def _reason(error: ThredfiError) -> str:
    if isinstance(error, APIStatusError):
        return str(error)  # status, error_code, message, field details and request id
    return f"{type(error).__name__}: {error}"


async def import_records(
    thredfi: AsyncThredfi,
    records: Iterable[RecordLike] | AsyncIterable[RecordLike],
    **options: Any,
) -> ImportReport:
    """`BulkImporter(thredfi, **options).run(records)`."""
    return await BulkImporter(thredfi, **options).run(records)
