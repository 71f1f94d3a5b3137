"""Thredfi, the sync client, and SyncBusinessView: AsyncThredfi for Django, Celery and scripts.

```python
with Thredfi() as thredfi:                      # THREDFI_PARTNER_UUID / THREDFI_API_KEY
    biz = thredfi.businesses.create(body={...})
    books = thredfi.business(biz.id)
    for invoice in books.invoices.list():
        ...
```
Each call runs the async client's method on an event loop in a thread of the client's own
(`_loop_thread`) and blocks until it is done: one AsyncThredfi does the work, so the two
clients cannot drift apart, and calls from many threads share its connection pool, its token
cache (a token is fetched once however many threads need it) and its pacing. The loop thread
costs about 80 us a call on loopback, less than the difference between httpx's sync client and
the aiohttp transport the async client uses (benchmarks/sync_client.py measures both).

After `os.fork()` (a Celery prefork worker, gunicorn's preload) the child builds a fresh async
client on its own loop at its first call, from the arguments this client was given, and never
uses the parent's connections; the parent's client goes on as before.
"""

from __future__ import annotations

import functools
import threading
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any, Self, TypeVar
from uuid import UUID

import httpx

from ._body import DEFAULT_MAX_RESPONSE_BYTES
from ._client import DEFAULT_MAX_CONCURRENT_REQUESTS, DEFAULT_TIMEOUT, AsyncThredfi, BusinessView
from ._clock import Clock
from ._exceptions import UsageError
from ._generated.sync_resources import SyncResourceFacade
from ._hooks import Hook
from ._loop_thread import LoopThread, fork_generation
from ._retry import RetryPolicy
from ._throttle import Throttle
from ._tokens import DEFAULT_LEEWAY, TokenStore
from ._types import TimeoutTypes

__all__ = ["SyncBusinessView", "Thredfi"]

T = TypeVar("T")

# Async clients a forked child inherited: kept referenced, never used or closed there (closing
# one would act on connections the parent still uses).
_inherited: list[AsyncThredfi] = []


class Thredfi(SyncResourceFacade):
    """The sync client for the Thredfi Partner API: AsyncThredfi's arguments, resources and
    methods, blocking. Safe to share between threads, and across `os.fork()`.

    Arguments as for AsyncThredfi. `http_client` is an httpx.AsyncClient there too (it runs on
    this client's loop thread); a client given one cannot rebuild it after a fork, and says so.
    Objects given as `token_store`, `throttle`, `hooks` and `clock` are shared by the client a
    forked child builds. `with Thredfi() as thredfi:` closes it; so does `close()`.
    """

    def __init__(
        self,
        partner_uuid: str | None = None,
        api_key: str | None = None,
        *,
        access_token: str | None = None,
        environment: str | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        http_client: httpx.AsyncClient | None = None,
        token_store: TokenStore | None = None,
        token_refresh_leeway: float = DEFAULT_LEEWAY,
        retry_policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        default_headers: Mapping[str, str] | None = None,
        max_concurrent_requests: int | None = DEFAULT_MAX_CONCURRENT_REQUESTS,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        hooks: Sequence[Hook] | None = None,
        throttle: Throttle | None = None,
    ) -> None:
        build = functools.partial(
            AsyncThredfi,
            partner_uuid,
            api_key,
            access_token=access_token,
            environment=environment,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            http_client=http_client,
            token_store=token_store,
            token_refresh_leeway=token_refresh_leeway,
            retry_policy=retry_policy,
            clock=clock,
            default_headers=default_headers,
            max_concurrent_requests=max_concurrent_requests,
            max_response_bytes=max_response_bytes,
            hooks=hooks,
            throttle=throttle,
        )
        self._start(build, rebuild_after_fork=http_client is None)

    @classmethod
    def _wrapping(cls, build: Callable[[], AsyncThredfi]) -> Self:
        """A sync client over the async clients `build` makes (the fake's `sync_client()`)."""
        client = cls.__new__(cls)
        client._start(build, rebuild_after_fork=True)
        return client

    def _start(self, build: Callable[[], AsyncThredfi], *, rebuild_after_fork: bool) -> None:
        # Built here, in the caller's thread, so bad arguments raise from the constructor; it
        # opens nothing until its first request, which the loop thread makes.
        self._async_client = build()
        self._build = build
        self._rebuild_after_fork = rebuild_after_fork
        self._generation = fork_generation()
        self._fork_lock = threading.Lock()
        self._loop = LoopThread(name="thredfi-sync-client")
        self._closer = weakref.finalize(
            self, _close, self._loop, self._async_client, fork_generation()
        )

    # -- what the generated facade reads ------------------------------------------------------

    @property
    def _sync_client(self) -> Thredfi:  # type: ignore[override]
        return self

    def _async_view(self) -> AsyncThredfi:
        if self._generation != fork_generation():
            self._after_fork()
        return self._async_client

    def _run(self, start: Callable[[], Awaitable[T]]) -> T:
        """Run `start()` and what it returns on the loop thread; block until done."""
        if self._generation != fork_generation():
            self._after_fork()
        return self._loop.run(start)

    def _after_fork(self) -> None:
        with self._fork_lock:
            if self._generation == fork_generation():
                return
            if not self._rebuild_after_fork:
                raise UsageError(
                    "this Thredfi client was given http_client= and was inherited across "
                    "os.fork(): its connections are the parent's. Build the client in the child "
                    "(after the fork), or omit http_client so it can build its own there."
                )
            _inherited.append(self._async_client)
            self._async_client = self._build()
            self._closer.detach()
            self._closer = weakref.finalize(
                self, _close, self._loop, self._async_client, fork_generation()
            )
            self._generation = fork_generation()

    # -- the async client's public state ------------------------------------------------------

    @property
    def partner_uuid(self) -> str | None:
        return self._async_view().partner_uuid

    @property
    def base_url(self) -> str:
        return self._async_view().base_url

    @property
    def token_store(self) -> TokenStore:
        return self._async_view().token_store

    @property
    def throttle(self) -> Throttle | None:
        return self._async_view().throttle

    @property
    def retry_policy(self) -> RetryPolicy:
        return self._async_view().retry_policy

    @property
    def clock(self) -> Clock:
        return self._async_view().clock

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The async HTTP client underneath, which runs on this client's loop thread."""
        return self._async_view().http_client

    def __repr__(self) -> str:
        return repr(self._async_view()).replace("AsyncThredfi(", "Thredfi(", 1)

    # -- lifecycle ----------------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool and stop the loop thread; later calls raise
        ClientClosedError. Idempotent."""
        self._closer()

    @property
    def closed(self) -> bool:
        return self._loop.closed

    # -- business views -----------------------------------------------------------------------

    def business(self, business_id: str | UUID) -> SyncBusinessView:
        """Every resource, bound to one business: `thredfi.business(id).invoices.list()`."""
        async_client = self._async_view()
        view = async_client.business(business_id)  # validates, as on AsyncThredfi
        return SyncBusinessView(self, view.business_id, (async_client, view))


def _close(loop: LoopThread, client: AsyncThredfi, generation: int) -> None:
    """Close the async client on its loop (its pool, its held secrets), then the loop. In a
    forked child the client is the parent's: only the loop is marked closed, nothing sent."""
    if loop.closed:
        return
    try:
        if generation == fork_generation() and not loop.on_its_thread():
            loop.run(client.aclose)
    finally:
        loop.close()


class SyncBusinessView(SyncResourceFacade):
    """The sync client's resources bound to one business (`thredfi.business(business_id)`).

    Cheap to create: it shares the client's loop thread, connection pool and token cache.
    """

    def __init__(
        self,
        client: Thredfi,
        business_id: str,
        view: tuple[AsyncThredfi, BusinessView] | None = None,
    ) -> None:
        self._client = client
        self.business_id = business_id
        self._view = view  # the async view it mirrors, and the async client that made it

    @property
    def _sync_client(self) -> Thredfi:  # type: ignore[override]
        return self._client

    def _async_view(self) -> BusinessView:
        async_client = self._client._async_view()
        view = self._view
        if view is None or view[0] is not async_client:  # first use, or a fork since
            view = self._view = (async_client, async_client.business(self.business_id))
        return view[1]

    def __repr__(self) -> str:
        return f"SyncBusinessView(business_id={self.business_id!r})"

    def frontend_token(self) -> dict[str, Any]:
        """The business token for the embedded widget's `getToken`: {access_token, expires_in}.

        This is the business-scoped token only (never the partner token), as the widget needs.
        """
        return self._client._run(lambda: self._async_view().frontend_token())
