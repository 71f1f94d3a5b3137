"""The bulk import over loopback with 10 ms of latency per request at the fake: paced by a
throttle at the fake's partner limit R, and unlimited against a hand-written sequential loop.

Both runs and the loop import the same records (businesses of customers, invoices, payments,
refunds and refund payments, shuffled) into a fresh fake served on loopback by a process of
its own, one after the other in the same run. Paced: the fake limits the partner to R per
second (with a burst of a fifth of R), the client is given `LocalThrottle(partner=Rate(R))`,
and the figures are the rate of requests answered (not 429) over R, and the share of requests
answered, both counted by the client's throttle. Unlimited:
records per second of `BulkImporter` over those of one create after another, in dependency
order, each reference resolved by hand.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import anyio

from thredfi_async import AsyncThredfi, LocalThrottle, Rate, ThrottleStats
from thredfi_async.bulk import KINDS, BulkImporter, kind_order
from thredfi_async.bulk._references import resolve

from ._bulk_data import Size, dataset, make_businesses
from ._harness import Figure, Target
from ._loopback import served_fake_process
from ._sizes import Sizes

__all__ = ["run"]

LATENCY = 0.010


@dataclass(frozen=True, slots=True)
class ImportRun:
    records: int
    seconds: float
    requests: int  # attempts during the import, as the throttle counted them (0: no throttle)
    refused: int  # of which 429

    @property
    def rate(self) -> float:
        return self.records / self.seconds

    @property
    def answered_rate(self) -> float:
        return (self.requests - self.refused) / self.seconds


def _served(limit: float | None) -> AbstractContextManager[dict[str, str]]:
    """The fake in a process of its own (`python -m thredfi_async.testing`), so that its work
    and the client's share no interpreter; yields its printed settings."""
    flags = ["--log-level", "warning", "--latency", str(LATENCY)]
    if limit is not None:
        flags += ["--partner-rps", str(limit), "--rate-burst", str(_burst(limit))]
    return served_fake_process(*flags)


def _burst(limit: float) -> int:
    """The fake's burst: a fifth of a second of its rate, as in the fleet figures."""
    return max(1, int(limit / 5))


async def _import(
    size: Size,
    businesses: int,
    *,
    limit: float | None = None,
    concurrency: int = 8,
    per_business: int = 1,
    sequential: bool = False,
) -> ImportRun:
    with _served(limit) as fake:
        throttle = None if limit is None else LocalThrottle(partner=Rate(limit, burst=1))
        async with AsyncThredfi(
            fake["THREDFI_PARTNER_UUID"],
            fake["THREDFI_API_KEY"],
            base_url=fake["THREDFI_BASE_URL"],
            throttle=throttle,
            max_concurrent_requests=max(20, concurrency * per_business),
        ) as thredfi:
            business_ids = await make_businesses(thredfi, businesses)
            records, _ = dataset(business_ids, size)
            before = dataclasses.replace(throttle.stats) if throttle else ThrottleStats()
            started = time.perf_counter()
            if sequential:
                await _one_after_another(thredfi, records)
            else:
                report = await BulkImporter(
                    thredfi, concurrency=concurrency, per_business=per_business
                ).run(records)
                if report.failures:
                    raise RuntimeError(f"bulk import failed: {report.failures[:3]}")
            seconds = time.perf_counter() - started
            after = throttle.stats if throttle else ThrottleStats()
    return ImportRun(
        records=len(records),
        seconds=seconds,
        requests=after.acquired - before.acquired,
        refused=after.rate_limited - before.rate_limited,
    )


async def _one_after_another(thredfi: AsyncThredfi, records: list[dict[str, Any]]) -> None:
    """What a user writes without the engine: sort by kind, then one create at a time."""
    order = {kind: n for n, kind in enumerate(kind_order())}
    ids: dict[tuple[str, str], str] = {}
    for record in sorted(records, key=lambda r: (r["business_id"], order[r["kind"]])):
        kind = KINDS[record["kind"]]
        data: Mapping[str, Any] = record["data"]
        body, path = resolve(record["kind"], data, ids)
        resource: Any = getattr(thredfi.business(record["business_id"]), kind.resource)
        created = (await resource.create(*path.values(), body=body)).to_dict()
        for part in kind.id_path[:-1]:
            created = created[part]
        ids[(record["kind"], str(data["external_id"]))] = str(created[kind.id_path[-1]])


def run(sizes: Sizes) -> list[Figure]:
    size = Size(
        customers=sizes.bulk_customers,
        invoices=sizes.bulk_invoices,
        payments=sizes.bulk_payments,
        refunds=sizes.bulk_refunds,
    )
    limit, businesses = sizes.bulk_rate, sizes.bulk_businesses
    paced = anyio.run(lambda: _import(size, businesses, limit=limit))
    engine = anyio.run(
        lambda: _import(size, businesses, concurrency=sizes.bulk_concurrency, per_business=4)
    )
    loop = anyio.run(lambda: _import(size, businesses, sequential=True))
    where = f"{paced.records} records, {businesses} businesses, {LATENCY * 1000:.0f} ms latency"
    return [
        Figure(
            name="bulk.paced.answered_vs_limit",
            value=paced.answered_rate / limit,
            target=Target(">=", 0.9),
            description=f"requests answered per second over the fake's limit R={limit:g}/s, "
            f"throttle at R ({where})",
            note=f"{paced.answered_rate:.1f} answered/s, {paced.requests} requests in "
            f"{paced.seconds:.1f} s",
            context={"answered_rate": paced.answered_rate, "seconds": paced.seconds},
        ),
        Figure(
            name="bulk.paced.answered_share",
            value=1 - paced.refused / max(paced.requests, 1),
            target=Target(">=", 0.99),
            description="share of the paced import's requests not refused with 429",
            note=f"{paced.refused} of {paced.requests} answered 429",
            context={"refused": paced.refused, "requests": paced.requests},
        ),
        Figure(
            name="bulk.unlimited.vs_sequential",
            value=engine.rate / loop.rate,
            target=Target(">=", 10),
            description=f"BulkImporter records/s over a sequential create loop, no limit ({where})",
            note=f"engine {engine.rate:.0f}/s ({sizes.bulk_concurrency} businesses x 4 at once), "
            f"loop {loop.rate:.0f}/s",
            context={"engine_rate": engine.rate, "loop_rate": loop.rate},
        ),
    ]
