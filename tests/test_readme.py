"""Every Python block in the README runs as written, against the fake API.

The Quickstart and the pagination and retry examples run against the fake served on loopback
by `python -m thredfi_async.testing`, configured only by the environment it prints; the testing
example runs as a pytest file. The other blocks run in the tests of what they show (named in
ELSEWHERE), and a block nobody runs fails here.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests._readme import README, readme_block
from tests._served import served_fake_process
from thredfi_async import AsyncThredfi

ROOT = README.parent
# A line in a block -> the test that runs it.
HERE = {
    "async with AsyncThredfi() as thredfi:": "test_the_quickstart_runs_against_the_served_fake",
    "with Thredfi() as thredfi:": "test_the_sync_example_runs_against_the_served_fake",
    "print(page.count, page.has_next_page())": "test_the_pagination_examples_run",
    "books.invoices.list(prefetch=2)": "test_the_pagination_examples_run",
    "async def test_a_flaky_list_is_retried": "test_the_testing_example_passes_under_pytest",
    "async def record_payment(": "test_the_retry_example_records_a_payment_once",
}
ELSEWHERE = {
    "async def test_retries_a_flaky_list(": "tests/test_pytest_plugin.py",
    "httpx_mock: HTTPXMock": "tests/test_transport.py",
    "class Timings(Hook)": "tests/test_hooks.py",
    "OpenTelemetryHook()": "tests/test_otel.py",
    "RedisTokenStore(redis_url)": "tests/test_redis_tokens.py",
    "importer = BulkImporter(client, checkpoint=": "tests/scenarios/test_bulk_cli.py",
    "WorkerSettings = worker_settings(REDIS_URL": "tests/scenarios/test_bulk_arq.py",
}


def test_every_python_block_is_run_by_some_test() -> None:
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.DOTALL)
    for block in blocks:
        claimed = [line for line in (*HERE, *ELSEWHERE) if line in block]
        assert claimed, f"no test runs this README block:\n{block[:200]}"


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, str]]:
    """The fake served as a user would start it; what it prints, as an environment."""
    flags = ("--seed-businesses", "1", "--log-level", "warning")
    with served_fake_process(*flags, until="business_id") as printed:
        yield printed


def user_environment(served: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("THREDFI_", "THRED_"))}
    env.update({k: v for k, v in served.items() if k.startswith("THREDFI_")})
    return env


def run_python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )


def test_the_quickstart_runs_against_the_served_fake(served: dict[str, str]) -> None:
    result = run_python(
        readme_block("async with AsyncThredfi() as thredfi:"), user_environment(served)
    )
    assert result.returncode == 0, result.stderr
    # The last line is the NotFoundError branch: error code and request id.
    assert re.fullmatch(r"\w*not_found req_\S+", result.stdout.strip().splitlines()[-1])


def test_the_sync_example_runs_against_the_served_fake(served: dict[str, str]) -> None:
    result = run_python(readme_block("with Thredfi() as thredfi:"), user_environment(served))
    assert result.returncode == 0, result.stderr
    # The last line is the NotFoundError branch: the error code and the names the threads read.
    assert re.fullmatch(r"\w*not_found \['Globex'\]", result.stdout.strip().splitlines()[-1])


def in_a_coroutine(block: str) -> str:
    return "async def _block():\n" + textwrap.indent(block, "    ")


def test_the_pagination_examples_run(
    served: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in user_environment(served).items():
        monkeypatch.setenv(name, value)
    handled: list[object] = []

    async def handle(invoice: object) -> None:
        handled.append(invoice)

    async def run() -> None:
        async with AsyncThredfi() as thredfi:
            books = thredfi.business(served["business_id"])
            customer = (await books.customers.list()).results[0]
            for marker in ("print(page.count", "books.invoices.list(prefetch=2)"):
                namespace: dict[str, Any] = {"books": books, "customer": customer, "handle": handle}
                exec(in_a_coroutine(readme_block(marker)), namespace)
                await namespace["_block"]()
            assert len(handled) == (await books.invoices.list()).count

    asyncio.run(run())


def test_the_testing_example_passes_under_pytest(tmp_path: Path) -> None:
    test_file = tmp_path / "test_readme_example.py"
    test_file.write_text(readme_block("async def test_a_flaky_list_is_retried"))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test_file)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # anyio's plugin runs it on each backend installed: asyncio and trio here.
    assert "2 passed" in result.stdout


def test_the_retry_example_records_a_payment_once(
    served: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in user_environment(served).items():
        monkeypatch.setenv(name, value)
    namespace: dict[str, Any] = {}
    exec(readme_block("async def record_payment("), namespace)

    async def run() -> None:
        async with AsyncThredfi() as thredfi:
            books = thredfi.business(served["business_id"])
            invoice = (await books.invoices.list()).results[0]
            before = invoice.to_dict()["outstanding_amount_cents"]
            body = {
                "customer_id": str(invoice.to_dict()["customer"]["id"]),
                "total_amount_cents": 100,
                "payment_date": "2026-01-15",
                "currency": invoice.to_dict().get("currency", "GBP"),
                "payment_method": "bank_transfer",
                "allocations": [{"invoice_id": str(invoice.id), "amount_cents": 100}],
            }
            for _ in range(2):  # the same payment id twice: one payment
                await namespace["record_payment"](served["business_id"], "p-1", body)
            after = (await books.invoices.get(invoice.id)).to_dict()["outstanding_amount_cents"]
            assert before - after == 100

    asyncio.run(run())
