"""The end-to-end flow, as a partner's backend runs it: `make demo` (or `python -m examples.demo`).

Against the embedded fake API by default (in process, no credentials, no network). With
THREDFI_PARTNER_UUID and THREDFI_API_KEY set, against the real sandbox instead (THREDFI_BASE_URL
overrides the host). Every step prints one aligned line; any failure prints the error and
exits non-zero.
"""

from __future__ import annotations

import asyncio
import datetime
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from thredfi_async import AsyncThredfi, ThredfiError


def money(cents: Any, currency: str) -> str:
    if not isinstance(cents, int):
        return "n/a"
    return f"{Decimal(cents).scaleb(-2):,.2f} {currency}"


class Steps:
    def __init__(self) -> None:
        self.number = 0
        self.started = time.perf_counter()

    async def run(self, title: str, step: Callable[[], Awaitable[tuple[str, Any]]]) -> Any:
        self.number += 1
        began = time.perf_counter()
        summary, result = await step()
        elapsed = (time.perf_counter() - began) * 1000
        print(f"{self.number:>2}. {title:<22} {summary:<68} {elapsed:6.0f} ms")
        return result


async def flow(thredfi: AsyncThredfi, target: str) -> None:
    steps = Steps()
    today = datetime.date.today()
    run_id = uuid.uuid4().hex[:8]
    currency = "GBP"
    print(f"thredfi-async demo against {target}\n")

    async def authenticate() -> tuple[str, Any]:
        page = await thredfi.businesses.list(page_size=1)
        return f"partner token fetched by the client; {page.count} business(es) visible", None

    async def onboard() -> tuple[str, Any]:
        business = await thredfi.businesses.create(
            body={
                "external_id": f"demo-merchant-{run_id}",
                "legal_name": "Acme Trading Ltd",
                "entity_type": "limited",
                "email": "books@acme.example",
                "country": "GB",
                "base_currency": currency,
            }
        )
        return (
            f"{business.legal_name} ({business.country}, {business.base_currency}) {business.id}",
            business,
        )

    await steps.run("authenticate", authenticate)
    business = await steps.run("onboard business", onboard)
    books = thredfi.business(business.id)

    async def mint_token() -> tuple[str, Any]:
        token = await books.frontend_token()
        return (
            f"widget token {token['access_token'][:12]}... expires in {token['expires_in']} s",
            token,
        )

    async def create_customer() -> tuple[str, Any]:
        customer = await books.customers.create(
            body={
                "external_id": f"demo-customer-{run_id}",
                "company_name": "Globex Corporation",
                "email": "ap@globex.example",
            }
        )
        return f"{customer.company_name} {customer.id}", customer

    await steps.run("mint business token", mint_token)
    customer = await steps.run("create customer", create_customer)

    async def create_invoice() -> tuple[str, Any]:
        invoice = await books.invoices.create(
            body={
                "external_id": f"demo-invoice-{run_id}",
                "invoice_number": f"INV-{run_id[:4].upper()}",
                "customer_id": customer.id,
                "sent_at": f"{today.isoformat()}T09:00:00Z",
                "due_at": f"{(today + datetime.timedelta(days=30)).isoformat()}T09:00:00Z",
                "line_items": [
                    {"description": "Widgets", "quantity": 3, "unit_price": 2500},
                    {"description": "Set-up", "quantity": 1, "unit_price": 5000},
                ],
            }
        )
        total = money(invoice.total_amount_cents, currency)
        return f"{invoice.invoice_number}: 3 x 25.00 + 50.00 = {total}, {invoice.status}", invoice

    invoice = await steps.run("create invoice", create_invoice)

    async def record_payment() -> tuple[str, Any]:
        created = await books.payments.create(
            body={
                "customer_id": customer.id,
                "total_amount_cents": 4000,
                "payment_date": today.isoformat(),
                "currency": currency,
                "payment_method": "bank_transfer",
                "allocations": [{"invoice_id": invoice.id, "amount_cents": 4000}],
            }
        )
        applied = created.payment.applied_invoices
        status = applied[0].status if applied else "n/a"
        outstanding = money(applied[0].outstanding_amount_cents if applied else None, currency)
        return (
            f"40.00 {currency} -> {invoice.invoice_number} {status}, outstanding {outstanding}",
            created,
        )

    async def refund_part() -> tuple[str, Any]:
        refund = await books.refunds.create(
            body={"invoice_id": invoice.id, "amount_cents": 1000, "method": "CASH"}
        )
        return (
            f"{refund.refunded_amount} {currency} refunded against {invoice.invoice_number}",
            refund,
        )

    await steps.run("record partial payment", record_payment)
    await steps.run("refund part", refund_part)

    async def list_invoices() -> tuple[str, Any]:
        lines = []
        async for listed in books.invoices.list():
            outstanding = money(listed.outstanding_amount_cents, currency)
            lines.append(f"{listed.invoice_number} {listed.status} outstanding {outstanding}")
        return f"{len(lines)} via async for: " + "; ".join(lines), lines

    async def ar_aging() -> tuple[str, Any]:
        report = await books.reports.get_ar_aging(as_of_date=today)
        buckets = report.total_aging_buckets
        detail = ", ".join(
            f"{label} {money(getattr(buckets, name, None), currency)[:-4]}"
            for label, name in (
                ("current", "current"),
                ("1-30d", "days_1_30"),
                ("90d+", "over_90_days"),
            )
        )
        return f"{money(report.total_outstanding_cents, currency)} due: {detail}", report

    async def profit_and_loss() -> tuple[str, Any]:
        report = await books.reports.get_profit_and_loss(
            start_date=today.replace(month=1, day=1), end_date=today
        )
        summary = report.summary
        return (
            f"revenue {money(summary.net_revenue_cents, currency)}, "
            f"net profit {money(summary.net_profit_cents, currency)}"
        ), report

    await steps.run("list invoices", list_invoices)
    await steps.run("AR aging", ar_aging)
    await steps.run("profit and loss", profit_and_loss)
    print(f"\ndone: {steps.number} steps in {time.perf_counter() - steps.started:.2f} s")


async def main() -> int:
    try:
        if os.environ.get("THREDFI_PARTNER_UUID") and os.environ.get("THREDFI_API_KEY"):
            base_url = os.environ.get("THREDFI_BASE_URL")
            async with AsyncThredfi(base_url=base_url) as thredfi:
                await flow(thredfi, f"the Thredfi sandbox ({thredfi.base_url})")
        else:
            from thredfi_async.testing import FakeThredfi

            fake = FakeThredfi()
            async with fake.client() as thredfi:
                await flow(
                    thredfi,
                    "the embedded fake API (in process; set THREDFI_PARTNER_UUID and "
                    "THREDFI_API_KEY to run it against the sandbox)",
                )
    except ThredfiError as error:
        print(f"\nFAILED: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
