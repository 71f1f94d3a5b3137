"""`thredfi import` as an operator runs it: a console script, configured by the environment,
against the fake served on loopback; killed with SIGKILL mid-run and resumed."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio
import pytest

from benchmarks._bulk_data import FULL, SMALL, dataset, final_state, make_businesses
from tests._readme import readme_block
from tests._served import Board, install_fake, serving
from thredfi_async.bulk import SQLiteCheckpoint, idempotency_key
from thredfi_async.testing import FakeThredfi

THREDFI = str(Path(sys.executable).with_name("thredfi"))


@pytest.fixture(scope="module")
def board() -> Iterator[Board]:
    with serving() as served_board:
        yield served_board


@pytest.fixture
def fake(board: Board) -> FakeThredfi:
    return install_fake(board, raise_server_errors=True)


def environment(fake: FakeThredfi) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("THREDFI_", "THRED_"))}
    env.update(
        THREDFI_PARTNER_UUID=fake.partner_uuid,
        THREDFI_API_KEY=fake.api_key,
        THREDFI_BASE_URL=fake.base_url,
    )
    return env


def write_jsonl(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def thredfi(fake: FakeThredfi, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [THREDFI, *args], env=environment(fake), capture_output=True, text=True, timeout=120
    )


def businesses(fake: FakeThredfi, count: int) -> list[str]:
    async def make() -> list[str]:
        async with fake.client() as client:
            return await make_businesses(client, count)

    return anyio.run(make)


def test_dry_run_reports_a_float_a_missing_external_id_and_an_absent_invoice(
    fake: FakeThredfi, tmp_path: Path
) -> None:
    (business_id,) = businesses(fake, 1)
    before = len(fake.requests)
    line = {"description": "Widgets", "quantity": 1}
    records = [
        {"kind": "customer", "data": {"external_id": "c1", "company_name": "Globex"}},
        {
            "kind": "invoice",
            "data": {
                "external_id": "i1",
                "customer_external_id": "c1",
                "line_items": [line | {"unit_price": 10.5}],
            },
        },
        {"kind": "customer", "data": {"company_name": "Initech"}},
        {
            "kind": "payment",
            "data": {
                "external_id": "p1",
                "customer_external_id": "c1",
                "total_amount_cents": 100,
                "payment_date": "2025-06-01",
                "allocations": [{"invoice_external_id": "i-absent", "amount_cents": 100}],
            },
        },
        {
            "kind": "invoice",
            "data": {
                "external_id": "i2",
                "customer_external_id": "c1",
                "line_items": [line | {"unit_price": 100}],
            },
        },
    ]
    path = write_jsonl(tmp_path / "bad.jsonl", [r | {"business_id": business_id} for r in records])

    result = thredfi(fake, "import", str(path), "--dry-run")

    assert result.returncode == 1, result.stderr
    lines = result.stdout.splitlines()
    assert lines[:3] == [
        f"bad.jsonl:2: invoice i1 of {business_id}: line_items[0].unit_price must be an integer"
        " (minor units), got Decimal('10.5')",
        f"bad.jsonl:3: customer (no external_id) of {business_id}: external_id is missing: "
        "every record needs one, so a rerun cannot create it twice",
        f"bad.jsonl:4: payment p1 of {business_id}: refers to invoice 'i-absent': not in the"
        " input nor already done",
    ]
    assert lines[3] == "5 records, 1 businesses: 2 would be sent, 3 refused; nothing was sent"
    assert len(fake.requests) == before  # not even a token


def test_an_import_is_not_repeated_without_resume_and_a_resumed_one_sends_nothing(
    fake: FakeThredfi, tmp_path: Path
) -> None:
    records, _ = dataset(businesses(fake, 2), SMALL)
    path = write_jsonl(tmp_path / "records.jsonl", records)
    first = thredfi(fake, "import", str(path), "--no-progress")
    assert first.returncode == 0, first.stdout + first.stderr
    assert f"created {len(records)}, present 0, resumed 0, failed 0" in first.stdout
    assert (tmp_path / "records.jsonl.checkpoint.db").exists()

    again = thredfi(fake, "import", str(path))
    assert again.returncode == 2
    assert "pass --resume" in again.stderr

    before = len(fake.requests)
    resumed = thredfi(fake, "import", str(path), "--resume", "--events")
    assert resumed.returncode == 0, resumed.stderr
    assert f"resumed {len(records)}" in resumed.stdout
    assert [r.operation_id for r in fake.requests[before:]] == []  # no token, no create
    outcomes = {json.loads(line)["outcome"] for line in resumed.stderr.splitlines()}
    assert outcomes == {"resumed"}


def done_count(path: Path) -> int:
    try:
        with sqlite3.connect(path) as db:
            return int(db.execute("SELECT count(*) FROM done").fetchone()[0])
    except sqlite3.OperationalError:  # not created yet
        return 0


def test_sigkill_mid_import_then_resume_reaches_the_same_state_without_resending(
    fake: FakeThredfi, tmp_path: Path
) -> None:
    business_ids = businesses(fake, 20)
    records, expected = dataset(business_ids, FULL)  # 8,800 records
    path = write_jsonl(tmp_path / "records.jsonl", records)
    checkpoint = tmp_path / "sync.db"
    kill_at = random.Random().randrange(200, len(records) - 2_000)
    process = subprocess.Popen(
        [THREDFI, "import", str(path), "--checkpoint", str(checkpoint), "--concurrency", "2"],
        env=environment(fake),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while done_count(checkpoint) < kill_at:
        assert process.poll() is None, "the import ended before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.005)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL

    async def done_keys() -> set[str]:
        store = SQLiteCheckpoint(checkpoint)
        keys = {
            idempotency_key(b, kind, external_id)
            for b in business_ids
            for kind, external_id in await store.done(b)
        }
        await store.aclose()
        return keys

    done = anyio.run(done_keys)
    assert kill_at <= len(done) < len(records)
    before = len(fake.requests)
    resumed = thredfi(fake, "import", str(path), "--checkpoint", str(checkpoint), "--resume")
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert [r for r in fake.requests[before:] if r.idempotency_key in done] == []
    assert f"resumed {len(done)}" in resumed.stdout

    async def check() -> None:
        async with fake.client() as client:
            for business_id in business_ids:
                listed, balances = await final_state(client, business_id)
                for kind, external_ids in listed.items():
                    assert len(external_ids) == expected[business_id].counts[kind], kind
                    assert len(set(external_ids)) == len(external_ids), f"{kind} twice"
                assert balances == expected[business_id].invoices

    anyio.run(check)


def test_the_readme_bulk_import_example_imports_once_then_resumes(
    fake: FakeThredfi, tmp_path: Path
) -> None:
    code = readme_block("importer = BulkImporter(client, checkpoint=")
    (business_id,) = businesses(fake, 1)
    env = environment(fake) | {"BUSINESS_ID": business_id}

    def run() -> list[str]:
        done = subprocess.run(
            [sys.executable, "-c", code],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout.splitlines()

    summary, results = run()
    assert summary.startswith("created 3, present 0, resumed 0, failed 0, skipped 0 in ")
    assert results == f"{{'{business_id}': 0}}"  # the invoice is paid in full
    assert (tmp_path / "sync.db").exists()
    summary, _ = run()
    assert summary.startswith("created 0, present 0, resumed 3, failed 0, skipped 0 in ")
