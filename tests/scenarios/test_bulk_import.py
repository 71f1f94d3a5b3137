"""Bulk imports against the fake: exactly once, in order whatever the input order, resumable,
failures isolated to what depends on them, bounded, with events and a report that adds up.

The first test runs the full size (20 businesses x 50 customers, 200 invoices with line
items, 150 payments, 20 refunds with their refund payments: 8,800 records); the others use 20
businesses of a smaller size, which is enough to show what each one is about.
"""

from __future__ import annotations

import collections
import datetime
import random
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from benchmarks._bulk_data import FULL, SMALL, Size, dataset, final_state, make_businesses
from thredfi_async import AsyncThredfi, BadRequestError, BusinessView, CallInfo, Hook
from thredfi_async.bulk import (
    BulkImporter,
    Event,
    EventStream,
    Finished,
    Planned,
    RecordDone,
    SQLiteCheckpoint,
    fan_out,
    idempotency_key,
)
from thredfi_async.testing import FakeThredfi, RecordingClock

pytestmark = pytest.mark.anyio

NOW = datetime.datetime(2025, 6, 15, 12, 0, tzinfo=datetime.UTC)
KINDS = ("customer", "invoice", "payment", "refund", "refund_payment")
CREATES = {
    "customer": "create_customer",
    "invoice": "create_invoice",
    "payment": "create_invoice_payment",
    "refund": "create_refund",
    "refund_payment": "create_refund_payment",
}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fake() -> FakeThredfi:
    return FakeThredfi(now=NOW, seed=99, raise_server_errors=True)


@pytest.fixture
async def thredfi(fake: FakeThredfi) -> AsyncIterator[AsyncThredfi]:
    async with fake.client(clock=RecordingClock(NOW.timestamp())) as client:
        yield client


def creates(fake: FakeThredfi, since: int = 0) -> collections.Counter[str]:
    sent = collections.Counter(r.operation_id or "" for r in fake.requests[since:])
    return collections.Counter({kind: sent[op] for kind, op in CREATES.items()})


async def assert_imported_once(thredfi: AsyncThredfi, expected: dict[str, Any], size: Size) -> None:
    for business_id, wanted in expected.items():
        listed, balances = await final_state(thredfi, business_id)
        for kind in KINDS:
            assert len(listed[kind]) == wanted.counts[kind], (business_id, kind)
            assert len(set(listed[kind])) == len(listed[kind]), f"a {kind} was created twice"
        assert balances == wanted.invoices


async def test_a_shuffled_import_creates_every_record_once_with_exact_counts(
    fake: FakeThredfi, thredfi: AsyncThredfi
) -> None:
    business_ids = await make_businesses(thredfi, 20)
    records, expected = dataset(business_ids, FULL)
    assert len(records) == 8_800
    events: list[Event] = []
    report = await BulkImporter(thredfi, on_event=events.append).run(records)

    assert report.failures == []
    for business_id in business_ids:
        for kind in KINDS:
            wanted = expected[business_id].counts[kind]
            assert report.total("created", business_id=business_id, kind=kind) == wanted
    assert report.total("created") == len(records)
    assert creates(fake) == collections.Counter(
        {kind: sum(e.counts[kind] for e in expected.values()) for kind in KINDS}
    )
    await assert_imported_once(thredfi, expected, FULL)

    assert isinstance(events[0], Planned)
    assert sum(events[0].totals.values()) == len(records)
    assert isinstance(events[-1], Finished)
    assert events[-1].report is report
    done = [e for e in events if isinstance(e, RecordDone)]
    assert len(done) == len(records)
    assert all(e.id for e in done)
    assert report.rate > 0
    assert report.wall_time > 0


async def test_a_rerun_with_the_checkpoint_sends_no_create(
    fake: FakeThredfi, thredfi: AsyncThredfi, tmp_path: Path
) -> None:
    business_ids = await make_businesses(thredfi, 3)
    records, expected = dataset(business_ids, SMALL)
    await BulkImporter(thredfi, checkpoint=SQLiteCheckpoint(tmp_path / "sync.db")).run(records)
    before = len(fake.requests)

    report = await BulkImporter(thredfi, checkpoint=SQLiteCheckpoint(tmp_path / "sync.db")).run(
        records
    )
    assert report.total("resumed") == len(records)
    assert sum(creates(fake, before).values()) == 0
    await assert_imported_once(thredfi, expected, SMALL)


async def test_a_rerun_without_the_checkpoint_finds_everything_present(
    fake: FakeThredfi, thredfi: AsyncThredfi
) -> None:
    """Deduplicated kinds answer 200; customers and refunds answer 409 and are looked up."""
    business_ids = await make_businesses(thredfi, 2)
    records, expected = dataset(business_ids, SMALL)
    await BulkImporter(thredfi).run(records)
    report = await BulkImporter(thredfi).run(records)
    assert report.failures == []
    assert report.total("present") == len(records)
    assert report.total("created") == 0
    await assert_imported_once(thredfi, expected, SMALL)


async def test_an_interrupted_run_resumes_without_resending_what_is_checkpointed(
    fake: FakeThredfi, thredfi: AsyncThredfi, tmp_path: Path
) -> None:
    business_ids = await make_businesses(thredfi, 4)
    records, expected = dataset(business_ids, SMALL)
    stop_after = random.Random(3).randrange(50, len(records) - 50)
    settled = 0
    enough = anyio.Event()

    def count(event: Event) -> None:
        nonlocal settled
        if isinstance(event, RecordDone):
            settled += 1
            if settled == stop_after:
                enough.set()

    checkpoint = SQLiteCheckpoint(tmp_path / "sync.db")
    async with anyio.create_task_group() as tasks:

        async def interrupt() -> None:
            await enough.wait()
            tasks.cancel_scope.cancel()

        tasks.start_soon(interrupt)
        await BulkImporter(thredfi, checkpoint=checkpoint, on_event=count).run(records)
    await checkpoint.aclose()
    done = {
        idempotency_key(b, kind, external_id)
        for b in business_ids
        for (kind, external_id) in (await SQLiteCheckpoint(tmp_path / "sync.db").done(b))
    }
    assert stop_after <= len(done) < len(records)
    before = len(fake.requests)

    report = await BulkImporter(thredfi, checkpoint=SQLiteCheckpoint(tmp_path / "sync.db")).run(
        records
    )
    resent = [r for r in fake.requests[before:] if r.idempotency_key in done]
    assert resent == []
    assert report.total("resumed") == len(done)
    assert report.total("resumed") + report.total("created") + report.total("present") == len(
        records
    )
    await assert_imported_once(thredfi, expected, SMALL)


async def test_a_refused_record_fails_with_its_typed_error_and_its_dependants_are_skipped(
    fake: FakeThredfi, thredfi: AsyncThredfi
) -> None:
    (business_id,) = await make_businesses(thredfi, 1)
    absent_customer = "00000000-0000-4000-8000-000000000001"
    records = [
        {"business_id": business_id, "kind": "customer", "data": {"external_id": "c1"}},
        {
            "business_id": business_id,
            "kind": "invoice",
            "data": {
                "external_id": "bad",
                "customer_id": absent_customer,
                "line_items": [{"description": "x", "quantity": 1, "unit_price": 100}],
            },
        },
        {
            "business_id": business_id,
            "kind": "payment",
            "data": {
                "external_id": "p1",
                "customer_external_id": "c1",
                "total_amount_cents": 100,
                "payment_date": "2025-06-01",
                "allocations": [{"invoice_external_id": "bad", "amount_cents": 100}],
            },
        },
    ]
    report = await BulkImporter(thredfi).run(records)
    failed, skipped = report.failures
    assert (failed.kind, failed.outcome, failed.external_id) == ("invoice", "failed", "bad")
    assert isinstance(failed.error, BadRequestError)
    assert "customer_id" in failed.error.details
    assert (skipped.kind, skipped.outcome, skipped.error) == ("payment", "skipped", None)
    assert skipped.reason.startswith("depends on invoice 'bad', which failed: 400")
    assert report.total("created") == 1
    assert fake.requests.count("create_invoice_payment") == 0


async def test_transient_failures_go_through_the_clients_retries(
    fake: FakeThredfi, thredfi: AsyncThredfi
) -> None:
    business_ids = await make_businesses(thredfi, 1)
    records, expected = dataset(business_ids, SMALL)
    fake.faults.fail(503, times=2, operation_id="create_invoice")
    fake.faults.fail(503, times=1, operation_id="create_refund_payment", after_processing=True)
    report = await BulkImporter(thredfi).run(records)
    assert report.failures == []
    assert fake.requests.count("create_invoice") == SMALL.invoices + 2
    await assert_imported_once(thredfi, expected, SMALL)


async def test_a_customer_lost_to_a_5xx_is_not_replayed_and_the_rerun_finds_it(
    fake: FakeThredfi, thredfi: AsyncThredfi
) -> None:
    """Customers do not deduplicate: a 5xx after processing is not retried (a replay could
    create a second one); its invoices are skipped, and the next run finds it by its 409."""
    (business_id,) = await make_businesses(thredfi, 1)
    records, expected = dataset([business_id], SMALL)
    fake.faults.fail(503, times=1, operation_id="create_customer", after_processing=True)
    first = await BulkImporter(thredfi).run(records)
    assert first.total("failed") == 1
    assert first.total("skipped") > 0
    second = await BulkImporter(thredfi).run(records)
    assert second.failures == []
    await assert_imported_once(thredfi, expected, SMALL)


class InFlight(Hook):
    """The most businesses with a create on the wire at once."""

    def __init__(self) -> None:
        self.now: set[str] = set()
        self.most = 0
        self.per_business: collections.Counter[str] = collections.Counter()
        self.most_per_business = 0

    def before_call(self, call: CallInfo) -> None:
        if call.business_id and call.method == "POST" and not call.token_exchange:
            self.per_business[call.business_id] += 1
            self.now.add(call.business_id)
            self.most = max(self.most, len(self.now))
            self.most_per_business = max(
                self.most_per_business, self.per_business[call.business_id]
            )

    def after_call(self, call: CallInfo) -> None:
        if call.business_id and call.method == "POST" and not call.token_exchange:
            self.per_business[call.business_id] -= 1
            if not self.per_business[call.business_id]:
                self.now.discard(call.business_id)


async def test_concurrency_is_bounded_across_businesses_and_one_at_a_time_within(
    fake: FakeThredfi,
) -> None:
    hook = InFlight()
    fake.faults.latency(0.002)
    async with fake.client(hooks=[hook]) as thredfi:
        business_ids = await make_businesses(thredfi, 6)
        records, _ = dataset(business_ids, Size(customers=3, invoices=6, payments=3, refunds=1))
        await BulkImporter(thredfi, concurrency=3).run(records)
    assert hook.most == 3
    assert hook.most_per_business == 1


async def test_fan_out_reads_every_business_within_the_bound(
    fake: FakeThredfi, thredfi: AsyncThredfi
) -> None:
    business_ids = await make_businesses(thredfi, 5)
    records, expected = dataset(business_ids, SMALL)
    await BulkImporter(thredfi).run(records)
    events: list[Event] = []
    missing = "00000000-0000-4000-8000-00000000dead"

    async def outstanding(books: BusinessView) -> int:
        aging = await books.reports.get_ar_aging()
        return int(aging.to_dict()["total_outstanding_cents"])

    report = await fan_out(
        thredfi, [*business_ids, missing], outstanding, concurrency=2, on_event=events.append
    )
    assert report.results == {
        b: sum(i["total"] - i["paid"] for i in expected[b].invoices.values()) for b in business_ids
    }
    assert set(report.failures) == {missing}
    assert len([e for e in events if isinstance(e, RecordDone)]) == 6


async def test_the_events_are_also_an_async_iterator_that_ends_after_finished(
    thredfi: AsyncThredfi,
) -> None:
    business_ids = await make_businesses(thredfi, 3)
    records, _ = dataset(business_ids, SMALL)
    stream = EventStream()
    seen: list[Event] = []
    async with anyio.create_task_group() as tasks:
        tasks.start_soon(BulkImporter(thredfi, on_event=stream).run, records)
        async for event in stream:
            seen.append(event)
    assert isinstance(seen[0], Planned)
    assert isinstance(seen[-1], Finished)
    assert seen[-1].report.total("created") == len(records)
    assert sum(isinstance(e, RecordDone) for e in seen) == len(records)


async def test_an_event_stream_closed_early_ends_its_iteration_and_the_run_goes_on(
    thredfi: AsyncThredfi,
) -> None:
    business_ids = await make_businesses(thredfi, 2)
    records, _ = dataset(business_ids, SMALL)
    stream = EventStream()
    stream(Planned({}, 0))
    stream.close()
    assert [e async for e in stream] == [Planned({}, 0)]
    report = await BulkImporter(thredfi, on_event=stream).run(records)  # nobody reads it
    assert report.total("created") == len(records)
