"""What one write costs the fake in a small business and in a large one, side by side.

A write is all or nothing: the fake saves what a request changes so that a failure can put it
back. That save must cost what the request touches, not the size of the books, or a bulk
import into one business slows down with every record it adds. Two businesses of one fake, one
seeded with 100 invoices and one with 10,000, take turns at the same writes (a customer, then
an invoice for it, over HTTP in process); the figure is the ratio of their medians.

`python -m benchmarks.fake_writes [--smoke]` runs it alone.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
from collections.abc import Awaitable, Callable, Sequence

import httpx

from thredfi_async.testing import FakeThredfi

from ._harness import Figure, Target, interleave_async, median

__all__ = ["main", "run"]

SIZES = {"small": (10, 10), "large": (100, 100)}  # customers x invoices per customer
SMOKE_SIZES = {"small": (2, 5), "large": (10, 10)}


async def run(*, smoke: bool = False) -> list[Figure]:
    sizes = SMOKE_SIZES if smoke else SIZES
    rounds, writes = (2, 5) if smoke else (9, 50)
    fake = FakeThredfi(seed=7)
    async with fake.http_client() as http:
        contenders: dict[str, Callable[[], Awaitable[object]]] = {}
        records: dict[str, int] = {}
        for name, (customers, invoices) in sizes.items():
            seeded = fake.seed(customers_per_business=customers, invoices_per_customer=invoices)
            business_id = seeded[0].business_id
            records[name] = len(fake.books(business_id).invoices)
            contenders[name] = _writer(fake, http, business_id, writes)
        for contender in contenders.values():  # warm up the code paths
            await contender()
        samples = await interleave_async(contenders, rounds=rounds)
    per_write = {name: median(values) / (2 * writes) for name, values in samples.items()}
    note = (
        f"per write: {per_write['small'] * 1000:.2f} ms with {records['small']} invoices, "
        f"{per_write['large'] * 1000:.2f} ms with {records['large']} invoices"
    )
    return [
        Figure(
            name="fake.write_cost_large_vs_small",
            value=per_write["large"] / per_write["small"],
            target=Target("<=", 1.5),
            description="seconds per write in a 10,000-invoice business over a 100-invoice one",
            note=note,
            context={f"{name}_s": value for name, value in per_write.items()} | records,
        )
    ]


def _writer(
    fake: FakeThredfi, http: httpx.AsyncClient, business_id: str, writes: int
) -> Callable[[], Awaitable[object]]:
    path = f"/v1/platform/businesses/{business_id}"
    headers = {"Authorization": f"Bearer {fake.business_token(business_id)}"}
    numbers = itertools.count()

    async def write() -> None:
        for _ in range(writes):
            number = next(numbers)
            customer = await http.post(
                f"{path}/customers/", json={"company_name": f"Bench {number}"}, headers=headers
            )
            customer.raise_for_status()
            line = {"description": "Work", "quantity": 1, "unit_price": 1000}
            body = {"customer_id": customer.json()["id"], "line_items": [line]}
            invoice = await http.post(f"{path}/invoices/", json=body, headers=headers)
            invoice.raise_for_status()

    return write


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fake_writes", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: proves it runs")
    args = parser.parse_args(argv)
    for figure in asyncio.run(run(smoke=args.smoke)):
        print(figure.line())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
