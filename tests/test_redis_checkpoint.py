"""RedisCheckpoint against a real redis-server: marks per business and run, concurrent marks,
an import resumed from it, and a Redis that does not answer stopping the import."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import anyio
import pytest

from benchmarks._bulk_data import Size, dataset, make_businesses
from tests._served import free_port
from thredfi_async import ThredfiError
from thredfi_async.bulk import BulkImporter, Checkpoint
from thredfi_async.redis import CheckpointError, RedisCheckpoint, connect
from thredfi_async.testing import FakeThredfi

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"  # redis.asyncio runs on asyncio only


@pytest.fixture
def prefix() -> str:
    return f"test-{uuid.uuid4().hex[:8]}:"


@pytest.fixture
async def checkpoint(redis_url: str, prefix: str) -> AsyncIterator[RedisCheckpoint]:
    made = RedisCheckpoint(redis_url, run="june", prefix=prefix)
    yield made
    await made.aclose()


async def test_marks_are_kept_per_business_and_run(
    checkpoint: RedisCheckpoint, redis_url: str, prefix: str
) -> None:
    assert isinstance(checkpoint, Checkpoint)
    await checkpoint.record("b1", "customer", "crm-7", "id-1")
    await checkpoint.record("b1", "invoice", "inv\x1f1", "id-2")  # the separator, in an id
    await checkpoint.record("b2", "customer", "crm-7", "id-3")

    assert await checkpoint.done("b1") == {
        ("customer", "crm-7"): "id-1",
        ("invoice", "inv\x1f1"): "id-2",
    }
    assert await checkpoint.done("b2") == {("customer", "crm-7"): "id-3"}
    assert await checkpoint.done("b3") == {}
    other = RedisCheckpoint(redis_url, run="july", prefix=prefix)
    try:
        assert await other.done("b1") == {}
    finally:
        await other.aclose()
    assert repr(checkpoint) == f"RedisCheckpoint(run='june', prefix={prefix!r})"


async def test_concurrent_marks_of_one_business_from_two_clients_are_all_kept(
    checkpoint: RedisCheckpoint, redis_url: str, prefix: str
) -> None:
    client = connect(redis_url, socket_timeout=5)
    second = RedisCheckpoint(client, run="june", prefix=prefix)
    async with anyio.create_task_group() as tasks:
        for n in range(200):
            store = checkpoint if n % 2 else second
            tasks.start_soon(store.record, "b1", "customer", f"c{n}", f"id-{n}")
    await second.aclose()  # not its client: the caller's
    assert await client.ping()
    await client.aclose()
    done = await checkpoint.done("b1")
    assert done == {("customer", f"c{n}"): f"id-{n}" for n in range(200)}


async def test_a_rerun_on_the_redis_checkpoint_sends_no_create(
    checkpoint: RedisCheckpoint,
) -> None:
    fake = FakeThredfi(seed=3)
    async with fake.client() as thredfi:
        business_ids = await make_businesses(thredfi, 2)
        records, _ = dataset(business_ids, Size(customers=2, invoices=3, payments=2, refunds=1))
        first = await BulkImporter(thredfi, checkpoint=checkpoint).run(records)
        sent = len(fake.requests)
        again = await BulkImporter(thredfi, checkpoint=checkpoint).run(records)
    assert first.total("created") == len(records)
    assert again.total("resumed") == len(records)
    assert again.requests == 0
    assert len(fake.requests) == sent


async def test_a_redis_that_does_not_answer_stops_the_import_with_a_checkpoint_error() -> None:
    dead = RedisCheckpoint(f"redis://127.0.0.1:{free_port()}/0", run="june", socket_timeout=0.2)
    with pytest.raises(CheckpointError, match="could not read the checkpoint of b1") as read:
        await dead.done("b1")
    assert isinstance(read.value, ThredfiError)
    with pytest.raises(CheckpointError, match="could not mark customer 'c1' of b1"):
        await dead.record("b1", "customer", "c1", "id-1")
    await dead.aclose()


def test_a_run_needs_a_name() -> None:
    with pytest.raises(ThredfiError, match="run must name the import"):
        RedisCheckpoint("redis://127.0.0.1:1/0", run="")
