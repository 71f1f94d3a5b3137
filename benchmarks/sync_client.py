"""Per-call time of the sync client, `books.invoices.get(id)` on `Thredfi`, against what a
careful sync caller writes by hand: `httpx.Client.get` with the same bearer token, a status
check and `json.loads` (the target), and the same with `requests` (reported).

Over loopback against the fake served by its own process, one call at a time, the contenders
taking turns; then 8 threads sharing one client each (Django under gunicorn threads), the
sync client against one shared `httpx.Client` (reported). The sync client runs the async
client on an event loop thread of its own; these are the figures that design is held to (the
hand-off to that thread is measured alone too).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import httpx
import requests

from thredfi_async import Thredfi
from thredfi_async._loop_thread import LoopThread

from ._harness import Figure, Target, interleave, median
from ._server import FakeServer
from ._sizes import Sizes

__all__ = ["run"]

TARGET = Target("<=", 1.3)
THREADS = 8


def run(server: FakeServer, sizes: Sizes) -> list[Figure]:
    data = server.data
    assert data is not None
    business_id, invoice_id = data.business_id, data.invoice_ids[0]
    url = f"{data.base_url}/v1/platform/businesses/{business_id}/invoices/{invoice_id}/"
    with (
        Thredfi(data.partner_uuid, data.api_key, base_url=data.base_url) as sdk,
        httpx.Client() as raw,
        requests.Session() as session,
    ):
        books = sdk.business(business_id)
        headers = {"Authorization": f"Bearer {books.frontend_token()['access_token']}"}

        def sdk_get() -> object:
            return books.invoices.get(invoice_id)

        def httpx_get() -> object:
            response = raw.get(url, headers=headers)
            response.raise_for_status()
            return json.loads(response.content)

        def requests_get() -> object:
            response = session.get(url, headers=headers)
            response.raise_for_status()
            return json.loads(response.content)

        contenders = {"sdk": sdk_get, "httpx": httpx_get, "requests": requests_get}
        for call in contenders.values():  # connections, token, first-use imports
            for _ in range(3):
                call()
        samples = interleave(contenders, rounds=sizes.call_rounds, number=sizes.sequential_calls)
        with ThreadPoolExecutor(THREADS) as pool:
            per_thread = max(1, sizes.sequential_calls // THREADS)

            def threaded(call: Callable[[], object]) -> Callable[[], object]:
                def calls() -> list[object]:
                    return [call() for _ in range(per_thread)]

                def sample() -> object:
                    return list(pool.map(lambda _: calls(), range(THREADS)))

                return sample

            threaded_samples = interleave(
                {"sdk": threaded(sdk_get), "httpx": threaded(httpx_get)},
                rounds=sizes.call_rounds,
                number=1,
            )
    calls = per_thread * THREADS
    threaded_us = {name: median(v) / calls * 1e6 for name, v in threaded_samples.items()}
    per_call = {name: median(values) * 1e6 for name, values in samples.items()}
    hop = _hand_off_us(sizes)
    shape = f"medians of {sizes.call_rounds} rounds of {sizes.sequential_calls} calls"
    note = (
        f"sync sdk {per_call['sdk']:.0f} us/call, httpx.Client {per_call['httpx']:.0f}, "
        f"requests {per_call['requests']:.0f} ({shape}); the hand-off to the loop thread alone "
        f"{hop:.0f} us"
    )
    return [
        Figure(
            name="sync.per_call.vs_httpx_client",
            value=per_call["sdk"] / per_call["httpx"],
            target=TARGET,
            description="Thredfi invoices.get / (httpx.Client get + json.loads), loopback",
            note=note,
            context={**{f"{name}_us": us for name, us in per_call.items()}, "hand_off_us": hop},
        ),
        Figure(
            name="sync.per_call.vs_requests",
            value=per_call["sdk"] / per_call["requests"],
            target=None,
            description="Thredfi invoices.get / (requests get + json.loads), loopback",
            note=f"requests {per_call['requests']:.0f} us/call",
            context={"requests_us": per_call["requests"], "sdk_us": per_call["sdk"]},
        ),
        Figure(
            name="sync.threads_8.vs_httpx_client",
            value=threaded_us["sdk"] / threaded_us["httpx"],
            target=None,
            description="8 threads sharing one Thredfi / 8 threads sharing one httpx.Client, "
            "time per call, loopback",
            note=f"sync sdk {threaded_us['sdk']:.0f} us/call, httpx.Client "
            f"{threaded_us['httpx']:.0f} ({calls} calls a sample)",
            context={f"{name}_us": us for name, us in threaded_us.items()},
        ),
    ]


def _hand_off_us(sizes: Sizes) -> float:
    """A round trip to a loop thread running a coroutine that does nothing."""

    async def nothing() -> None:
        await asyncio.sleep(0)

    loop_thread = LoopThread(name="bench-hand-off")
    try:
        samples = interleave(
            {"hand_off": lambda: loop_thread.run(nothing)},
            rounds=sizes.call_rounds,
            number=sizes.sequential_calls,
        )
    finally:
        loop_thread.close()
    assert not any(t.name == "bench-hand-off" for t in threading.enumerate())
    return median(samples["hand_off"]) * 1e6
