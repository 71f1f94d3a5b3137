"""The event loop the sync client runs the async one on: one daemon thread per client.

The sync client is the async client driven from another thread, so every rule (tokens in single
flight, retries, idempotency keys, deadlines, hooks, pacing, pagination) exists once. A call
hands a coroutine to this loop and blocks until it finishes. Written on asyncio directly rather
than anyio's BlockingPortal for two reasons: the caller's contextvars must travel with the call
(an OpenTelemetry span or a log context set in the caller's thread is the parent of what the
call records; the portal runs tasks in its own context), and the hand-off costs less (82 us
against 97 us a round trip on the 2-core benchmark machine).

After `os.fork()` the child has no loop thread (threads do not survive a fork) and inherits the
parent's sockets; `generation` changes in the child, so the client builds a new async client on
a new loop there and never touches what it inherited.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextvars
import os
import threading
import weakref
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from ._exceptions import ClientClosedError, UsageError

__all__ = ["LoopThread", "fork_generation"]

T = TypeVar("T")

_generation = 0
_live: weakref.WeakSet[LoopThread] = weakref.WeakSet()


def fork_generation() -> int:
    """Changes in a child process after each fork; what a client compares to notice one."""
    return _generation


def _after_fork_in_child() -> None:
    global _generation
    _generation += 1
    for loop_thread in list(_live):
        loop_thread._forget_after_fork()


if hasattr(os, "register_at_fork"):  # pragma: no branch - absent only on Windows
    os.register_at_fork(after_in_child=_after_fork_in_child)


class LoopThread:
    """An asyncio event loop in a daemon thread, started on first use, that runs coroutines for
    callers in other threads. Safe to call from any number of threads at once."""

    def __init__(self, name: str = "thredfi-loop") -> None:
        self._name = name
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._closed = False
        _live.add(self)

    def run(self, start: Callable[[], Awaitable[T]]) -> T:
        """Call `start()` on the loop thread, await what it returns there, and return the result
        here (or raise its exception). `start` runs in a copy of the caller's context. If the
        waiting thread is interrupted (KeyboardInterrupt), the call is cancelled on the loop."""
        loop = self._running_loop()
        if self.on_its_thread():
            raise UsageError(
                "a sync Thredfi client was called from its own event loop thread (from a hook or "
                "a token store?); call the AsyncThredfi it wraps there instead"
            )
        future: concurrent.futures.Future[T] = concurrent.futures.Future()
        context = contextvars.copy_context()

        async def call() -> None:
            if not future.set_running_or_notify_cancel():
                return
            try:
                result = await start()
            except asyncio.CancelledError as exc:
                # By an interrupted caller (who is gone), or by close() stopping the loop.
                closed = ClientClosedError("the Thredfi client was closed during this call")
                future.set_exception(closed if self._closed else exc)
            except BaseException as exc:  # raised in the waiting thread instead
                future.set_exception(exc)
            else:
                future.set_result(result)

        task_box: list[asyncio.Task[None]] = []

        def schedule() -> None:
            task_box.append(loop.create_task(call(), context=context))

        loop.call_soon_threadsafe(schedule)
        try:
            return future.result()
        except BaseException:
            if not future.done():  # interrupted while waiting: stop the call, then re-raise
                loop.call_soon_threadsafe(lambda: task_box and task_box[0].cancel())
            raise

    def close(self, last: Callable[[], Awaitable[Any]] | None = None) -> None:
        """Await `last()` on the loop (closing the async client), then stop and join the thread.
        Idempotent; a closed loop thread refuses further calls with ClientClosedError."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        try:
            if last is not None and threading.get_ident() != thread.ident:
                asyncio.run_coroutine_threadsafe(_call(last), loop).result()
        finally:
            loop.call_soon_threadsafe(loop.stop)
            if threading.get_ident() != thread.ident:
                thread.join()

    def on_its_thread(self) -> bool:
        return threading.get_ident() == self._loop_thread_id()

    @property
    def closed(self) -> bool:
        return self._closed

    def _running_loop(self) -> asyncio.AbstractEventLoop:
        loop = self._loop
        if loop is not None and not self._closed:
            return loop
        with self._lock:
            if self._closed:
                raise ClientClosedError(
                    "the Thredfi client was used after close() (or after its `with` block ended)"
                )
            if self._loop is None:
                started = threading.Event()
                new_loop = asyncio.new_event_loop()

                def serve() -> None:
                    asyncio.set_event_loop(new_loop)
                    new_loop.call_soon(started.set)
                    try:
                        new_loop.run_forever()
                    finally:
                        _cancel_remaining(new_loop)
                        new_loop.close()

                thread = threading.Thread(target=serve, name=self._name, daemon=True)
                thread.start()
                started.wait()
                self._thread, self._loop = thread, new_loop
            return self._loop

    def _loop_thread_id(self) -> int | None:
        thread = self._thread
        return thread.ident if thread is not None else None

    def _forget_after_fork(self) -> None:
        """In a forked child: the thread is gone and the loop's selector and sockets are the
        parent's. Drop them unclosed (closing could act on the parent's connections) and start
        afresh on the next call."""
        self._lock = threading.Lock()
        if self._loop is not None:
            _inherited.append(self._loop)  # kept alive, never run or closed, in this process
        self._loop, self._thread = None, None


_inherited: list[asyncio.AbstractEventLoop] = []


async def _call(start: Callable[[], Awaitable[T]]) -> T:
    return await start()


def _cancel_remaining(loop: asyncio.AbstractEventLoop) -> None:
    """Cancel what is still running when the loop stops (a call whose caller gave up)."""
    tasks = asyncio.all_tasks(loop)
    for task in tasks:
        task.cancel()
    if tasks:
        loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
    loop.run_until_complete(loop.shutdown_asyncgens())
