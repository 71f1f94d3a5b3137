"""Run every benchmark, print one line per figure and write benchmarks/results.json.

A missed target is reported (MISS), not raised: the exit status is non-zero only if a
benchmark crashes, so CI can run the smoke mode to prove the benchmarks still work without
timing anything on a shared machine.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import platform
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from thredfi_async import AsyncThredfi

from . import (
    bulk_paced,
    fleets,
    footprint,
    pagination,
    parsing,
    peers,
    per_call,
    redaction,
    sync_client,
    tokens,
)
from ._harness import Figure
from ._server import FakeServer
from ._sizes import FULL, SMOKE, Sizes

__all__ = ["FIGURES", "main", "run"]

RESULTS = Path(__file__).with_name("results.json")

FIGURES = (
    "per_call.sequential.loopback",
    "per_call.concurrent.loopback",
    "per_call.sequential.in_process",
    "per_call.concurrent.in_process",
    "parsing.vs_json_loads",
    "parsing.vs_pydantic_validate_json",
    "parsing.vs_pydantic_validate_python",
    "pagination.no_prefetch",
    "pagination.prefetch",
    "pagination.prefetch_background",
    "tokens.fanout_token_requests",
    "fleets.tokens.partner_requests",
    "fleets.tokens.business_requests",
    "fleets.pacing.peak_vs_limit",
    "fleets.pacing.admitted_vs_limit",
    "fleets.pacing.answered_share",
    "fleets.pacing.adaptive_answered_share",
    "sync.per_call.vs_httpx_client",
    "sync.per_call.vs_requests",
    "sync.threads_8.vs_httpx_client",
    "bulk.paced.answered_vs_limit",
    "bulk.paced.answered_share",
    "bulk.unlimited.vs_sequential",
    "import.vs_httpx",
    "memory.token_cache_vs_dict",
    "redaction.many_clients_vs_one",
    "peers.sdk_default.sequential",
    "peers.sdk_default.concurrent_20",
    "peers.sdk_default.concurrent_100",
    "peers.sdk_httpx.sequential",
    "peers.sdk_httpx.concurrent_20",
    "peers.sdk_httpx.concurrent_100",
    "peers.raw_httpx.sequential",
    "peers.raw_httpx.concurrent_20",
    "peers.raw_httpx.concurrent_100",
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: proves it runs")
    parser.add_argument("--output", type=Path, default=RESULTS, help="where results go")
    args = parser.parse_args(argv)
    run(SMOKE if args.smoke else FULL, args.output)
    return 0


def run(sizes: Sizes, output: Path) -> dict[str, Any]:
    started = time.perf_counter()
    print(f"thredfi-async benchmarks ({sizes.name}), Python {platform.python_version()}")
    figures: list[Figure] = []

    def report(new: list[Figure]) -> None:
        for figure in new:
            print(figure.line(), flush=True)
        figures.extend(new)

    with FakeServer(
        customers=sizes.customers,
        invoices_per_customer=sizes.invoices_per_customer,
        fanout=sizes.fanout_businesses,
    ) as server:
        report(asyncio.run(per_call.run(server, sizes)))
        report(parsing.run(asyncio.run(_one_page(server)), sizes))
        report(asyncio.run(pagination.run(server, sizes)))
        report(asyncio.run(tokens.run(server, sizes)))
        report(sync_client.run(server, sizes))
    report(fleets.run(sizes))  # its own fake and redis-server, and worker processes
    report(bulk_paced.run(sizes))  # its own fake, served by a process of its own
    report(peers.run(sizes))  # its own server: the fake's would only compete for the cores
    report(footprint.import_cost(sizes))
    report(asyncio.run(footprint.token_memory(sizes)))
    report(redaction.run(sizes))

    missing = set(FIGURES) - {figure.name for figure in figures}
    if missing:
        raise RuntimeError(f"the benchmarks produced no figure for {sorted(missing)}")
    elapsed = time.perf_counter() - started
    results = {
        "mode": sizes.name,
        "finished_at": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "seconds": round(elapsed, 1),
        "figures": {figure.name: figure.as_json() for figure in figures},
    }
    output.write_text(json.dumps(results, indent=2) + "\n")
    passed = sum(figure.status == "PASS" for figure in figures)
    missed = [figure.name for figure in figures if figure.status == "MISS"]
    print(
        f"{passed} targets met, {len(missed)} missed{': ' + ', '.join(missed) if missed else ''}"
        f"; {elapsed:.0f} s; results in {output}"
    )
    if sizes is SMOKE:
        print("(smoke sizes: these figures only show that the benchmarks run; see make bench)")
    return results


async def _one_page(server: FakeServer) -> bytes:
    """A real page of (up to) 100 invoices, as the fake serves it."""
    data = server.data
    assert data is not None
    async with (
        AsyncThredfi(data.partner_uuid, data.api_key, base_url=data.base_url) as sdk,
        httpx.AsyncClient(base_url=data.base_url) as http,
    ):
        token = await sdk.business(data.business_id).frontend_token()
        page = await http.get(
            f"/v1/platform/businesses/{data.business_id}/invoices/",
            params={"page_size": 100},
            headers={"Authorization": f"Bearer {token['access_token']}"},
        )
        page.raise_for_status()
        return page.content
