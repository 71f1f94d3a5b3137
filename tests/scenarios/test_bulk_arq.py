"""A bulk import spread over two real arq worker processes on a real redis-server, both calling
the fake served on loopback: the businesses split between them, the final state is the one a
single-process import reaches, and the workers share their tokens and the checkpoint."""

from __future__ import annotations

import importlib
import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any, cast

import anyio
import pytest
from arq import create_pool
from arq.connections import RedisSettings

from benchmarks._bulk_data import Size, dataset, final_state, make_businesses
from tests._readme import readme_block
from tests._served import serve
from thredfi_async import AsyncThredfi, InvalidRequestError, Rate
from thredfi_async.bulk import BulkImporter
from thredfi_async.bulk.arq import (
    TASK,
    BatchReport,
    batches,
    enqueue_import,
    gather_reports,
    import_batch,
    worker_settings,
)
from thredfi_async.redis import RedisCheckpoint, connect
from thredfi_async.testing import FakeThredfi

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[2]
SIZE = Size(customers=3, invoices=8, payments=6, refunds=2)
BUSINESSES = 6


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # arq and redis.asyncio run on asyncio only


@pytest.fixture
def prefix() -> str:
    return f"arq-{uuid.uuid4().hex[:8]}:"


def served_client(fake: FakeThredfi, base_url: str) -> AsyncThredfi:
    return AsyncThredfi(fake.partner_uuid, fake.api_key, base_url=base_url)


@pytest.fixture
def workers(redis_url: str, prefix: str, tmp_path: Path) -> Iterator[Any]:
    """Start two `arq` worker processes once `start(base_url, fake)` is called; their logs are
    shown when the test fails."""
    processes: list[subprocess.Popen[bytes]] = []
    logs = [tmp_path / f"worker-{n}.log" for n in range(2)]

    def start(
        base_url: str,
        fake: FakeThredfi,
        settings: str = "tests._arq_workers.WorkerSettings",
        cwd: Path = ROOT,
    ) -> None:
        env = {
            **os.environ,
            "REDIS_URL": redis_url,
            "ARQ_PREFIX": prefix,
            "THREDFI_BASE_URL": base_url,
            "THREDFI_PARTNER_UUID": fake.partner_uuid,
            "THREDFI_API_KEY": fake.api_key,
        }
        for log in logs:
            with log.open("wb") as out:
                processes.append(
                    subprocess.Popen(
                        [sys.executable, "-m", "arq", settings],
                        cwd=cwd,
                        env=env,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                    )
                )

    yield start
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for log in logs:
        if log.exists():
            print(f"--- {log.name}", log.read_text(errors="replace")[-3000:], sep="\n")


async def wait_ready(redis_url: str, prefix: str, count: int) -> None:
    redis = connect(redis_url, socket_timeout=5)
    try:
        for _ in range(600):  # a minute
            if await cast("Awaitable[int]", redis.scard(f"{prefix}ready")) >= count:
                return
            await anyio.sleep(0.1)
        pytest.fail("the arq workers did not start within a minute")
    finally:
        await redis.aclose()


async def single_process_state() -> dict[int, Any]:
    """What one BulkImporter in this process leaves at a fake of its own, per business index."""
    fake = FakeThredfi(seed=5)
    async with fake.client() as thredfi:
        business_ids = await make_businesses(thredfi, BUSINESSES)
        records, _ = dataset(business_ids, SIZE)
        report = await BulkImporter(thredfi).run(records)
        assert report.failures == []
        return {n: await normalised(thredfi, b) for n, b in enumerate(business_ids)}


async def normalised(thredfi: AsyncThredfi, business_id: str) -> Any:
    listed, balances = await final_state(thredfi, business_id)
    return {kind: sorted(ids) for kind, ids in listed.items()}, balances


async def test_two_arq_workers_split_the_businesses_and_reach_the_single_process_state(
    redis_url: str, prefix: str, workers: Any
) -> None:
    expected = await single_process_state()
    fake = FakeThredfi(seed=5)
    with serve(fake.app) as base_url:
        async with served_client(fake, base_url) as thredfi:
            business_ids = await make_businesses(thredfi, BUSINESSES)
            records, _ = dataset(business_ids, SIZE)
            workers(base_url, fake)
            await wait_ready(redis_url, prefix, 2)
            pool = await create_pool(RedisSettings.from_dsn(redis_url))
            try:
                jobs = await enqueue_import(pool, records, run="june", queue_name=f"{prefix}q")
                with anyio.fail_after(120):
                    report: BatchReport = await gather_reports(jobs)
                again = await enqueue_import(pool, records, run="june", queue_name=f"{prefix}q")
                assert [j.job_id for j in again] == [j.job_id for j in jobs]
                assert await gather_reports(again) == report  # queued once
            finally:
                await pool.aclose()
            minted = (
                fake.requests.count("get_partner_token"),
                fake.requests.count("get_business_token"),
            )
            state = {n: await normalised(thredfi, b) for n, b in enumerate(business_ids)}

    assert report.failures == []
    assert report.total("created") == len(records)
    assert len(jobs) == BUSINESSES  # one job per business
    assert len(report.workers) == 2, "both workers took jobs"
    assert state == expected
    # The workers minted one partner token and one per business between them (the other
    # partner token is this test's client's, which made the businesses).
    assert minted == (2, BUSINESSES)
    checkpoint = RedisCheckpoint(redis_url, run="june", prefix=prefix)
    try:
        marked = sum([len(await checkpoint.done(b)) for b in business_ids])
    finally:
        await checkpoint.aclose()
    assert marked == len(records)


def test_a_batch_holds_whole_businesses() -> None:
    records, _ = dataset(["b1", "b2", "b3"], SIZE)
    split = batches(records, businesses_per_job=2)
    assert [sorted({r["business_id"] for r in batch}) for batch in split] == [
        ["b1", "b2"],
        ["b3"],
    ]
    assert sum(len(batch) for batch in split) == len(records)


async def test_the_readme_deployment_imports_through_its_workers(
    redis_url: str, workers: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "workers.py").write_text(readme_block("WorkerSettings = worker_settings(REDIS_URL"))
    fake = FakeThredfi(seed=5)
    with serve(fake.app) as base_url:
        async with served_client(fake, base_url) as thredfi:
            business_ids = await make_businesses(thredfi, 2)
            records, _ = dataset(business_ids, SIZE)
            workers(base_url, fake, "workers.WorkerSettings", tmp_path)
            with pytest.MonkeyPatch.context() as patch:
                patch.setenv("REDIS_URL", redis_url)
                patch.syspath_prepend(str(tmp_path))
                module = importlib.import_module("workers")
            try:
                with anyio.fail_after(120):
                    await module.import_everything(records)
            finally:
                sys.modules.pop("workers", None)
            state = [await normalised(thredfi, b) for b in business_ids]
    assert capsys.readouterr().out == f"{len(records)} created, 0 failed or skipped\n"
    for (listed, _), business_id in zip(state, business_ids, strict=True):
        mine = [r for r in records if r["business_id"] == business_id]
        for kind, ids in listed.items():
            assert ids == sorted(r["data"]["external_id"] for r in mine if r["kind"] == kind)


async def test_the_worker_task_imports_a_batch_in_this_process_and_resumes_on_a_retry(
    redis_url: str, prefix: str
) -> None:
    fake = FakeThredfi(seed=5)
    with serve(fake.app) as base_url:
        settings: Any = worker_settings(
            redis_url,
            partner=Rate(200, burst=20),
            prefix=prefix,
            partner_uuid=fake.partner_uuid,
            api_key=fake.api_key,
            base_url=base_url,
        )
        assert settings.functions[0].name == TASK
        assert settings.queue_name == "arq:queue"
        pool = await create_pool(RedisSettings.from_dsn(redis_url))
        ctx: dict[str, Any] = {"redis": pool}
        await settings.on_startup(ctx)
        try:
            business_ids = await make_businesses(ctx["thredfi"], 1)
            records, _ = dataset(business_ids, SIZE)
            (batch,) = batches(records, businesses_per_job=5)
            first = await import_batch(ctx, "in-process", batch)
            retried = await import_batch(ctx, "in-process", batch)  # arq ran the job again
        finally:
            await settings.on_shutdown(ctx)
            await pool.aclose()
    assert first.total("created") == len(records)
    assert retried.total("resumed") == len(records)
    assert retried.requests == 0
    assert first.workers == {f"{socket.gethostname()}:{os.getpid()}"}


async def test_a_shutdown_before_startup_closes_nothing_and_batches_need_a_business() -> None:
    settings: Any = worker_settings("redis://127.0.0.1:1/0")
    await settings.on_shutdown({})
    with pytest.raises(InvalidRequestError, match="businesses_per_job"):
        await enqueue_import(cast(Any, None), [], run="r", businesses_per_job=0)
