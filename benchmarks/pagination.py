"""Pagination: every invoice of a long listing while the server adds latency to each page.

The baseline is the loop people write by hand: one page after another with httpx, `json.loads`,
stop at the last page. The SDK iterates the same listing without prefetch, with
`prefetch=N` in a plain `async for` (N pages fetched at once whenever it runs out), and inside
`async with paginator:` (pages fetched in the background, N ahead of the consumer). Each figure
is a speedup over the loop: loop time / SDK time. The SDK also parses every page into models,
which the loop does not.

`python -m benchmarks.pagination [--smoke]` runs this benchmark alone.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence

import httpx

from thredfi_async import AsyncThredfi, BusinessView

from ._harness import Figure, Target, interleave_async, median
from ._server import FakeServer
from ._sizes import FULL, SMOKE, Sizes

__all__ = ["run"]


async def run(server: FakeServer, sizes: Sizes) -> list[Figure]:
    data = server.data
    assert data is not None
    path = f"/v1/platform/businesses/{data.business_id}/invoices/"
    server.set_page_latency(sizes.page_latency)
    try:
        async with (
            AsyncThredfi(data.partner_uuid, data.api_key, base_url=data.base_url) as sdk,
            httpx.AsyncClient(base_url=data.base_url) as raw,
        ):
            books = sdk.business(data.business_id)
            token = (await books.frontend_token())["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            contenders = _contenders(books, raw, path, headers, sizes)
            for contender in contenders.values():  # warm up connections and code paths
                await contender()
            samples = await interleave_async(contenders, rounds=sizes.pagination_rounds)
    finally:
        server.set_page_latency(0)

    seconds = {name: median(values) for name, values in samples.items()}
    pages = -(-sizes.invoices // sizes.page_size)
    note = (
        f"{sizes.invoices} invoices, {pages} pages of {sizes.page_size}, "
        f"+{sizes.page_latency * 1000:.0f} ms per page: loop {seconds['loop']:.2f} s, "
        f"sdk {seconds['no_prefetch']:.2f} s, prefetch={sizes.prefetch} "
        f"{seconds['prefetch']:.2f} s, async with {seconds['background']:.2f} s"
    )
    context = {f"{name}_s": value for name, value in seconds.items()}
    context |= {"prefetch": sizes.prefetch, "pages": pages, "page_latency_s": sizes.page_latency}
    return [
        Figure(
            name="pagination.no_prefetch",
            value=seconds["loop"] / seconds["no_prefetch"],
            # without prefetch both are sequential: the SDK may cost what a call may (1.15x)
            target=Target(">=", 0.87),
            description="speedup over the sequential httpx loop, plain async for",
            note=note,
            context=context,
        ),
        Figure(
            name="pagination.prefetch",
            value=seconds["loop"] / seconds["prefetch"],
            target=Target(">=", 1.5),
            description=f"speedup over the loop, async for with prefetch={sizes.prefetch}",
            context=context,
        ),
        Figure(
            name="pagination.prefetch_background",
            value=seconds["loop"] / seconds["background"],
            target=Target(">=", 1.5),
            description=f"speedup over the loop, async with paginator (prefetch={sizes.prefetch})",
            context=context,
        ),
    ]


def _contenders(
    books: BusinessView,
    raw: httpx.AsyncClient,
    path: str,
    headers: dict[str, str],
    sizes: Sizes,
) -> dict[str, Callable[[], Awaitable[None]]]:
    expected = sizes.invoices

    async def loop() -> None:
        seen, page = 0, 1
        while True:
            response = await raw.get(
                path, params={"page": page, "page_size": sizes.page_size}, headers=headers
            )
            response.raise_for_status()
            body = json.loads(response.content)
            for _invoice in body["results"]:
                seen += 1
            if page >= body["page_info"]["total_pages"]:
                break
            page += 1
        assert seen == expected, seen

    async def plain(prefetch: int) -> None:
        seen = 0
        async for _invoice in books.invoices.list(page_size=sizes.page_size, prefetch=prefetch):
            seen += 1
        assert seen == expected, seen

    async def background() -> None:
        seen = 0
        paginator = books.invoices.list(page_size=sizes.page_size, prefetch=sizes.prefetch)
        async with paginator:
            async for _invoice in paginator:
                seen += 1
        assert seen == expected, seen

    async def no_prefetch() -> None:
        await plain(0)

    async def prefetch() -> None:
        await plain(sizes.prefetch)

    return {
        "loop": loop,
        "no_prefetch": no_prefetch,
        "prefetch": prefetch,
        "background": background,
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pagination", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: proves it runs")
    sizes = SMOKE if parser.parse_args(argv).smoke else FULL
    with FakeServer(
        customers=sizes.customers, invoices_per_customer=sizes.invoices_per_customer, fanout=1
    ) as server:
        for figure in asyncio.run(run(server, sizes)):
            print(figure.line(), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
