"""The base of every generated sync resource class: where a blocking call meets the async one.

A sync method builds nothing itself. It names its async twin (on the async client, or on the
async business view its own view mirrors) and the client's loop thread runs that twin, so
scoping, validation and the whole request path are the async client's. The twin is looked up
on the loop thread at call time, never cached here: after a fork the client has a new async
client, and a resource made before the fork follows it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TypeVar

from ._sync_pagination import SyncPaginator

if TYPE_CHECKING:
    from ._client import AsyncThredfi, BusinessView
    from ._pagination import AsyncPaginator
    from ._sync_client import Thredfi

__all__ = ["SyncResource", "SyncResourceFacadeBase"]

T = TypeVar("T")


class SyncResourceFacadeBase:
    """What a sync facade (Thredfi, or one of its business views) gives its resources: the
    client that runs calls and the async facade the calls are made on."""

    _sync_client: Thredfi

    def _async_view(self) -> AsyncThredfi | BusinessView:
        raise NotImplementedError


class SyncResource:
    """The base of one resource's generated sync class (`SyncInvoicesResource`)."""

    def __init__(self, facade: SyncResourceFacadeBase) -> None:
        self._facade = facade

    def __repr__(self) -> str:
        business_id = getattr(self._facade, "business_id", None)
        scope = f" business_id={business_id!r}" if business_id else ""
        return f"<{type(self).__name__}{scope}>"

    def _run(self, start: Callable[[], Awaitable[T]]) -> T:
        return self._facade._sync_client._run(start)

    def _paginate(self, make: Callable[[], AsyncPaginator[T]]) -> SyncPaginator[T]:
        return SyncPaginator(self._facade._sync_client, make)
