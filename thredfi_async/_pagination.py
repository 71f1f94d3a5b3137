"""`await` for a page, `async for` for every item, on every list operation.

The API documents two envelopes (FACTS.md 2.1): `page_info {total_count, current_page,
total_pages, page_size}` and `next`/`previous` URLs. A Page understands both and decides
whether another page exists (open question 4): `page_info` when present, else `next`, and
never past an empty page. Iteration also refuses to loop on a server that repeats a page.

Prefetch (`prefetch=N`, off by default) fetches the next N pages concurrently, in order, each
time the consumer runs out of items. The task group lives inside one `__anext__` step and
never across a `yield`, so breaking out of `async for` leaves no task running and no response
open, under asyncio and trio alike (an async generator that held a task group across yields
would be finalised later, from another task). The price: fetching overlaps the fetching of
other pages, not the consumer's own work between items.
"""

from __future__ import annotations

import dataclasses
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import anyio

from ._exceptions import InvalidRequestError
from ._generated.types import Unset
from ._operation import RequestParts

__all__ = ["AsyncPaginator", "Page"]

T = TypeVar("T")

MAX_PAGE_SIZE = 100  # FACTS.md 2.1: page_size max 100

FetchPage = Callable[[RequestParts], Awaitable[Any]]


def _value(model: Any, name: str) -> Any:
    """A field of a parsed envelope, declared or extra (envelope B's `next` is extra)."""
    if model is None:
        return None
    value = getattr(model, name, None)
    if value is None or isinstance(value, Unset):
        extra = getattr(model, "additional_properties", None) or {}
        value = extra.get(name)
    return None if isinstance(value, Unset) else value


class Page(Generic[T]):
    """One page of a listing.

    Attributes:
        results: The items on this page, as models.
        count: Total number of matching items across pages, when the API says.
        page_info: The `page_info` block (envelope A), or None.
        next, previous: The `next` / `previous` URLs (envelope B), or None.
        number: The page number this page was requested as (1-based).
        envelope: The whole parsed response model, for envelope-specific fields
            (`opening_balance_cents` on account entries, ...).
    """

    __slots__ = (
        "_paginator",
        "_parts",
        "count",
        "envelope",
        "next",
        "number",
        "page_info",
        "previous",
        "results",
    )

    def __init__(
        self, paginator: AsyncPaginator[T], parts: RequestParts, envelope: Any, number: int
    ) -> None:
        self._paginator = paginator
        self._parts = parts
        self.envelope = envelope
        self.number = number
        results = _value(envelope, "results")
        self.results: list[T] = list(results) if isinstance(results, list) else []
        count = _value(envelope, "count")
        self.count: int | None = count if isinstance(count, int) else None
        self.page_info: Any = _value(envelope, "page_info")
        next_url = _value(envelope, "next")
        previous_url = _value(envelope, "previous")
        self.next: str | None = next_url if isinstance(next_url, str) and next_url else None
        self.previous: str | None = previous_url if isinstance(previous_url, str) else None

    def __repr__(self) -> str:
        return f"<Page {self.number}: {len(self.results)} of {self.count} items>"

    def __iter__(self) -> Iterator[T]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    @property
    def current_page(self) -> int:
        current = _value(self.page_info, "current_page")
        return current if isinstance(current, int) else self.number

    @property
    def total_pages(self) -> int | None:
        total = _value(self.page_info, "total_pages")
        return total if isinstance(total, int) else None

    def has_next_page(self) -> bool:
        """page_info when present, else the `next` URL, else `count`; never after an empty page."""
        if not self.results:
            return False
        total_pages = self.total_pages
        if total_pages is not None:
            return self.current_page < total_pages
        if self.next is not None or _value(self.envelope, "previous") is not None:
            return self.next is not None
        if self.count is not None:
            size = _value(self.page_info, "page_size") or (self._parts.query or {}).get("page_size")
            size = size if isinstance(size, int) and size > 0 else len(self.results)
            return self.number * size < self.count
        return False

    async def get_next_page(self) -> Page[T]:
        """Fetch the page after this one, with the same filters. Check `has_next_page()` first."""
        if not self.has_next_page():
            raise RuntimeError("there is no next page; check has_next_page() first")
        return await self._paginator.fetch(self.next_parts(), self.number + 1)

    def next_parts(self) -> RequestParts:
        if self.total_pages is None and self.next is not None:
            return dataclasses.replace(self._parts, url=_path_and_query(self.next))
        return self.parts_for_page(self.current_page + 1)

    def parts_for_page(self, number: int) -> RequestParts:
        query = dict(self._parts.query or {})
        query["page"] = number
        return dataclasses.replace(self._parts, query=query, url=None)


class AsyncPaginator(Generic[T]):
    """What every list method returns: awaitable for the first page, async-iterable for items.

    ```python
    page = await books.invoices.list(page_size=50)           # first page only
    async for invoice in books.invoices.list():               # every invoice, all pages
        ...
    async for page in books.invoices.list().pages():          # page by page
        ...
    first_seven = await books.invoices.list().collect(limit=7)
    ```
    Filters given to `list()` apply to every page. While iterating, the page size defaults to
    the API maximum (100) unless the caller set one (or to `limit`, when that is smaller).
    """

    def __init__(
        self,
        fetch: FetchPage,
        parts: RequestParts,
        *,
        item_type: type[T],
        prefetch: int = 0,
    ) -> None:
        if isinstance(prefetch, bool) or not isinstance(prefetch, int) or prefetch < 0:
            raise InvalidRequestError(f"prefetch must be an int >= 0, got {prefetch!r}")
        self._fetch_envelope = fetch
        self._parts = parts
        self.item_type = item_type
        self.prefetch = prefetch

    def __repr__(self) -> str:
        return f"<AsyncPaginator of {self.item_type.__name__}>"

    def __await__(self) -> Generator[Any, None, Page[T]]:
        return self.first_page().__await__()

    async def first_page(self) -> Page[T]:
        """The first page, with exactly the query the caller gave."""
        return await self.fetch(self._parts, _requested_page(self._parts))

    def __aiter__(self) -> AsyncIterator[T]:
        return self._items(limit=None)

    async def collect(self, *, limit: int | None = None) -> list[T]:
        """Every item across pages (or the first `limit`), as a list."""
        return [item async for item in self._items(limit=limit)]

    async def pages(self, *, limit: int | None = None) -> AsyncIterator[Page[T]]:
        """Page by page; with `limit`, the pages hold at most that many items in total."""
        remaining = limit
        async for page in self._pages(self._iteration_parts(limit)):
            if remaining is not None:
                if remaining <= 0:
                    return
                page.results = page.results[:remaining]
                remaining -= len(page.results)
            yield page

    async def _items(self, limit: int | None) -> AsyncIterator[T]:
        if limit is not None and limit <= 0:
            return
        seen = 0
        async for page in self._pages(self._iteration_parts(limit)):
            for item in page.results:
                yield item
                seen += 1
                if limit is not None and seen >= limit:
                    return

    def _iteration_parts(self, limit: int | None) -> RequestParts:
        query = dict(self._parts.query or {})
        if query.get("page_size") is None:
            query["page_size"] = min(MAX_PAGE_SIZE, limit) if limit else MAX_PAGE_SIZE
        return dataclasses.replace(self._parts, query=query)

    async def _pages(self, parts: RequestParts) -> AsyncIterator[Page[T]]:
        """Pages in order until the last, an empty or a repeated one."""
        pending = deque([await self.fetch(parts, _requested_page(parts))])
        previous: tuple[Any, ...] | None = None
        followed: set[str] = set()
        while pending:
            page = pending.popleft()
            signature = _signature(page)
            if not page.results or signature == previous:
                return  # an empty page ends the listing; a repeated one would loop forever
            previous = signature
            yield page
            if pending:
                continue
            if not page.has_next_page():
                return
            if page.total_pages is None and page.next is not None:
                if page.next in followed:
                    return
                followed.add(page.next)
            pending.extend(await self._next_batch(page))

    async def _next_batch(self, page: Page[T]) -> list[Page[T]]:
        """The next page; with prefetch and a known page count, the next N concurrently."""
        total_pages = page.total_pages
        if self.prefetch <= 1 or total_pages is None:
            return [await self.fetch(page.next_parts(), page.number + 1)]
        first = page.current_page + 1
        numbers = range(first, min(first + self.prefetch, total_pages + 1))
        fetched: dict[int, Page[T]] = {}

        async def fetch_one(number: int) -> None:
            fetched[number] = await self.fetch(page.parts_for_page(number), number)

        async with anyio.create_task_group() as group:
            for number in numbers:
                group.start_soon(fetch_one, number)
        return [fetched[number] for number in numbers]

    async def fetch(self, parts: RequestParts, number: int) -> Page[T]:
        """One page request, through the client's token, retry and error machinery."""
        return Page(self, parts, await self._fetch_envelope(parts), number)


def _requested_page(parts: RequestParts) -> int:
    number = (parts.query or {}).get("page")
    return number if isinstance(number, int) and number > 0 else 1


def _path_and_query(url: str) -> str:
    """Only path and query of a `next` URL are kept: the overlay joins them to the client's
    base URL, so a token never goes to a host the caller did not configure."""
    split = urlsplit(url)
    return split.path + (f"?{split.query}" if split.query else "")


def _signature(page: Page[Any]) -> tuple[Any, ...]:
    ids = tuple(getattr(item, "id", None) for item in page.results)
    if any(item_id is not None for item_id in ids):
        return ids
    return (page.current_page, len(page.results))
