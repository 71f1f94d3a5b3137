"""Prefetch in a plain `async for`: every fetch starts and ends inside one step.

Nothing tells an iterator that the caller broke out of `async for`, so a task started by one
step and left running after it would outlive the loop. Here, whenever the consumer runs out of
pages, the next N are fetched concurrently within that step and nothing runs between steps: a
`break` leaves no task and no open response, under asyncio and trio alike. The price is that
fetches overlap one another, not the consumer's own work (`_prefetch_in_background` does that).
"""

from __future__ import annotations

import itertools
from collections import deque
from typing import TYPE_CHECKING, Generic, TypeVar

import anyio

from ._prefetch import Listing, Request

if TYPE_CHECKING:
    from ._pagination import Page

__all__ = ["PagesInStep"]

T = TypeVar("T")


class PagesInStep(Generic[T]):
    """A `PageEngine` that fetches only when asked for a page it does not hold yet."""

    def __init__(self, listing: Listing[T]) -> None:
        self._listing = listing
        self._ahead: deque[Page[T] | Exception] = deque()
        self._last: Page[T] | None = None

    async def next_page(self) -> Page[T] | None:
        listing = self._listing
        if not self._ahead:
            if self._last is None:
                self._ahead.append(await listing.fetch(listing.first))
            else:
                wanted = listing.ahead(self._last)
                requests = list(itertools.islice(listing.following(self._last), wanted))
                self._ahead.extend(await _fetch_all(listing, requests))
        if not self._ahead:
            return None
        entry = self._ahead.popleft()
        if isinstance(entry, Exception):
            raise entry
        self._last = entry
        return entry

    def handed_out(self, page: Page[T]) -> None:
        """Nothing to do until the consumer asks again."""

    async def aclose(self) -> None:
        self._ahead.clear()


async def _fetch_all(listing: Listing[T], requests: list[Request]) -> list[Page[T] | Exception]:
    """Concurrently; an error is kept in its page's place, so earlier pages still come out first
    and the caller sees the error itself, not an exception group."""
    if len(requests) <= 1:
        return [await listing.fetch(request) for request in requests]
    fetched: list[Page[T] | Exception | None] = [None] * len(requests)

    async def fetch_one(index: int, request: Request) -> None:
        try:
            fetched[index] = await listing.fetch(request)
        except Exception as error:
            fetched[index] = error

    async with anyio.create_task_group() as group:
        for index, request in enumerate(requests):
            group.start_soon(fetch_one, index, request)
    return [entry for entry in fetched if entry is not None]
