"""Thredfi, the sync client, behind the async surface the scenario suite is written against.

The scenarios prove what the SDK does against the fake; run through this adapter, the same
scenarios with the same assertions prove that the sync client does the same. Each call is one of
Thredfi's public blocking methods run in a worker thread (`anyio.to_thread.run_sync`), as a
sync caller's own thread runs it, so the test's event loop stays free (a served fake answers
on it); whatever the call returns or raises (the typed errors) reaches the test unchanged.

Only what the scenarios use is here: awaited methods, `with_raw_response`, listings (awaited for
the first page, `async for`, `.pages()`, `.collect()`) and the client's public attributes. There
is no `async with` on a listing: Thredfi has no background-prefetch form to stand behind it.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator
from typing import Any, Generic, Self, TypeVar
from uuid import UUID

import anyio.to_thread

from thredfi_async import Page, SyncBusinessView, SyncPage, SyncPaginator, Thredfi

__all__ = ["AsyncAdapter"]

S = TypeVar("S")
T = TypeVar("T")


async def _in_thread(call: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(call)


def _awaited(method: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    @functools.wraps(method)
    async def call(*args: Any, **kwargs: Any) -> T:
        return await _in_thread(functools.partial(method, *args, **kwargs))

    return call


def _next(items: Iterator[S]) -> tuple[S] | None:
    """One step of a sync iterator: its next item (boxed, as an item may be None), or None."""
    for item in items:
        return (item,)
    return None


async def _stepped(items: Iterator[S], wrap: Callable[[S], T]) -> AsyncIterator[T]:
    """A sync iterator driven one `next()` per step in the worker thread, as `for` drives it."""
    try:
        while (step := await _in_thread(functools.partial(_next, items))) is not None:
            yield wrap(step[0])
    finally:
        close = getattr(items, "close", None)
        if close is not None:  # a generator stopped early releases its async pages
            await _in_thread(close)


def _same(item: T) -> T:
    return item


class _Facade:
    """Thredfi or a SyncBusinessView: resources come back awaitable, the rest as it is."""

    def __init__(self, sync: Thredfi | SyncBusinessView) -> None:
        self._sync = sync

    def __getattr__(self, name: str) -> Any:
        value = getattr(self._sync, name)
        return _Resource(value) if hasattr(value, "with_raw_response") else value


class AsyncAdapter(_Facade):
    """Thredfi as an AsyncThredfi: `async with`, `aclose()`, `business(id)`; partner_uuid,
    base_url, token_store, throttle, clock, http_client as Thredfi has them."""

    def __init__(self, sync: Thredfi) -> None:
        super().__init__(sync)
        self._client = sync

    def business(self, business_id: str | UUID) -> _BusinessView:
        return _BusinessView(self._client.business(business_id))

    async def aclose(self) -> None:
        await _in_thread(self._client.close)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


class _BusinessView(_Facade):
    def __init__(self, sync: SyncBusinessView) -> None:
        super().__init__(sync)
        self.business_id = sync.business_id
        self.frontend_token = _awaited(sync.frontend_token)


class _Resource:
    """A sync resource: its methods awaited, its listings (`-> SyncPaginator`) as _Listing."""

    def __init__(self, sync: Any) -> None:
        self._sync = sync
        self.with_raw_response = _RawResource(sync.with_raw_response)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._sync, name)
        if str(method.__annotations__.get("return")).startswith("SyncPaginator["):
            return lambda *args, **kwargs: _Listing(method(*args, **kwargs))
        return _awaited(method)


class _RawResource:
    def __init__(self, sync: Any) -> None:
        self._sync = sync

    def __getattr__(self, name: str) -> Any:
        return _awaited(getattr(self._sync, name))


class _Listing(Generic[T]):
    """A SyncPaginator used as an AsyncPaginator is."""

    def __init__(self, sync: SyncPaginator[T]) -> None:
        self._sync = sync

    def __await__(self) -> Generator[Any, None, _Page[T]]:
        return self._first_page().__await__()

    async def _first_page(self) -> _Page[T]:
        return _Page(await _in_thread(self._sync.first_page))

    def __aiter__(self) -> AsyncIterator[T]:
        return _stepped(iter(self._sync), _same)

    def pages(self, *, limit: int | None = None) -> AsyncIterator[_Page[T]]:
        return _stepped(self._sync.pages(limit=limit), _Page)

    async def collect(self, *, limit: int | None = None) -> list[T]:
        return await _in_thread(functools.partial(self._sync.collect, limit=limit))


class _Page(Page[T]):
    """A SyncPage as the Page the async surface promises: the SyncPage's fields, and its
    `get_next_page` awaited. Page's own state (its async paginator) is never set or used."""

    __slots__ = ("_sync",)

    def __init__(self, sync: SyncPage[T]) -> None:
        self._sync = sync
        self.results, self.count, self.envelope = sync.results, sync.count, sync.envelope
        self.number, self.page_info = sync.number, sync.page_info
        self.next, self.previous = sync.next, sync.previous

    def __repr__(self) -> str:
        return repr(self._sync)

    @property
    def current_page(self) -> int:
        return self._sync.current_page

    @property
    def total_pages(self) -> int | None:
        return self._sync.total_pages

    @property
    def page_size(self) -> int | None:
        return self._sync.page_size

    def has_next_page(self) -> bool:
        return self._sync.has_next_page()

    async def get_next_page(self) -> _Page[T]:
        return _Page(await _in_thread(self._sync.get_next_page))
