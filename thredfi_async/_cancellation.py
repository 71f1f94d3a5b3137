"""Keeping an httpx connection pool usable when calls through it are cancelled.

httpcore's pool (behind every `httpx.AsyncClient`, and the SDK's transport under trio) has two
cancellation defects, and under pool contention either one takes every connection in a few
hundred calls bounded by `asyncio.wait_for`, `asyncio.timeout` or a cancel scope, after which
every call times out (encode/httpcore#1093, also #830 and #658):

- It shields its clean-up with anyio cancel scopes, which do not hold off asyncio's own
  `Task.cancel()` (what `wait_for`, `timeout`, `gather` and `TaskGroup` use). A cancellation
  that lands while a finished response is handing its connection back stops half way: the
  connection stays active, owned by a request the pool never forgets. `cancel_safe` runs the
  send in a child task of an anyio task group, so the caller's `Task.cancel()` reaches the
  send as a cancel scope's cancellation, which those shields do hold off.
- A request cancelled after the pool created a connection for it, but before it used it,
  leaves that connection in the pool unused and owned by nobody, holding a slot for ever,
  whatever cancelled it. The fixes proposed upstream (encode/httpcore#1094, #1099) are
  unreleased and httpx gets no releases now, so after any send that did not return,
  `reclaim_orphaned_connections` applies their rule: a connection that no request owns and
  that is neither idle nor closed is dropped, and its slot goes to the next queued request.

Both read httpcore's private state; `test_cancellation.py` fails if a release changes it or
fixes the race. The default transport under asyncio, aiohttp, has neither defect and pays for
neither.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING

import anyio
import httpx

if TYPE_CHECKING:
    import httpcore

__all__ = ["cancel_safe", "httpcore_pools", "reclaim_orphaned_connections"]


async def cancel_safe(send: Callable[[], Awaitable[httpx.Response]]) -> httpx.Response:
    """`await send()`, with asyncio's cancellation delivered to it as a cancel scope's."""
    try:
        asyncio.current_task()
    except RuntimeError:  # not asyncio: trio cancels by scope already
        return await send()
    responses: list[httpx.Response] = []

    async def run() -> None:
        responses.append(await send())

    error: BaseException | None = None
    try:
        async with anyio.create_task_group() as group:
            group.start_soon(run)
    except BaseExceptionGroup as failed:  # the one child's error, unwrapped below
        error = failed.exceptions[0]
    except BaseException:
        # Cancelled after the child had its response: the connection goes back all the same.
        for response in responses:
            with anyio.CancelScope(shield=True):
                await response.aclose()
        raise
    if error is not None:
        raise error  # outside the handler, so its context stays what the child's was
    return responses[0]


def httpcore_pools(transports: Iterable[object]) -> tuple[httpcore.AsyncConnectionPool, ...]:
    """The httpcore pools behind these transports (httpx's default transport, or a proxy's).

    httpx imports httpcore when it builds such a transport: while httpcore is not imported
    there is no pool, and the SDK does not import it (with trio, a tenth of its import time)."""
    httpcore = sys.modules.get("httpcore")
    if httpcore is None:
        return ()
    pools = []
    for transport in transports:
        pool = getattr(transport, "_pool", None)
        if isinstance(transport, httpx.AsyncHTTPTransport) and isinstance(
            pool, httpcore.AsyncConnectionPool
        ):
            pools.append(pool)
    return tuple(pools)


def _orphans(pool: httpcore.AsyncConnectionPool) -> list[httpcore.AsyncConnectionInterface]:
    """Connections neither idle nor closed that no request owns: nothing will ever free them.

    (A connection in use always has its request in the pool until the response is closed, and
    the pool makes a connection idle before it forgets the request, so this is never one that
    a live call is using.)"""
    owned = {id(request.connection) for request in pool._requests if request.connection is not None}
    return [
        connection
        for connection in pool._connections
        if id(connection) not in owned and not (connection.is_idle() or connection.is_closed())
    ]


async def reclaim_orphaned_connections(pool: httpcore.AsyncConnectionPool) -> int:
    """Drop connections a cancelled request left behind; hand their slots on. Returns how many."""
    with pool._optional_thread_lock:
        orphans = _orphans(pool)
        if not orphans:
            return 0
        for connection in orphans:
            pool._connections.remove(connection)
        closing = pool._assign_requests_to_connections()  # wakes requests queued for a slot
    with anyio.CancelScope(shield=True):  # the caller is being cancelled; this must still run
        for connection in [*orphans, *closing]:
            await connection.aclose()
    return len(orphans)
