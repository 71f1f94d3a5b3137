"""A bulk import spread over arq workers: one job per batch of businesses, on one Redis.

```python
# workers.py, run on every machine as `arq workers.WorkerSettings`
WorkerSettings = worker_settings(os.environ["REDIS_URL"], partner=Rate(50, burst=10))

# anywhere: enqueue, then wait for the reports
pool = await arq.create_pool(RedisSettings.from_dsn(os.environ["REDIS_URL"]))
jobs = await enqueue_import(pool, records, run="onboarding-june")
report = await gather_reports(jobs)
```
Every worker shares the partner and business tokens (`RedisTokenStore`), one request budget
(`RedisThrottle`) and the checkpoint of the run (`RedisCheckpoint`), so the workers together
mint each token once, keep within the rates, and a job retried by arq (its worker died, say)
resends nothing the checkpoint holds. A business's records stay in one job, which keeps their
order without any coordination between workers.

Job ids are derived from the run and the batch, so enqueueing the same run twice queues each
batch once while arq still holds its job or result. Needs the `arq` extra.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

try:
    from arq.connections import ArqRedis, RedisSettings
    from arq.constants import default_queue_name
    from arq.jobs import Job
    from arq.worker import func
except ImportError as exc:  # pragma: no cover - exercised in a subprocess without the extra
    from .._extras import MissingExtraError

    raise MissingExtraError("thredfi_async.bulk.arq", "arq", "arq") from exc

from .._client import AsyncThredfi
from .._exceptions import InvalidRequestError
from .._throttle import Rate
from ..redis import RedisCheckpoint, RedisThrottle, RedisTokenStore
from ..redis._tokens import DEFAULT_PREFIX
from ._importer import DEFAULT_CONCURRENCY, BulkImporter, RecordLike
from ._records import as_record
from ._report import ImportReport, Outcome

__all__ = [
    "TASK",
    "BatchReport",
    "enqueue_import",
    "gather_reports",
    "import_batch",
    "worker_settings",
]

TASK = "thredfi_import_batch"


@dataclass(slots=True)
class BatchReport:
    """What one job did, in plain values (a job's result crosses processes as a pickle).

    `counts` maps (business, kind, outcome) to a count; `failures` holds (business, kind,
    external_id, outcome, reason) for each record not created; `workers` names the worker
    processes (host and pid) that ran the jobs, for an operator tracing a batch.
    """

    counts: dict[tuple[str, str, Outcome], int] = field(default_factory=dict)
    failures: list[tuple[str, str, str | None, str, str]] = field(default_factory=list)
    requests: int = 0
    wall_time: float = 0.0
    workers: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, report: ImportReport) -> BatchReport:
        return cls(
            dict(report.counts),
            [(f.business_id, f.kind, f.external_id, f.outcome, f.reason) for f in report.failures],
            report.requests,
            report.wall_time,
            {f"{socket.gethostname()}:{os.getpid()}"},
        )

    def total(self, outcome: Outcome) -> int:
        return sum(n for (_, _, o), n in self.counts.items() if o == outcome)


async def import_batch(ctx: dict[str, Any], run: str, records: list[dict[str, Any]]) -> BatchReport:
    """The arq task: import one batch through this worker's client, on the run's checkpoint."""
    checkpoint = RedisCheckpoint(ctx["thredfi_redis"], run=run, prefix=ctx["thredfi_prefix"])
    importer = BulkImporter(
        ctx["thredfi"], checkpoint=checkpoint, concurrency=ctx["thredfi_concurrency"]
    )
    return BatchReport.of(await importer.run(records))


def worker_settings(
    redis_url: str,
    *,
    partner: Rate | None = None,
    business: Rate | None = None,
    concurrency: int = DEFAULT_CONCURRENCY,
    max_jobs: int = 4,
    prefix: str = DEFAULT_PREFIX,
    job_timeout: float = 3600,
    queue_name: str = default_queue_name,
    **client_options: Any,
) -> type:
    """The `WorkerSettings` class of an arq worker running imports.

    Each worker process holds one `AsyncThredfi` (made with `client_options`: credentials and
    base URL default to the environment, as always) on the shared token store and throttle.
    `max_jobs` batches run at once in a worker, each with `concurrency` businesses at once; the
    throttle, not these bounds, keeps the fleet within `partner` and `business`. `queue_name`
    keeps one deployment's jobs apart from another's on the same Redis (pass the same to
    `enqueue_import`).
    """

    async def startup(ctx: dict[str, Any]) -> None:
        tokens = RedisTokenStore(redis_url, prefix=prefix)
        throttle = RedisThrottle(redis_url, partner=partner, business=business, prefix=prefix)
        client = AsyncThredfi(token_store=tokens, throttle=throttle, **client_options)
        await client.__aenter__()
        ctx.update(
            thredfi=client,
            thredfi_tokens=tokens,
            thredfi_throttle=throttle,
            thredfi_redis=ctx["redis"],
            thredfi_prefix=prefix,
            thredfi_concurrency=concurrency,
        )

    async def shutdown(ctx: dict[str, Any]) -> None:
        if "thredfi" in ctx:
            await ctx["thredfi"].__aexit__(None, None, None)
            await ctx["thredfi_tokens"].aclose()
            await ctx["thredfi_throttle"].aclose()

    attributes: dict[str, Any] = {
        "functions": [func(import_batch, name=TASK, timeout=job_timeout)],
        "redis_settings": RedisSettings.from_dsn(redis_url),
        "on_startup": startup,
        "on_shutdown": shutdown,
        "max_jobs": max_jobs,
        "job_timeout": job_timeout,
        "queue_name": queue_name,
    }
    return type("WorkerSettings", (), attributes)


def batches(records: Iterable[RecordLike], businesses_per_job: int) -> list[list[dict[str, Any]]]:
    """The records grouped by business, `businesses_per_job` businesses to a batch."""
    grouped: dict[str, list[dict[str, Any]]] = {}
    for item in records:
        record = as_record(item, None)
        grouped.setdefault(record.business_id, []).append(
            {"business_id": record.business_id, "kind": record.kind, "data": record.data}
        )
    business_ids = list(grouped)
    return [
        [r for b in business_ids[i : i + businesses_per_job] for r in grouped[b]]
        for i in range(0, len(business_ids), businesses_per_job)
    ]


def _job_id(run: str, batch: Sequence[Mapping[str, Any]]) -> str:
    businesses = sorted({str(r["business_id"]) for r in batch})
    digest = hashlib.sha256("\x00".join(businesses).encode()).hexdigest()[:16]
    return f"thredfi-import:{run}:{digest}"


async def enqueue_import(
    pool: ArqRedis,
    records: Iterable[RecordLike],
    *,
    run: str,
    businesses_per_job: int = 1,
    queue_name: str = default_queue_name,
) -> list[Job]:
    """Queue one `import_batch` job per `businesses_per_job` businesses; returns the jobs.

    `pool` is arq's (`await arq.create_pool(RedisSettings.from_dsn(url))`); the jobs read their
    results through it, so keep it open until `gather_reports` returns. A batch whose job arq
    still holds (queued, running, or its result kept) is not queued again.
    """
    if businesses_per_job < 1:
        raise InvalidRequestError("businesses_per_job must be at least 1")
    jobs: list[Job] = []
    for batch in batches(records, businesses_per_job):
        job_id = _job_id(run, batch)
        job = await pool.enqueue_job(TASK, run, batch, _job_id=job_id, _queue_name=queue_name)
        jobs.append(job if job is not None else Job(job_id, pool, _queue_name=queue_name))
    return jobs


async def gather_reports(jobs: Iterable[Job]) -> BatchReport:
    """Wait for every job and add their reports up (a job that raised raises here); bound the
    wait with `asyncio.timeout` if it must end."""
    total = BatchReport()
    for job in jobs:
        part: BatchReport = await job.result()
        for key, n in part.counts.items():
            total.counts[key] = total.counts.get(key, 0) + n
        total.failures.extend(part.failures)
        total.requests += part.requests
        total.wall_time = max(total.wall_time, part.wall_time)
        total.workers |= part.workers
    return total
