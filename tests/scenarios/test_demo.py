"""The end-to-end demo (`make demo`) against the fake: the flow, its printout and its exit code."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from examples import demo
from thredfi_async import AsyncThredfi, models
from thredfi_async.testing import FakeThredfi

from .conftest import EVERY_WAY

pytestmark = pytest.mark.ways(*EVERY_WAY)

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without these the demo runs against the embedded fake, never the sandbox."""
    monkeypatch.delenv("THREDFI_PARTNER_UUID", raising=False)
    monkeypatch.delenv("THREDFI_API_KEY", raising=False)


@pytest.mark.asyncio
@pytest.mark.usefixtures("no_credentials")
async def test_demo_main_exits_0_and_prints_the_partial_payment(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert await demo.main() == 0
    out, err = capsys.readouterr()
    assert err == ""
    lines = out.splitlines()
    payment = next(line for line in lines if "record partial payment" in line)
    # 3 x 25.00 + 50.00 = 125.00 invoiced, 40.00 paid: 85.00 left, to the cent.
    assert "40.00 GBP -> INV-" in payment
    assert "PARTIALLY_PAID, outstanding 85.00 GBP" in payment
    listed = next(line for line in lines if "list invoices" in line)
    assert "1 via async for:" in listed
    assert "PARTIALLY_PAID outstanding 85.00 GBP" in listed
    assert "125.00 GBP, SENT" in next(line for line in lines if "create invoice" in line)
    assert "85.00 GBP due" in next(line for line in lines if "AR aging" in line)
    assert "done: 10 steps" in lines[-1]


@pytest.mark.asyncio
async def test_demo_flow_leaves_the_books_the_printout_describes(
    fake: FakeThredfi, thredfi: AsyncThredfi, capsys: pytest.CaptureFixture[str]
) -> None:
    await demo.flow(thredfi, "the scenario fake")
    out = capsys.readouterr().out
    assert out.startswith("thredfi-async demo against the scenario fake")

    page = await thredfi.businesses.list()
    assert [b.legal_name for b in page.results] == ["Acme Trading Ltd"]
    books = thredfi.business(str(page.results[0].id))
    invoices = await books.invoices.list().collect()
    assert len(invoices) == 1
    invoice = invoices[0]
    assert invoice.status == "PARTIALLY_PAID"
    assert invoice.total_amount_cents == 12_500
    assert invoice.outstanding_amount_cents == 8_500
    assert f"{invoice.invoice_number} PARTIALLY_PAID outstanding 85.00 GBP" in out

    payments = await books.payments.list().collect()
    assert [(p.total_amount, p.allocated_amount) for p in payments] == [(4_000, 4_000)]
    refunds = await books.refunds.list().collect()
    assert len(refunds) == 1
    assert refunds[0].refunded_amount == Decimal("10.00")
    # The demo dates its invoice by the wall clock, so it asks for the aging as of today too.
    report = await books.reports.get_ar_aging(as_of_date=datetime.date.today())
    assert isinstance(report, models.ARAgingReport)
    assert report.total_outstanding_cents == 8_500
    assert fake.server_errors == []


def test_python_m_examples_demo_exits_0_well_under_a_minute() -> None:
    env = {
        k: v for k, v in os.environ.items() if k not in ("THREDFI_PARTNER_UUID", "THREDFI_API_KEY")
    }
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "examples.demo"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    elapsed = time.perf_counter() - started
    assert done.returncode == 0, done.stderr
    assert "PARTIALLY_PAID, outstanding 85.00 GBP" in done.stdout
    assert "done: 10 steps" in done.stdout
    assert elapsed < 15, f"the demo took {elapsed:.1f} s"
