"""The contract of a prefetch engine (`thredfi_async._prefetch.PageEngine`), for both engines.

The paginator keeps the first request, the repeat guard, `limit` and the prefetch depth; an
engine only decides when to ask. Each engine runs here against a stub `Listing` with no HTTP
behind it, so a test fails on the engine alone: pages out of order, more asked for than
`ahead` allows, an error that comes out early or wrapped, a fetch left running after `aclose`.
Every async test runs under asyncio and trio.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator
from types import SimpleNamespace
from typing import Any

import anyio
import anyio.lowlevel
import pytest

from thredfi_async import Page
from thredfi_async._operation import RequestParts
from thredfi_async._prefetch import PageEngine, Request
from thredfi_async._prefetch_in_background import Block
from thredfi_async._prefetch_in_step import PagesInStep

pytestmark = pytest.mark.anyio

ENGINES = ("in step", "in background")


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


class StubListing:
    """Pages 1..`total`, each holding its own number; `ahead` pages wanted beyond the last one
    handed out. Records what was fetched, how far ahead, and what is still being fetched."""

    def __init__(
        self, total: int = 6, ahead: int = 2, fail_on: int | None = None, slow_from: int = 0
    ) -> None:
        self.total = total
        self.wanted = ahead
        self.fail_on = fail_on
        self.slow_from = slow_from  # pages from this one on take a minute (0: none)
        self.first: Request = (RequestParts({}, {"page": 1}), 1)
        self.fetched: list[int] = []
        self.in_flight: set[int] = set()
        self.handed = 0  # the number of the last page handed out
        self.beyond: list[int] = []  # per fetch: how far past the last page handed out

    async def fetch(self, request: Request) -> Page[Any]:
        parts, number = request
        self.fetched.append(number)
        self.beyond.append(number - self.handed)
        self.in_flight.add(number)
        try:
            await anyio.sleep(60 if self.slow_from and number >= self.slow_from else 0.001)
            if number == self.fail_on:
                raise LookupError(f"page {number}")
            return Page(None, parts, SimpleNamespace(results=[number]), number)  # type: ignore[arg-type]
        finally:
            self.in_flight.discard(number)

    def following(self, page: Page[Any]) -> Iterator[Request]:
        asked = set(self.fetched)
        for number in range(page.number + 1, self.total + 1):
            if number not in asked:
                yield RequestParts({}, {"page": number}), number

    def ahead(self, page: Page[Any]) -> int:
        return self.wanted


@contextlib.asynccontextmanager
async def engine(kind: str, listing: StubListing) -> AsyncIterator[PageEngine[Any]]:
    if kind == "in step":
        yield PagesInStep(listing)
    else:
        async with Block() as block:
            yield block.pages(listing)


async def hand_out(pages: PageEngine[Any], listing: StubListing) -> Page[Any] | None:
    """What the paginator does with each page: take it, then say it has gone to the consumer."""
    page = await pages.next_page()
    if page is not None:
        listing.handed = page.number
        pages.handed_out(page)
    return page


@pytest.mark.parametrize("kind", ENGINES)
async def test_an_engine_hands_out_every_page_once_in_order_then_none(kind: str) -> None:
    listing = StubListing(total=6, ahead=2)
    numbers = []
    with anyio.fail_after(5):
        async with engine(kind, listing) as pages:
            while (page := await hand_out(pages, listing)) is not None:
                numbers.append(page.number)
                await anyio.sleep(0.005)  # the consumer's own work
            await pages.aclose()

    assert numbers == [1, 2, 3, 4, 5, 6]
    assert sorted(listing.fetched) == [1, 2, 3, 4, 5, 6]
    assert max(listing.beyond) == 2  # as far ahead as the listing wants, and no further


@pytest.mark.parametrize("kind", ENGINES)
async def test_an_engine_asks_for_nothing_the_listing_does_not_want(kind: str) -> None:
    listing = StubListing(total=6, ahead=0)  # what a `limit` reached on page one says
    with anyio.fail_after(5):
        async with engine(kind, listing) as pages:
            first = await hand_out(pages, listing)
            await anyio.sleep(0.05)
            await pages.aclose()

    assert first is not None
    assert first.number == 1
    assert listing.fetched == [1]


@pytest.mark.parametrize("kind", ENGINES)
async def test_a_failed_fetch_comes_out_as_itself_after_the_pages_before_it(kind: str) -> None:
    listing = StubListing(total=6, ahead=2, fail_on=3)
    numbers: list[int] = []

    async def consume(pages: PageEngine[Any]) -> None:
        while (page := await hand_out(pages, listing)) is not None:
            numbers.append(page.number)

    with anyio.fail_after(5):
        async with engine(kind, listing) as pages:
            with pytest.raises(LookupError, match="page 3"):  # never an exception group
                await consume(pages)
            await pages.aclose()

    assert numbers == [1, 2]


@pytest.mark.parametrize("kind", ENGINES)
async def test_aclose_leaves_no_fetch_running_and_starts_none(kind: str) -> None:
    listing = StubListing(total=6, ahead=2, slow_from=2)  # pages 2.. take a minute
    with anyio.fail_after(5):
        async with engine(kind, listing) as pages:
            await hand_out(pages, listing)
            for _ in range(10):  # let a background producer ask ahead
                await anyio.lowlevel.checkpoint()
            asked = list(listing.fetched)
            await pages.aclose()
            for _ in range(10):
                await anyio.lowlevel.checkpoint()
            assert listing.in_flight == set()  # cut off by aclose, not only by the block's exit

    assert listing.fetched == asked  # nothing asked after aclose
    assert asked == ([1] if kind == "in step" else [1, 2, 3])
