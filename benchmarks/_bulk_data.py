"""Import records for tests and benchmarks: businesses with customers, invoices, payments,
refunds and refund payments, shuffled, and the balances each invoice must end with."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any

from thredfi_async import AsyncThredfi


@dataclass(frozen=True, slots=True)
class Size:
    customers: int = 50
    invoices: int = 200
    payments: int = 150
    refunds: int = 20


FULL = Size()
SMALL = Size(customers=6, invoices=20, payments=15, refunds=4)


@dataclass(slots=True)
class Expected:
    """What one business must hold after the import: invoice external_id -> balances."""

    invoices: dict[str, dict[str, int]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)


async def make_businesses(thredfi: AsyncThredfi, count: int, prefix: str = "bulk") -> list[str]:
    ids = []
    for n in range(count):
        business = await thredfi.businesses.create(
            body={
                "external_id": f"{prefix}-{n}",
                "legal_name": f"Merchant {n} Ltd",
                "entity_type": "limited",
                "email": f"books{n}@merchant.test",
                "country": "GB",
            }
        )
        ids.append(str(business.id))
    return ids


def business_records(
    business_id: str, size: Size, rng: random.Random
) -> tuple[list[dict[str, Any]], Expected]:
    records: list[dict[str, Any]] = []
    expected = Expected()

    def add(kind: str, data: dict[str, Any]) -> None:
        records.append({"business_id": business_id, "kind": kind, "data": data})
        expected.counts[kind] = expected.counts.get(kind, 0) + 1

    for c in range(size.customers):
        add("customer", {"external_id": f"c{c}", "company_name": f"Customer {c}"})
    totals = []
    for i in range(size.invoices):
        lines: list[dict[str, Any]] = [
            {
                "description": f"item {n}",
                "quantity": rng.randint(1, 3),
                "unit_price": rng.randint(10, 50) * 100,
            }
            for n in range(rng.randint(1, 3))
        ]
        total = sum(int(line["quantity"]) * int(line["unit_price"]) for line in lines)
        totals.append(total)
        customer = f"c{i % size.customers}"
        add(
            "invoice",
            {
                "external_id": f"i{i}",
                "customer_external_id": customer,
                "line_items": lines,
                "sent_at": "2024-01-02T00:00:00Z",
            },
        )
        expected.invoices[f"i{i}"] = {"total": total, "paid": 0, "refunded": 0}
    for p in range(size.payments):
        invoice = p % size.invoices
        amount = totals[invoice] if p % 3 else totals[invoice] // 2
        add(
            "payment",
            {
                "external_id": f"p{p}",
                "customer_external_id": f"c{invoice % size.customers}",
                "total_amount_cents": amount,
                "payment_date": "2024-01-05",
                "allocations": [{"invoice_external_id": f"i{invoice}", "amount_cents": amount}],
            },
        )
        expected.invoices[f"i{invoice}"]["paid"] += amount
    for r in range(size.refunds):
        invoice = r % size.payments % size.invoices
        amount = min(500, expected.invoices[f"i{invoice}"]["paid"])
        add(
            "refund",
            {"external_id": f"r{r}", "invoice_external_id": f"i{invoice}", "amount_cents": amount},
        )
        add(
            "refund_payment",
            {"external_id": f"rp{r}", "refund_external_id": f"r{r}", "amount_cents": amount},
        )
        expected.invoices[f"i{invoice}"]["refunded"] += amount
    return records, expected


def dataset(
    business_ids: list[str], size: Size, seed: int = 7
) -> tuple[list[dict[str, Any]], dict[str, Expected]]:
    """Every business's records in one shuffled list, and what each business must end with."""
    rng = random.Random(seed)
    records: list[dict[str, Any]] = []
    expected: dict[str, Expected] = {}
    for business_id in business_ids:
        mine, expected[business_id] = business_records(business_id, size, rng)
        records.extend(mine)
    rng.shuffle(records)
    return records, expected


async def final_state(
    thredfi: AsyncThredfi, business_id: str
) -> tuple[dict[str, list[str]], dict[str, dict[str, int]]]:
    """external_ids per kind as the API lists them (repeats kept), and each invoice's balances."""
    books = thredfi.business(business_id)
    listed: dict[str, list[str]] = {}
    listed["customer"] = [str(c.external_id) async for c in books.customers.list()]
    invoices = [i async for i in books.invoices.list()]
    listed["invoice"] = [str(i.external_id) for i in invoices]
    listed["payment"] = [str(p.external_id) async for p in books.payments.list()]
    refunds = [r async for r in books.refunds.list()]
    listed["refund"] = [str(r.external_id) for r in refunds]
    listed["refund_payment"] = [
        str(payment.external_id)
        for refund in refunds
        async for payment in books.refund_payments.list(refund.id)
    ]
    balances = {}
    for invoice in invoices:
        data = invoice.to_dict()
        balances[str(invoice.external_id)] = {
            "total": data["total_amount_cents"],
            "paid": data["paid_amount_cents"],
            "refunded": data.get("refunded_amount_cents", 0),
        }
    return listed, balances
