"""The SDK against the HTTP clients a user would otherwise call directly, in one run.

Why this exists next to per_call: per_call's baseline is raw httpx, but the SDK's default
transport is aiohttp, so "the SDK costs about what httpx does" does not say what a user gives
up against the fastest client they could hand-write, nor what `http_client=` (pytest-httpx,
respx, custom transports) costs them. And per_call's loopback server is uvicorn running the
fake, whose own time per request exceeds the clients' and pulls every ratio towards 1; here
the server is a canned one in its own process (benchmarks/_canned_server.py), so client work
dominates and the ratios are close to what the clients themselves cost.

Every contender makes the same call (one GET of an invoice by id, the body a real invoice
from the fake) with a pool of 100 connections, sequentially and 20 and 100 at once, taking
turns (benchmarks._harness). Ratios are per-call time against raw aiohttp in the same mode.
The SDK's default is held to a target; its httpx-backed form and raw httpx are context.

`python -m benchmarks.peers [--smoke]` runs only these figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import aiohttp
import httpx

from thredfi_async import AsyncThredfi
from thredfi_async.testing import FakeThredfi

from ._canned_server import CannedServer
from ._harness import Figure, Target, interleave_async, median
from ._sizes import FULL, SMOKE, Sizes

__all__ = ["main", "run"]

POOL = 100  # connections each contender may hold: enough for the widest mode
TARGETS = {
    "sequential": Target("<=", 1.25),
    "concurrent_20": Target("<=", 1.5),
    "concurrent_100": Target("<=", 1.5),
}
CONTENDERS = {  # name -> how the note calls it; raw_aiohttp is the baseline
    "raw_aiohttp": "raw aiohttp",
    "raw_httpx": "raw httpx",
    "sdk_default": "sdk default",
    "sdk_httpx": "sdk on httpx",
}
Call = Callable[[], Awaitable[object]]


@dataclass(frozen=True)
class _Invoice:
    partner_uuid: str
    api_key: str
    business_id: str
    invoice_id: str
    body: bytes


def run(sizes: Sizes) -> list[Figure]:
    invoice = asyncio.run(_real_invoice())
    with CannedServer(invoice.body) as server:
        return asyncio.run(_measure(server.base_url, invoice, sizes))


async def _real_invoice() -> _Invoice:
    """One invoice as the fake serves it, and ids the SDK accepts (UUIDs)."""
    fake = FakeThredfi(seed=8)
    business = fake.seed(customers_per_business=1, invoices_per_customer=1).businesses[0]
    business_id, invoice_id = business.business_id, business.invoice_ids[0]
    async with fake.http_client() as http:
        response = await http.get(
            f"/v1/platform/businesses/{business_id}/invoices/{invoice_id}/",
            headers={"Authorization": f"Bearer {fake.business_token(business_id)}"},
        )
        response.raise_for_status()
    return _Invoice(fake.partner_uuid, fake.api_key, business_id, invoice_id, response.content)


async def _measure(base_url: str, invoice: _Invoice, sizes: Sizes) -> list[Figure]:
    url = f"{base_url}/v1/platform/businesses/{invoice.business_id}/invoices/{invoice.invoice_id}/"
    headers = {"Authorization": "Bearer canned-token"}
    limits = httpx.Limits(max_connections=POOL, max_keepalive_connections=POOL)
    credentials = (invoice.partner_uuid, invoice.api_key)
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=POOL)) as session,
        httpx.AsyncClient(limits=limits) as raw_httpx,
        AsyncThredfi(*credentials, base_url=base_url, max_concurrent_requests=POOL) as default,
        AsyncThredfi(
            *credentials,
            base_url=base_url,
            http_client=httpx.AsyncClient(limits=limits),
            max_concurrent_requests=POOL,
        ) as on_httpx,
    ):
        default_invoices = default.business(invoice.business_id).invoices
        httpx_invoices = on_httpx.business(invoice.business_id).invoices

        async def raw_aiohttp_get() -> object:
            async with session.get(url, headers=headers) as response:
                response.raise_for_status()
                return json.loads(await response.read())

        async def raw_httpx_get() -> object:
            response = await raw_httpx.get(url, headers=headers)
            response.raise_for_status()
            return json.loads(response.content)

        async def sdk_default_get() -> object:
            return await default_invoices.get(invoice.invoice_id)

        async def sdk_httpx_get() -> object:
            return await httpx_invoices.get(invoice.invoice_id)

        calls: dict[str, Call] = {
            "raw_aiohttp": raw_aiohttp_get,
            "raw_httpx": raw_httpx_get,
            "sdk_default": sdk_default_get,
            "sdk_httpx": sdk_httpx_get,
        }
        figures = await _mode("sequential", 1, sizes.peer_sequential_calls, calls, sizes)
        for width in (20, 100):
            figures += await _mode(f"concurrent_{width}", width, sizes.peer_calls, calls, sizes)
        return figures


async def _mode(
    mode: str, width: int, calls_per_sample: int, calls: dict[str, Call], sizes: Sizes
) -> list[Figure]:
    batches = max(1, calls_per_sample // width)
    made = batches * width

    def batched(call: Call, count: int) -> Call:
        async def sample() -> None:
            for _ in range(count):
                if width == 1:
                    await call()
                else:
                    await asyncio.gather(*(call() for _ in range(width)))

        return sample

    samples = await interleave_async(
        {name: batched(call, batches) for name, call in calls.items()},
        rounds=sizes.peer_rounds,
        # Untimed before each turn: tokens and first-use imports the first time, then a pool
        # filled to this width again, as the others' turns (an httpx one at 100 at once takes
        # seconds) outlast the idle connections of the SDK's pool and httpx's (5 s).
        prepare={name: batched(call, 1) for name, call in calls.items()},
    )
    seconds = {name: median(values) / made for name, values in samples.items()}
    per_second = {name: 1 / value for name, value in seconds.items()}
    shape = "one at a time" if width == 1 else f"{width} at once"
    note = (
        "calls/s: "
        + ", ".join(f"{CONTENDERS[name]} {per_second[name]:,.0f}" for name in CONTENDERS)
        + f" (medians of {sizes.peer_rounds} rounds of {made} calls, {shape})"
    )
    return [
        Figure(
            name=f"peers.{name}.{mode}",
            value=seconds[name] / seconds["raw_aiohttp"],
            target=TARGETS[mode] if name == "sdk_default" else None,
            description=(
                f"{CONTENDERS[name]} / raw aiohttp, per call (GET one invoice), {shape}, "
                "against a canned keep-alive server in its own process"
            ),
            note=note,
            context={
                "calls_per_second": per_second,
                "calls_per_sample": made,
                "rounds": sizes.peer_rounds,
            },
        )
        for name in ("sdk_default", "sdk_httpx", "raw_httpx")
    ]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peers", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: proves it runs")
    args = parser.parse_args(argv)
    for figure in run(SMOKE if args.smoke else FULL):
        print(figure.line(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
