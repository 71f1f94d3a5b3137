"""The arq worker that tests/scenarios/test_bulk_arq.py starts as real processes.

`python -m arq tests._arq_workers.WorkerSettings`, with REDIS_URL, ARQ_PREFIX and the client's
THREDFI_* variables in the environment. Its startup adds the process to a Redis set once the
worker's client is ready, so the test enqueues only when every worker can take jobs.
"""

from __future__ import annotations

import os
from typing import Any

from thredfi_async import Rate
from thredfi_async.bulk.arq import worker_settings

_settings: Any = worker_settings(
    os.environ["REDIS_URL"],
    partner=Rate(400, burst=40),
    prefix=os.environ["ARQ_PREFIX"],
    max_jobs=2,
    concurrency=2,
    queue_name=f"{os.environ['ARQ_PREFIX']}q",
)
_startup = _settings.on_startup


async def _announce(ctx: dict[str, Any]) -> None:
    await _startup(ctx)
    await ctx["redis"].sadd(f"{os.environ['ARQ_PREFIX']}ready", str(os.getpid()))


_settings.on_startup = _announce
WorkerSettings = _settings
