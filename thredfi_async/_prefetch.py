"""The seam between a paginator and the engine that fetches one iteration's pages.

The paginator keeps what every iteration needs whatever fetches its pages: the first request,
the repeat guard on later requests, the `limit` and the prefetch depth, and the end of the
listing (the last, an empty or a repeated page). An engine only decides when requests are made:
`_prefetch_in_step` makes them inside the consumer's own step, `_prefetch_in_background` in the
task group of an `async with paginator:` block. Each sees the iteration only through `Listing`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Protocol, TypeVar

from ._operation import RequestParts

if TYPE_CHECKING:
    from ._pagination import Page

__all__ = ["Listing", "PageEngine", "Request"]

T = TypeVar("T")

Request = tuple[RequestParts, int]  # what to send, and the number the page will have


class Listing(Protocol[T]):
    """What an engine may ask of the iteration it fetches for."""

    @property
    def first(self) -> Request:
        """The request for the iteration's first page."""
        ...

    async def fetch(self, request: Request) -> Page[T]:
        """One page, through the client's token, retry and error machinery."""
        ...

    def following(self, page: Page[T]) -> Iterator[Request]:
        """The requests after `page` not made before, lazily: a repeat means the server loops."""
        ...

    def ahead(self, page: Page[T]) -> int:
        """How many pages beyond `page`, the last one handed out, to have requested: the
        prefetch depth (at least the one the consumer needs next), none that `limit` won't reach."""
        ...


class PageEngine(Protocol[T]):
    """What the paginator calls, one iteration's pages after another."""

    async def next_page(self) -> Page[T] | None:
        """The next page in order, or None after the last; a failed fetch raises its error here,
        after the pages before it."""
        ...

    def handed_out(self, page: Page[T]) -> None:
        """`page` has passed the paginator's guards and gone to the consumer."""
        ...

    async def aclose(self) -> None:
        """The iteration has ended (or been left): fetch nothing more, leave nothing running."""
        ...
