"""Token fan-out: many concurrent calls over many businesses, starting from a cold token cache.

Single flight means one partner token and one token per business, however many calls race for
them: 1,000 calls over 50 businesses must cost exactly 51 token requests, counted by the fake.
"""

from __future__ import annotations

import asyncio
import time

from thredfi_async import AsyncThredfi

from ._harness import Figure, Target
from ._server import FakeServer
from ._sizes import Sizes

__all__ = ["run"]


async def run(server: FakeServer, sizes: Sizes) -> list[Figure]:
    data = server.data
    assert data is not None
    targets = data.fanout[: sizes.fanout_businesses]
    calls = [targets[i % len(targets)] for i in range(sizes.fanout_calls)]
    before = server.token_requests()
    async with AsyncThredfi(data.partner_uuid, data.api_key, base_url=data.base_url) as sdk:
        started = time.perf_counter()
        invoices = await asyncio.gather(
            *(
                sdk.business(business_id).invoices.get(invoice_id)
                for business_id, invoice_id in calls
            )
        )
        elapsed = time.perf_counter() - started
    assert len(invoices) == len(calls)
    made = server.token_requests() - before
    return [
        Figure(
            name="tokens.fanout_token_requests",
            value=made,
            target=Target("==", len(targets) + 1),
            description=(
                f"token requests for {len(calls)} concurrent calls over {len(targets)} "
                "businesses, cold cache (one partner token + one per business)"
            ),
            note=f"{len(calls)} calls in {elapsed:.2f} s, {made} token requests at the fake",
            context={"calls": len(calls), "businesses": len(targets), "seconds": elapsed},
        )
    ]
