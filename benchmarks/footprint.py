"""What the SDK costs before and between calls: import time and the memory of cached tokens.

Import time is read from `python -X importtime -c "import X"` (the cumulative time of the
top-level import, so interpreter start-up is left out) in fresh interpreters, `thredfi_async`
and `httpx` taking turns. The token cache is filled through the real path (`frontend_token()`
-> TokenManager -> HTTP exchange, answered by an httpx.MockTransport) and measured with
tracemalloc against the least a hand-written client would keep: a dict of business id ->
(access token, expiry).
"""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from typing import Any

import httpx

from thredfi_async import AsyncThredfi, InMemoryTokenStore

from ._harness import Figure, Target, median
from ._sizes import Sizes

__all__ = ["import_cost", "token_memory"]


def import_cost(sizes: Sizes) -> list[Figure]:
    modules = ("thredfi_async", "httpx")
    with tempfile.TemporaryDirectory() as cache:
        # Bytecode caches, as a pip install writes them, in a directory of their own, so that
        # neither side compiles source while timed (PYTHONDONTWRITEBYTECODE would leave the
        # SDK compiling on every run while httpx has its caches) and nothing is written to
        # the checkout.
        env = {**os.environ, "PYTHONPYCACHEPREFIX": cache}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        for module in modules:  # writes the caches
            _import_us(module, env)
        samples: dict[str, list[int]] = {module: [] for module in modules}
        for run in range(sizes.import_runs):
            for module in modules if run % 2 == 0 else modules[::-1]:
                samples[module].append(_import_us(module, env))
    ms = {module: median([float(v) for v in values]) / 1000 for module, values in samples.items()}
    return [
        Figure(
            name="import.vs_httpx",
            value=ms["thredfi_async"] / ms["httpx"],
            target=Target("<=", 2.0),
            description="import thredfi_async / import httpx (which it includes), fresh processes",
            note=(
                f"import thredfi_async {ms['thredfi_async']:.0f} ms, import httpx "
                f"{ms['httpx']:.0f} ms (medians of {sizes.import_runs} runs, -X importtime)"
            ),
            context={"thredfi_async_ms": ms["thredfi_async"], "httpx_ms": ms["httpx"]},
        )
    ]


def _import_us(module: str, env: dict[str, str]) -> int:
    """Cumulative microseconds of `import module` in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    for line in reversed(result.stderr.splitlines()):
        # "import time:  self [us] | cumulative | imported package"; top level: one space
        fields = line.split("|")
        if len(fields) == 3 and fields[2] == f" {module}":
            return int(fields[1])
    raise RuntimeError(f"no importtime line for {module}:\n{result.stderr[-2000:]}")


async def token_memory(sizes: Sizes) -> list[Figure]:
    count = sizes.memory_tokens
    business_ids = [str(uuid.UUID(int=n + 1)) for n in range(count + 1)]  # [0]: warm-up
    bodies = {business_id: _token_body(business_id) for business_id in business_ids}
    partner_body = _token_body(None)

    def answer(request: httpx.Request) -> httpx.Response:
        # /v1/platform/oauth2/token/ or /v1/platform/{business_id}/oauth2/token/
        scope = request.url.path.split("/")[3]
        body = partner_body if scope == "oauth2" else bodies[scope]
        return httpx.Response(200, content=body, headers={"Content-Type": "application/json"})

    transport = httpx.MockTransport(answer)
    # The default store holds 10,000 tokens in all, the partner token included; this one has
    # room for `count` business tokens besides the partner's and the warm-up one (a store's
    # capacity allocates nothing in advance, so it does not change the bytes per token).
    store = InMemoryTokenStore(max_size=count + 2)
    async with AsyncThredfi(
        "partner",
        "key",
        base_url="http://thredfi.bench",
        http_client=httpx.AsyncClient(transport=transport),
        token_store=store,
    ) as client:
        await client.business(business_ids[0]).frontend_token()
        retained, peak = await _traced(
            lambda: _fill_sdk(client, business_ids[1:]),
        )
        cached = len(store)
        if cached != count + 2:
            raise RuntimeError(f"the client cached {cached} tokens, not {count + 2}")

    holder: dict[str, tuple[str, float]] = {}
    baseline, _ = await _traced(lambda: _fill_dict(holder, business_ids[1:], bodies))
    sdk_per_token, dict_per_token = retained / count, baseline / count
    return [
        Figure(
            name="memory.token_cache_vs_dict",
            value=sdk_per_token / dict_per_token,
            target=Target("<=", 2.0),
            description=(
                f"bytes per cached business token: client / a plain dict of "
                f"(token, expiry), {count} tokens"
            ),
            note=(
                f"{count} tokens: client holds {retained / 2**20:.2f} MiB "
                f"({sdk_per_token:.0f} B/token, peak while filling {peak / 2**20:.2f} MiB), "
                f"plain dict {baseline / 2**20:.2f} MiB ({dict_per_token:.0f} B/token)"
            ),
            context={
                "tokens": count,
                "client_bytes": retained,
                "client_peak_bytes": peak,
                "client_bytes_per_token": sdk_per_token,
                "dict_bytes_per_token": dict_per_token,
            },
        )
    ]


async def _fill_sdk(client: AsyncThredfi, business_ids: list[str]) -> None:
    for business_id in business_ids:
        await client.business(business_id).frontend_token()
        # A real exchange waits on the network, so the loop runs between calls and drops the
        # timer handles each call's deadline cancelled. The MockTransport answers without a
        # wait; without this step the figure counted 10,000 dead timers (~180 B a token) as
        # cache memory.
        await asyncio.sleep(0)


async def _fill_dict(
    holder: dict[str, tuple[str, float]], business_ids: list[str], bodies: dict[str, bytes]
) -> None:
    for business_id in business_ids:
        payload = json.loads(bodies[business_id])
        holder[business_id] = (payload["access_token"], time.time() + payload["expires_in"])


async def _traced(fill: Any) -> tuple[int, int]:
    """Bytes still allocated after `fill()` (garbage collected), and the peak while it ran."""
    gc.collect()
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        await fill()
        gc.collect()
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return after - before, peak - before


def _token_body(business_id: str | None) -> bytes:
    """A token response shaped like the fake's: a signed-looking JWT of realistic length."""

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    claims = {
        "iss": "thredfi-fake",
        "sub": "6f1c2b4e-8d5a-4c3e-9b7f-2a1d0e9c8b7a",
        "scope": "business" if business_id else "partner",
        "business_id": business_id,
        "iat": 1_767_225_600,
        "exp": 1_767_229_200,
        "jti": uuid.uuid4().hex[:16],
    }
    header = b64(b'{"alg":"HS256","typ":"JWT"}')
    token = f"{header}.{b64(json.dumps(claims).encode())}.{b64(uuid.uuid4().bytes * 2)}"
    body = {"access_token": token, "token_type": "Bearer", "expires_in": 3600}
    return json.dumps(body).encode()
