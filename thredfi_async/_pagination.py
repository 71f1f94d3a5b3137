"""`await` for a page, `async for` for every item, on every list operation.

The API documents two envelopes (docs/api-behaviour.md, "List envelopes and pagination"):
`page_info {total_count, current_page, total_pages, page_size}` and `next`/`previous` URLs. A
Page understands both and decides whether another page exists from `page_info` when present,
else `next`, and never past an empty page. Iteration also refuses to loop on a misbehaving
server: a request made twice (same page number, same `next` query) or a page whose items were
all seen before ends it.

Those guards and `limit` are kept here, once, for every iteration. When requests are made is
an engine's business (`_prefetch`): in a plain `async for` they are made within the consumer's
step (`_prefetch_in_step`), inside `async with paginator:` in the background
(`_prefetch_in_background`).
"""

from __future__ import annotations

import dataclasses
import math
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from enum import Enum
from types import TracebackType
from typing import Any, Generic, Self, TypeVar
from urllib.parse import parse_qs, urlsplit

from . import _convert
from ._exceptions import InvalidRequestError, UsageError
from ._operation import RequestParts
from ._prefetch import PageEngine, Request
from ._prefetch_in_background import Block
from ._prefetch_in_step import PagesInStep
from ._types import Unset

__all__ = ["AsyncPaginator", "Page"]

T = TypeVar("T")

# The documented maximum (docs/api-behaviour.md, "List envelopes and pagination").
MAX_PAGE_SIZE = 100

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


def _carries(model: Any, name: str) -> bool:
    """Whether the response had the key at all: `"next": null` is an answer, no `next` is not."""
    if hasattr(model, name):
        return not isinstance(getattr(model, name), Unset)
    return name in (getattr(model, "additional_properties", None) or {})


def _positive(value: Any) -> int | None:
    """A page number or size, also as the text a `next` URL carries it in."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


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
        return _positive(_value(self.page_info, "current_page")) or self.number

    @property
    def total_pages(self) -> int | None:
        total = _value(self.page_info, "total_pages")
        return total if isinstance(total, int) and not isinstance(total, bool) else None

    @property
    def page_size(self) -> int | None:
        """As the API reports it, else as requested, else as many items as this page holds."""
        return (
            _positive(_value(self.page_info, "page_size"))
            or _positive((self._parts.query or {}).get("page_size"))
            or _positive(len(self.results))
        )

    def has_next_page(self) -> bool:
        """`page_info` when present, else `next`; never after an empty page. A page carrying
        neither, which the docs never show, falls back on `count` (docs/api-behaviour.md, "List
        envelopes and pagination")."""
        if not self.results:
            return False
        total_pages = self.total_pages
        if total_pages is not None:
            return self.current_page < total_pages
        if _carries(self.envelope, "next"):
            return self.next is not None
        size = self.page_size
        if self.count is None or size is None or len(self.results) < size:
            return False
        return self.current_page * size < self.count

    async def get_next_page(self) -> Page[T]:
        """Fetch the page after this one, with the same filters. Check `has_next_page()` first."""
        if not self.has_next_page():
            raise UsageError("there is no next page; check has_next_page() first")
        parts, number = self._next_request()
        return await self._paginator._fetch(parts, number)

    def _next_request(self) -> tuple[RequestParts, int]:
        """The request for the page after this one, and the number it will have."""
        if self.total_pages is None and self.next is not None:
            return self._follow(self.next), self.number + 1
        number = self.current_page + 1
        return self._parts_for_page(number), number

    def _parts_for_page(self, number: int) -> RequestParts:
        query = dict(self._parts.query or {})
        query["page"] = number
        return dataclasses.replace(self._parts, query=query)

    def _follow(self, url: str) -> RequestParts:
        """Only the query of a `next` URL is used, on the operation's own path and the client's
        base URL: the token never goes to a host the caller did not configure, and a base URL
        with a path prefix is not doubled. Filters the server left out still apply."""
        given = parse_qs(urlsplit(url).query, keep_blank_values=True)
        query: dict[str, Any] = {k: v[0] if len(v) == 1 else v for k, v in given.items()}
        for key, value in (self._parts.query or {}).items():
            if key != "page" and value is not None and key not in query:
                query[key] = value
        return dataclasses.replace(self._parts, query=query)


class AsyncPaginator(Generic[T]):
    """What every list method returns: awaitable for the first page, async-iterable for items.

    ```python
    page = await books.invoices.list(page_size=50)           # first page only
    async for invoice in books.invoices.list():               # every invoice, all pages
        ...
    async for page in books.invoices.list().pages():          # page by page
        ...
    first_seven = await books.invoices.list().collect(limit=7)

    async with books.invoices.list(prefetch=2) as invoices:   # fetch ahead while you work
        async for invoice in invoices:
            await handle(invoice)
    ```
    Filters given to `list()` apply to every page. While iterating, the page size defaults to
    the API maximum (100) unless the caller set one (or to `limit`, when that is smaller).
    With `prefetch=N`, a plain `async for` fetches N pages at once each time it runs out of
    items; inside `async with` the pages are fetched in the background, N ahead of the consumer.
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
        self._block: Block | None = None

    def __repr__(self) -> str:
        return f"<AsyncPaginator of {self.item_type.__name__}>"

    def __await__(self) -> Generator[Any, None, Page[T]]:
        return self.first_page().__await__()

    async def first_page(self) -> Page[T]:
        """The first page, with exactly the query the caller gave."""
        return await self._fetch(self._parts, _requested_page(self._parts))

    async def __aenter__(self) -> Self:
        if self._block is not None:
            raise UsageError("this paginator is already open in an `async with` block")
        self._block = await Block().__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        block, self._block = self._block, None
        if block is None:  # pragma: no cover - only reachable by calling __aexit__ by hand
            return None
        return await block.__aexit__(exc_type, exc, traceback)

    def __aiter__(self) -> AsyncIterator[T]:
        return _Items(_Pages(self, None))

    async def collect(self, *, limit: int | None = None) -> list[T]:
        """Every item across pages (or the first `limit`), as a list."""
        items = _Items(_Pages(self, _check_limit(limit)))
        try:
            return [item async for item in items]
        finally:
            await items.aclose()

    def pages(self, *, limit: int | None = None) -> AsyncIterator[Page[T]]:
        """Page by page; with `limit`, the pages hold at most that many items in total."""
        return _Pages(self, _check_limit(limit))

    def _engine(self, pages: _Pages[T]) -> PageEngine[T]:
        """Fetched ahead by the open block's task group, if any, else within each step."""
        if self.prefetch and self._block is not None:
            return self._block.pages(pages)
        return PagesInStep(pages)

    async def _fetch(self, parts: RequestParts, number: int) -> Page[T]:
        """One page request, through the client's token, retry and error machinery."""
        return Page(self, parts, await self._fetch_envelope(parts), number)


# -- iterators -------------------------------------------------------------------------------
# Classes, not async generators: an abandoned async generator is finalised later, in a task the
# event loop starts for it (and trio warns about it); these hold no frame to finalise, so a
# `break` leaves nothing behind. Like a generator, each fetches nothing before its first step.


class _Pages(Generic[T]):
    """The pages of one iteration, in order, until the last, an empty or a repeated one, and
    holding at most `limit` items in total. The `Listing` its engine fetches for."""

    def __init__(self, paginator: AsyncPaginator[T], limit: int | None) -> None:
        self._paginator = paginator
        query = dict(paginator._parts.query or {})
        if query.get("page_size") is None:
            query["page_size"] = min(MAX_PAGE_SIZE, limit) if limit else MAX_PAGE_SIZE
        parts = dataclasses.replace(paginator._parts, query=query)
        self.first: Request = (parts, _requested_page(parts))
        self._asked = _Requests(parts)
        self._seen = _Contents()
        self._left = limit  # items still to hand out, when limited
        self._engine: PageEngine[T] | None = None
        self._done = False

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Page[T]:
        if self._done or self._left == 0:
            await self.aclose()
            raise StopAsyncIteration
        if self._engine is None:
            self._engine = self._paginator._engine(self)
        try:
            page = await self._engine.next_page()
        except BaseException:
            await self.aclose()
            raise
        if page is None or not self._seen.is_new(page):
            await self.aclose()
            raise StopAsyncIteration
        if self._left is not None:
            page.results = page.results[: self._left]
            self._left -= len(page.results)
        self._engine.handed_out(page)
        return page

    async def aclose(self) -> None:
        self._done = True
        if self._engine is not None:
            await self._engine.aclose()

    # -- Listing: what the engine may ask --

    async def fetch(self, request: Request) -> Page[T]:
        return await self._paginator._fetch(*request)

    def following(self, page: Page[T]) -> Iterator[Request]:
        """Numbered pages can be requested before the ones before them arrive; a `next` URL
        only becomes known with the page that carries it."""
        if not page.has_next_page():
            return
        parts, number = page._next_request()
        if not self._asked.add(parts):
            return
        yield parts, number
        total = page.total_pages
        if total is None:
            return
        for later in range(number + 1, total + 1):
            later_parts = page._parts_for_page(later)
            if not self._asked.add(later_parts):
                return
            yield later_parts, later

    def ahead(self, page: Page[T]) -> int:
        depth = max(self._paginator.prefetch, 1)
        if self._left is None:
            return depth
        return min(depth, math.ceil(self._left / (page.page_size or 1)))


class _Items(Generic[T]):
    """Every item of every page."""

    def __init__(self, pages: _Pages[T]) -> None:
        self._pages = pages
        self._buffer: deque[T] = deque()

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> T:
        while not self._buffer:
            self._buffer.extend((await self._pages.__anext__()).results)
        return self._buffer.popleft()

    async def aclose(self) -> None:
        self._buffer.clear()
        await self._pages.aclose()


class _Requests:
    """The requests made so far: asking for the same page twice means the server is looping.

    Compared as sent (values as text, no `page` meaning page 1), so `next` URLs and page
    numbers the client computed itself are told apart only when they differ on the wire.
    """

    def __init__(self, first: RequestParts) -> None:
        self._keys: set[tuple[tuple[str, str], ...]] = set()
        self.add(first)

    def add(self, parts: RequestParts) -> bool:
        query = {"page": 1, **{k: v for k, v in (parts.query or {}).items() if v is not None}}
        key = tuple(sorted((name, _as_text(value)) for name, value in query.items()))
        if key in self._keys:
            return False
        self._keys.add(key)
        return True


class _Contents:
    """The pages delivered so far, by their items: an empty or a repeated page ends a listing."""

    def __init__(self) -> None:
        self._signatures: set[int] = set()

    def is_new(self, page: Page[Any]) -> bool:
        if not page.results:
            return False
        ids = [_value(item, "id") for item in page.results]
        if all(item_id is None for item_id in ids):  # no ids: the items themselves
            ids = [_convert.to_jsonable(item) for item in page.results]
        signature = hash(repr(ids))
        if signature in self._signatures:
            return False
        self._signatures.add(signature)
        return True


def _as_text(value: Any) -> str:
    if isinstance(value, list | tuple):
        return ",".join(_as_text(v) for v in value)
    return str(value.value if isinstance(value, Enum) else value)


def _requested_page(parts: RequestParts) -> int:
    return _positive((parts.query or {}).get("page")) or 1


def _check_limit(limit: int | None) -> int | None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise InvalidRequestError(f"limit must be an int >= 0 or None, got {limit!r}")
    return limit
