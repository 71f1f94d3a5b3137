"""What the sync client's list methods return: SyncPaginator, over SyncPage.

The async paginator does the work (page requests, the limit, the loop guards, prefetch): each
step of a `for` runs one of its steps on the client's loop thread, one page at a time, and the
items of a page are handed out here without another trip to that thread.

```python
first = thredfi.business(b).invoices.list(page_size=50).first_page()
for invoice in thredfi.business(b).invoices.list():       # every invoice, all pages
    ...
for page in thredfi.business(b).invoices.list().pages():  # page by page
    ...
first_seven = thredfi.business(b).invoices.list().collect(limit=7)
```
With `prefetch=N`, a step that runs out of items fetches the next N pages at once. There is no
`with` form: fetching in the background, as the async paginator does inside `async with`,
would need the caller to hand control back to the loop, which a blocking caller does not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from ._loop_thread import fork_generation
from ._pagination import AsyncPaginator, Page, _check_limit

if TYPE_CHECKING:
    from ._sync_client import Thredfi

__all__ = ["SyncPage", "SyncPaginator"]

T = TypeVar("T")


class SyncPaginator(Generic[T]):
    """Iterable for items (`for`), `.pages()` page by page, `.collect(limit=)`, `.first_page()`.

    Filters given to `list()` apply to every page; iterating twice lists twice.
    """

    def __init__(self, client: Thredfi, make: Callable[[], AsyncPaginator[T]]) -> None:
        self._client = client
        self._make = make
        # Made now, so that bad arguments raise at `list()` as on the async client.
        self._made = (fork_generation(), make())

    def __repr__(self) -> str:
        return f"<SyncPaginator of {self.item_type.__name__}>"

    @property
    def item_type(self) -> type[T]:
        return self._paginator().item_type

    def first_page(self) -> SyncPage[T]:
        """The first page, with exactly the query the caller gave."""
        paginator = self._paginator()
        return SyncPage(self._client, self._client._run(paginator.first_page))

    def __iter__(self) -> Iterator[T]:
        for page in self.pages():
            yield from page.results

    def pages(self, *, limit: int | None = None) -> Iterator[SyncPage[T]]:
        """Page by page; with `limit`, the pages hold at most that many items in total."""
        _check_limit(limit)  # now, not at the first step
        return self._pages(limit)

    def collect(self, *, limit: int | None = None) -> list[T]:
        """Every item across pages (or the first `limit`), as a list."""
        paginator = self._paginator()
        return self._client._run(lambda: paginator.collect(limit=limit))

    def _pages(self, limit: int | None) -> Iterator[SyncPage[T]]:
        pages = self._paginator().pages(limit=limit)
        run = self._client._run
        try:
            while True:
                try:
                    page = run(pages.__anext__)
                except StopAsyncIteration:
                    return
                yield SyncPage(self._client, page)
        finally:
            aclose: Any = getattr(pages, "aclose", None)
            if aclose is not None and not self._client.closed:
                run(aclose)

    def _paginator(self) -> AsyncPaginator[T]:
        """The async paginator, made again in a forked child (the old one is the parent's)."""
        generation, paginator = self._made
        if generation != fork_generation():
            self._made = generation, paginator = fork_generation(), self._make()
        return paginator


class SyncPage(Generic[T]):
    """One page of a sync listing: the async client's Page, with a blocking `get_next_page`.

    Attributes as on Page: results, count, page_info, next, previous, number, envelope.
    """

    __slots__ = ("_client", "_page")

    def __init__(self, client: Thredfi, page: Page[T]) -> None:
        self._client = client
        self._page = page

    def __repr__(self) -> str:
        return repr(self._page).replace("<Page", "<SyncPage", 1)

    def __iter__(self) -> Iterator[T]:
        return iter(self._page.results)

    def __len__(self) -> int:
        return len(self._page.results)

    @property
    def results(self) -> list[T]:
        return self._page.results

    @property
    def count(self) -> int | None:
        return self._page.count

    @property
    def page_info(self) -> Any:
        return self._page.page_info

    @property
    def next(self) -> str | None:
        return self._page.next

    @property
    def previous(self) -> str | None:
        return self._page.previous

    @property
    def number(self) -> int:
        return self._page.number

    @property
    def envelope(self) -> Any:
        return self._page.envelope

    @property
    def current_page(self) -> int:
        return self._page.current_page

    @property
    def total_pages(self) -> int | None:
        return self._page.total_pages

    @property
    def page_size(self) -> int | None:
        return self._page.page_size

    def has_next_page(self) -> bool:
        return self._page.has_next_page()

    def get_next_page(self) -> SyncPage[T]:
        """Fetch the page after this one, with the same filters. Check `has_next_page()` first."""
        return SyncPage(self._client, self._client._run(self._page.get_next_page))
