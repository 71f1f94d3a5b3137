"""`await` for a page, `async for` for every item, on every list operation.

The API documents two envelopes (docs/api-behaviour.md, "List envelopes and pagination"):
`page_info {total_count, current_page, total_pages, page_size}` and `next`/`previous` URLs. A
Page understands both and decides whether another page exists from `page_info` when present,
else `next`, and never past an empty page. Iteration also refuses to loop on a misbehaving
server: a request made twice (same page number, same `next` query) or a page whose items were
all seen before ends it.

Prefetch (`prefetch=N`, off by default) comes in two forms, because nothing tells an iterator
that the caller broke out of `async for`: a task started by one step and left running after it
would outlive the loop (and a task group held across an async generator's `yield` would be torn
down later, from another task).

- In a plain `async for`, whenever the consumer runs out of items the next N pages are fetched
  concurrently inside that one step. Nothing runs between steps, so `break` leaves no task and
  no open response, under asyncio and trio alike; but fetches overlap one another, not the
  consumer's own work.
- Inside `async with paginator:` the block owns a task group, so pages are fetched in the
  background while the consumer works on earlier ones: up to N pages ahead, delivered in order.
  A loop that ends (or fails) stops its fetches; one left with `break` stops fetching once it is
  N pages ahead; leaving the block cancels whatever is still in flight.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import math
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from enum import Enum
from types import TracebackType
from typing import Any, Generic, Self, TypeVar
from urllib.parse import parse_qs, urlsplit

import anyio
from anyio.abc import TaskGroup
from anyio.streams.memory import MemoryObjectSendStream

from . import _convert
from ._exceptions import InvalidRequestError, UsageError
from ._generated.types import Unset
from ._operation import RequestParts

__all__ = ["AsyncPaginator", "Page"]

T = TypeVar("T")

# The documented maximum (docs/api-behaviour.md, "List envelopes and pagination").
MAX_PAGE_SIZE = 100

FetchPage = Callable[[RequestParts], Awaitable[Any]]

_BLOCK_EXITED = (
    "the `async with` block that prefetched these pages has exited; iterate inside the block"
)


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
        self._task_group: TaskGroup | None = None
        self._in_background: set[_PagesInBackground[T]] = set()  # iterations in the open block

    def __repr__(self) -> str:
        return f"<AsyncPaginator of {self.item_type.__name__}>"

    def __await__(self) -> Generator[Any, None, Page[T]]:
        return self.first_page().__await__()

    async def first_page(self) -> Page[T]:
        """The first page, with exactly the query the caller gave."""
        return await self._fetch(self._parts, _requested_page(self._parts))

    async def __aenter__(self) -> Self:
        if self._task_group is not None:
            raise UsageError("this paginator is already open in an `async with` block")
        group = anyio.create_task_group()
        await group.__aenter__()
        self._task_group = group
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool | None:
        group, self._task_group = self._task_group, None
        if group is None:  # pragma: no cover - only reachable by calling __aexit__ by hand
            return None
        group.cancel_scope.cancel()  # what is still being fetched is no longer wanted
        for iteration in self._in_background:
            iteration.abandon()
        self._in_background.clear()
        try:
            return await group.__aexit__(exc_type, exc, traceback)
        except BaseExceptionGroup as grouped:
            # Background fetches never raise: their errors travel with the page they belong to.
            # So the group holds the block's own exception; let it propagate as itself.
            if exc is not None and list(grouped.exceptions) == [exc]:
                return False
            raise

    def __aiter__(self) -> AsyncIterator[T]:
        return _Items(self, None)

    async def collect(self, *, limit: int | None = None) -> list[T]:
        """Every item across pages (or the first `limit`), as a list."""
        items = _Items(self, _check_limit(limit))
        try:
            return [item async for item in items]
        finally:
            await items.aclose()

    def pages(self, *, limit: int | None = None) -> AsyncIterator[Page[T]]:
        """Page by page; with `limit`, the pages hold at most that many items in total."""
        return _PagesUpTo(self, _check_limit(limit))

    def _iteration_parts(self, limit: int | None) -> RequestParts:
        query = dict(self._parts.query or {})
        if query.get("page_size") is None:
            query["page_size"] = min(MAX_PAGE_SIZE, limit) if limit else MAX_PAGE_SIZE
        return dataclasses.replace(self._parts, query=query)

    def _pages(self, limit: int | None) -> _PageSource[T]:
        """The pages of one iteration: fetched ahead by the open block's task group, if any."""
        parts = self._iteration_parts(limit)
        if self.prefetch and self._task_group is not None:
            return _PagesInBackground(self, parts, limit, self._task_group)
        return _PagesInStep(self, parts, limit)

    def _wanted(self, page: Page[T], delivered: int, limit: int | None) -> int:
        """How many pages to have requested beyond `page`: the prefetch depth (at least the one
        the consumer is about to need), but none that `limit` will not reach."""
        depth = max(self.prefetch, 1)
        if limit is None:
            return depth
        return max(0, min(depth, math.ceil((limit - delivered) / (page.page_size or 1))))

    async def _fetch_all(
        self, requests: list[tuple[RequestParts, int]]
    ) -> list[Page[T] | Exception]:
        """Concurrently; an error is kept in its page's place, so earlier pages still come out
        first and the caller sees the error itself, not an exception group."""
        if len(requests) <= 1:
            return [await self._fetch(parts, number) for parts, number in requests]
        fetched: list[Page[T] | Exception | None] = [None] * len(requests)

        async def fetch_one(index: int, parts: RequestParts, number: int) -> None:
            try:
                fetched[index] = await self._fetch(parts, number)
            except Exception as error:
                fetched[index] = error

        async with anyio.create_task_group() as group:
            for index, (parts, number) in enumerate(requests):
                group.start_soon(fetch_one, index, parts, number)
        return [entry for entry in fetched if entry is not None]

    async def _produce(
        self, parts: RequestParts, send: MemoryObjectSendStream[_Slot[T]], feed: _Feed
    ) -> None:
        """Never raises into the block's task group: a failure reaches the consumer as the
        error of the next page, after the pages before it."""
        with feed.scope, send:
            async with anyio.create_task_group() as fills:
                try:
                    await self._ask_in_order(parts, send, feed, fills)
                except anyio.BrokenResourceError:
                    return  # the consumer has stopped
                except Exception as error:
                    failed = _Slot[T](0, credited=False)
                    failed.error = error
                    failed.done.set()
                    with contextlib.suppress(anyio.BrokenResourceError):
                        send.send_nowait(failed)
                    return
            feed.finished = True

    async def _ask_in_order(
        self,
        parts: RequestParts,
        send: MemoryObjectSendStream[_Slot[T]],
        feed: _Feed,
        fills: TaskGroup,
    ) -> None:
        """One page after another, each ahead of the consumer only on a credit it granted."""
        asked = _Requests(parts)
        last = _Slot[T](_requested_page(parts), credited=False)
        send.send_nowait(last)
        await self._fill(last, parts)
        while (page := last.page) is not None:
            for next_parts, number in _following(page, asked):
                await feed.credits.acquire()
                last = _Slot(number, credited=True)
                send.send_nowait(last)
                fills.start_soon(self._fill, last, next_parts)
            if last.page is page:
                return
            await last.done.wait()  # the last page asked for says whether the listing goes on

    async def _fill(self, slot: _Slot[T], parts: RequestParts) -> None:
        try:
            slot.page = await self._fetch(parts, slot.number)
        except Exception as error:
            slot.error = error
        finally:
            slot.done.set()

    async def _fetch(self, parts: RequestParts, number: int) -> Page[T]:
        """One page request, through the client's token, retry and error machinery."""
        return Page(self, parts, await self._fetch_envelope(parts), number)


# -- iterators -------------------------------------------------------------------------------
# Classes, not async generators: an abandoned async generator is finalised later, in a task the
# event loop starts for it (and trio warns about it); these hold no frame to finalise, so a
# `break` leaves nothing behind. Like a generator, each fetches nothing before its first step.


class _PageSource(Generic[T]):
    """The pages of one iteration, in order, until the last, an empty or a repeated one."""

    def __init__(self) -> None:
        self._seen = _Contents()
        self._delivered = 0  # items on the pages handed out so far
        self._done = False

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Page[T]:
        if self._done:
            raise StopAsyncIteration
        try:
            page = await self._next_page()
        except BaseException:
            await self.aclose()
            raise
        if page is None or not self._seen.is_new(page):
            await self.aclose()
            raise StopAsyncIteration
        self._delivered += len(page.results)
        self._took(page)
        return page

    async def _next_page(self) -> Page[T] | None:
        raise NotImplementedError

    def _took(self, page: Page[T]) -> None:
        """Called as each page is handed out."""

    async def aclose(self) -> None:
        self._done = True


class _PagesInStep(_PageSource[T]):
    """Every fetch starts and ends inside one __anext__; with prefetch, N pages at once."""

    def __init__(
        self, paginator: AsyncPaginator[T], parts: RequestParts, limit: int | None
    ) -> None:
        super().__init__()
        self._paginator = paginator
        self._parts = parts
        self._limit = limit
        self._asked = _Requests(parts)
        self._ahead: deque[Page[T] | Exception] = deque()
        self._last: Page[T] | None = None

    async def _next_page(self) -> Page[T] | None:
        paginator = self._paginator
        if not self._ahead:
            if self._last is None:
                first = await paginator._fetch(self._parts, _requested_page(self._parts))
                self._ahead.append(first)
            else:
                wanted = paginator._wanted(self._last, self._delivered, self._limit)
                requests = list(itertools.islice(_following(self._last, self._asked), wanted))
                self._ahead.extend(await paginator._fetch_all(requests))
        if not self._ahead:
            return None
        entry = self._ahead.popleft()
        if isinstance(entry, Exception):
            raise entry
        self._last = entry
        return entry

    async def aclose(self) -> None:
        await super().aclose()
        self._ahead.clear()


class _PagesInBackground(_PageSource[T]):
    """Pages fetched by a producer in the `async with` block's task group.

    As it hands out each page the consumer grants the producer credits, one per page it may
    fetch ahead: that bounds the lookahead to `prefetch` pages and keeps it within `limit`.
    """

    def __init__(
        self,
        paginator: AsyncPaginator[T],
        parts: RequestParts,
        limit: int | None,
        group: TaskGroup,
    ) -> None:
        super().__init__()
        self._paginator = paginator
        self._limit = limit
        send, self._receive = anyio.create_memory_object_stream[_Slot[T]](math.inf)
        self._feed = _Feed()
        self._granted = 0  # credits granted and not yet used up by a page handed out
        group.start_soon(paginator._produce, parts, send, self._feed)
        paginator._in_background.add(self)

    async def _next_page(self) -> Page[T] | None:
        try:
            slot = await self._receive.receive()
        except anyio.ClosedResourceError:
            raise UsageError(_BLOCK_EXITED) from None
        except anyio.EndOfStream:
            if not self._feed.finished:
                raise UsageError(_BLOCK_EXITED) from None
            return None
        if slot.credited:
            self._granted -= 1
        return await slot.result()

    def _took(self, page: Page[T]) -> None:
        wanted = self._paginator._wanted(page, self._delivered, self._limit)
        for _ in range(wanted - self._granted):
            self._feed.credits.release()
        self._granted = max(self._granted, wanted)

    def abandon(self) -> None:
        """The block is ending: stop fetching; a later __anext__ says so instead of ending."""
        self._feed.scope.cancel()
        self._receive.close()

    async def aclose(self) -> None:
        await super().aclose()
        self.abandon()
        self._paginator._in_background.discard(self)


class _Items(Generic[T]):
    """Every item of every page, or the first `limit`."""

    def __init__(self, paginator: AsyncPaginator[T], limit: int | None) -> None:
        self._paginator = paginator
        self._limit = limit
        self._pages: _PageSource[T] | None = None
        self._buffer: deque[T] = deque()
        self._left = limit  # items still to hand out, when limited

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> T:
        while not self._buffer:
            if self._left == 0:
                await self.aclose()
                raise StopAsyncIteration
            if self._pages is None:
                self._pages = self._paginator._pages(self._limit)
            page = await self._pages.__anext__()
            self._buffer.extend(page.results[: self._left])  # [:None] is all of them
        if self._left is not None:
            self._left -= 1
        return self._buffer.popleft()

    async def aclose(self) -> None:
        self._left = 0
        self._buffer.clear()
        if self._pages is not None:
            await self._pages.aclose()


class _PagesUpTo(Generic[T]):
    """Pages holding at most `limit` items in total (all of them, when None)."""

    def __init__(self, paginator: AsyncPaginator[T], limit: int | None) -> None:
        self._paginator = paginator
        self._limit = limit
        self._pages: _PageSource[T] | None = None
        self._left = limit

    def __aiter__(self) -> Self:
        return self

    async def __anext__(self) -> Page[T]:
        if self._left == 0:
            await self.aclose()
            raise StopAsyncIteration
        if self._pages is None:
            self._pages = self._paginator._pages(self._limit)
        page = await self._pages.__anext__()
        if self._left is not None:
            page.results = page.results[: self._left]
            self._left -= len(page.results)
        return page

    async def aclose(self) -> None:
        self._left = 0
        if self._pages is not None:
            await self._pages.aclose()


class _Slot(Generic[T]):
    """A page the background producer has asked for, in the order the consumer will take it."""

    __slots__ = ("credited", "done", "error", "number", "page")

    def __init__(self, number: int, *, credited: bool) -> None:
        self.number = number
        self.credited = credited  # fetched ahead on a credit the consumer granted
        self.done = anyio.Event()
        self.page: Page[T] | None = None
        self.error: Exception | None = None

    async def result(self) -> Page[T]:
        await self.done.wait()
        if self.error is not None:
            raise self.error
        if self.page is None:  # cancelled: only when the owning block has exited
            raise UsageError(_BLOCK_EXITED)
        return self.page


class _Feed:
    """What the producer and the consuming generator share."""

    __slots__ = ("credits", "finished", "scope")

    def __init__(self) -> None:
        self.scope = anyio.CancelScope()
        self.credits = anyio.Semaphore(0)
        self.finished = False


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


def _following(page: Page[T], asked: _Requests) -> Iterator[tuple[RequestParts, int]]:
    """The requests after `page`, lazily. Numbered pages can be requested before the ones
    before them arrive; a `next` URL only becomes known with the page that carries it."""
    if not page.has_next_page():
        return
    parts, number = page._next_request()
    if not asked.add(parts):
        return
    yield parts, number
    total = page.total_pages
    if total is None:
        return
    for later in range(number + 1, total + 1):
        later_parts = page._parts_for_page(later)
        if not asked.add(later_parts):
            return
        yield later_parts, later


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
