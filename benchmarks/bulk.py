"""The full-size bulk import: 20 businesses x (50 customers, 200 invoices with line items,
150 payments, 20 refunds with their refund payments), shuffled, against the fake in process.

`python -m benchmarks.bulk` checks the outcome exactly (every record once, every invoice's
balances, the report's counts) and prints the wall time and rate; `--smoke` runs 2 small
businesses. The unit tier runs the same checks at a smaller size (tests/scenarios).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import time
from collections.abc import Sequence

from thredfi_async.bulk import BulkImporter
from thredfi_async.testing import FakeThredfi

from ._bulk_data import FULL, SMALL, dataset, final_state, make_businesses

__all__ = ["main", "run"]


async def run(businesses: int, smoke: bool) -> dict[str, float]:
    size = SMALL if smoke else FULL
    fake = FakeThredfi(raise_server_errors=True)
    async with fake.client() as thredfi:
        business_ids = await make_businesses(thredfi, businesses)
        records, expected = dataset(business_ids, size)
        started = time.perf_counter()
        report = await BulkImporter(thredfi).run(records)
        elapsed = time.perf_counter() - started
        assert report.failures == [], report.failures[:3]
        assert report.total("created") == len(records)
        for business_id in business_ids:
            listed, balances = await final_state(thredfi, business_id)
            counts = {kind: len(ids) for kind, ids in listed.items()}
            assert counts == expected[business_id].counts, (business_id, counts)
            assert all(len(set(ids)) == len(ids) for ids in listed.values())
            assert balances == expected[business_id].invoices
    creates = collections.Counter(r.operation_id for r in fake.requests if r.method == "POST")
    print(
        f"bulk import: {len(records)} records over {businesses} businesses in {elapsed:.1f} s "
        f"({len(records) / elapsed:.0f} records/s), exactly once; "
        f"{sum(creates.values())} POSTs at the fake"
    )
    return {"records": len(records), "seconds": elapsed, "rate": len(records) / elapsed}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bulk", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="2 small businesses")
    args = parser.parse_args(argv)
    asyncio.run(run(2 if args.smoke else 20, args.smoke))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
