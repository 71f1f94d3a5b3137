"""The fake API served by uvicorn on a free loopback port, for tests that need real sockets.

One server per session: a `Switchboard` in front of it hands each request to whichever fake the
current test installed, so every test still gets a fresh fake without paying for a server start.
"""

from __future__ import annotations

from typing import Any

# The benchmarks serve the fake the same way; one implementation of the loopback server.
from benchmarks._fleet_servers import free_port, serve

__all__ = ["Switchboard", "free_port", "serve"]

ASGIApp = Any


class Switchboard:
    """An ASGI app that forwards to `app`, which a test replaces at will."""

    def __init__(self) -> None:
        self.app: ASGIApp | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.app is None:
            raise RuntimeError("no fake installed on the switchboard")
        await self.app(scope, receive, send)
