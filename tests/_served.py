"""The fake API served by uvicorn on a free loopback port, for tests that need real sockets.

One server per session: a `Switchboard` in front of it hands each request to whichever fake the
current test installed, so every test still gets a fresh fake without paying for a server start.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

# The benchmarks serve the fake the same way; one implementation of the loopback plumbing.
from benchmarks._loopback import free_port, serve, served_fake_process, wait_for_port
from thredfi_async.testing import FakeThredfi

__all__ = [
    "Board",
    "Switchboard",
    "free_port",
    "install_fake",
    "serve",
    "served_fake_process",
    "serving",
    "wait_for_port",
]

ASGIApp = Any


class Switchboard:
    """An ASGI app that forwards to `app`, which a test replaces at will."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.app is None:
            raise RuntimeError("no fake installed on the switchboard")
        await self.app(scope, receive, send)


Board = tuple[Switchboard, str]  # the switchboard and the base URL it is served at


@contextmanager
def serving() -> Iterator[Board]:
    """A Switchboard served on loopback (a module- or session-scoped fixture yields this)."""
    board = Switchboard()
    with serve(board) as base_url:
        yield board, base_url


def install_fake(board: Board, **options: Any) -> FakeThredfi:
    """A fresh fake answering at the board's URL (options go to FakeThredfi)."""
    switchboard, base_url = board
    fake = FakeThredfi(base_url=base_url, **options)
    switchboard.app = fake.app
    return fake
