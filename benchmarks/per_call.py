"""Per-call overhead: `await books.invoices.get(id)` against raw httpx + `json.loads`.

The baseline is what a careful hand-written call does: `httpx.AsyncClient.get` with the same
bearer token, a status check, `json.loads` of the body. Both run twice:

* over loopback against the fake served by uvicorn, which is what a user sees (the server's
  own time is in both, so the ratio is diluted towards 1);
* in process, on an httpx.MockTransport answering the same response bytes, where nothing but
  client work is timed: the strictest measure of what the SDK adds.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable

import httpx

from thredfi_async import AsyncThredfi, BusinessView

from ._harness import Figure, Target, interleave_async, median
from ._server import FakeServer
from ._sizes import Sizes

__all__ = ["run"]

TARGET = Target("<=", 1.15)
Call = Callable[[], Awaitable[object]]


async def run(server: FakeServer, sizes: Sizes) -> list[Figure]:
    data = server.data
    assert data is not None
    business_id, invoice_id = data.business_id, data.invoice_ids[0]
    path = f"/v1/platform/businesses/{business_id}/invoices/{invoice_id}/"

    async with (
        AsyncThredfi(data.partner_uuid, data.api_key, base_url=data.base_url) as sdk,
        httpx.AsyncClient(base_url=data.base_url) as raw,
    ):
        books = sdk.business(business_id)
        token = (await books.frontend_token())["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        figures = await _compare("loopback", sizes, *_calls(books, raw, path, headers, invoice_id))
        canned = await raw.get(path, headers=headers)
        canned.raise_for_status()

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/oauth2/token/"):
            return httpx.Response(200, json={"access_token": token, "expires_in": 3600})
        return httpx.Response(
            200, content=canned.content, headers={"Content-Type": "application/json"}
        )

    transport = httpx.MockTransport(answer)
    async with (
        AsyncThredfi(
            data.partner_uuid,
            data.api_key,
            base_url=data.base_url,
            http_client=httpx.AsyncClient(transport=transport),
        ) as sdk,
        httpx.AsyncClient(base_url=data.base_url, transport=transport) as raw,
    ):
        books = sdk.business(business_id)
        calls = _calls(books, raw, path, headers, invoice_id)
        figures += await _compare("in_process", sizes, *calls)
    return figures


def _calls(
    books: BusinessView,
    raw: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    invoice_id: str,
) -> tuple[Call, Call]:
    invoices = books.invoices

    async def sdk_get() -> object:
        return await invoices.get(invoice_id)

    async def raw_get() -> object:
        response = await raw.get(path, headers=headers)
        response.raise_for_status()
        return json.loads(response.content)

    return sdk_get, raw_get


async def _compare(where: str, sizes: Sizes, sdk_get: Call, raw_get: Call) -> list[Figure]:
    for _ in range(3):  # connections, token, first-use imports
        await sdk_get()
        await raw_get()

    def sequential(call: Call) -> Call:
        async def sample() -> None:
            for _ in range(sizes.sequential_calls):
                await call()

        return sample

    def concurrent(call: Call) -> Call:
        async def sample() -> None:
            for _ in range(sizes.concurrent_batches):
                await asyncio.gather(*(call() for _ in range(sizes.concurrency)))

        return sample

    figures = []
    for mode, wrap, calls in (
        ("sequential", sequential, sizes.sequential_calls),
        ("concurrent", concurrent, sizes.concurrent_batches * sizes.concurrency),
    ):
        samples = await interleave_async(
            {"sdk": wrap(sdk_get), "httpx": wrap(raw_get)}, rounds=sizes.call_rounds
        )
        sdk_us = median(samples["sdk"]) / calls * 1e6
        raw_us = median(samples["httpx"]) / calls * 1e6
        shape = "one at a time" if mode == "sequential" else f"{sizes.concurrency} at once"
        figures.append(
            Figure(
                name=f"per_call.{mode}.{where}",
                value=sdk_us / raw_us,
                target=TARGET,
                description=f"invoices.get / (httpx get + json.loads), {shape}, {where}",
                note=(
                    f"sdk {sdk_us:.0f} us/call, httpx {raw_us:.0f} us/call "
                    f"(medians of {sizes.call_rounds} rounds of {calls} calls, {shape})"
                ),
                context={
                    "sdk_us": sdk_us,
                    "httpx_us": raw_us,
                    "calls_per_sample": calls,
                    "sdk_us_range": [
                        min(samples["sdk"]) / calls * 1e6,
                        max(samples["sdk"]) / calls * 1e6,
                    ],
                    "httpx_us_range": [
                        min(samples["httpx"]) / calls * 1e6,
                        max(samples["httpx"]) / calls * 1e6,
                    ],
                },
            )
        )
    return figures
