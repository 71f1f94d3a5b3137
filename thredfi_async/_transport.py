"""The default transport: aiohttp under asyncio, httpx's own under trio, behind httpx's interface.

httpx's connection pool (httpcore) costs two to three times what aiohttp's does per call, and
more than ten times under concurrency, where it gets slower than sending one call at a time.
So under asyncio the SDK sends through aiohttp. It does so behind `httpx.AsyncBaseTransport`,
so httpx `Request` and `Response` stay the SDK's types, and `http_client=` still takes any
`httpx.AsyncClient` (MockTransport, proxies, pytest-httpx, respx). aiohttp runs on asyncio
only, so under trio the same transport delegates to `httpx.AsyncHTTPTransport`; which event
loop is running is detected at each request, never configured.

Why not the `httpx-aiohttp` package, which does the same: it maps every
`aiohttp.ClientConnectionError` to `httpx.ConnectTimeout`, a server dropping the connection
after the request went out included. The retry rule reads a connect error as "the request never
reached the server" and replays even a create the API does not deduplicate: a double charge.
Here only errors raised while connecting become connect errors (see `_map_errors`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ssl
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from ._aiohttp_transport import AiohttpTransport

__all__ = ["READ_WHOLE_UP_TO", "AutoTransport", "ssl_context"]

READ_WHOLE_UP_TO = "thredfi.read_whole_up_to"
"""A request extension: a body whose Content-Length is at most this many bytes, and which
is not compressed, is read in one go by the transport instead of streamed through httpx
(which costs more than the read). Larger, compressed or chunked bodies stream as usual."""


@functools.cache
def ssl_context() -> ssl.SSLContext:
    """httpx's TLS settings (certifi, SSL_CERT_FILE / SSL_CERT_DIR), built once per process:
    loading the CA bundle costs tens of milliseconds, which every client built would pay."""
    return httpx.create_ssl_context()


class AutoTransport(httpx.AsyncBaseTransport):
    """aiohttp under asyncio, httpx's AsyncHTTPTransport under anything else (trio)."""

    def __init__(self, *, max_connections: int | None = 20) -> None:
        self.max_connections = max_connections
        self.aiohttp: AiohttpTransport | None = None
        self.httpx: httpx.AsyncHTTPTransport | None = None

    @property
    def selected(self) -> httpx.AsyncBaseTransport | None:
        """The transport the last request went through (None before the first)."""
        return self._selected

    _selected: httpx.AsyncBaseTransport | None = None

    def _for_running_loop(self) -> httpx.AsyncBaseTransport:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # not asyncio: trio (or another anyio backend)
            if self.httpx is None:
                size = self.max_connections
                self.httpx = httpx.AsyncHTTPTransport(
                    verify=ssl_context(),
                    limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                )
            self._selected = self.httpx
            return self.httpx
        if self.aiohttp is None:
            from ._aiohttp_transport import AiohttpTransport  # aiohttp: at first use (import time)

            self.aiohttp = AiohttpTransport(max_connections=self.max_connections)
        self._selected = self.aiohttp
        return self.aiohttp

    def handle_async_request(self, request: httpx.Request) -> Coroutine[Any, Any, httpx.Response]:
        # The selected transport's coroutine itself: one frame less on every resumption.
        return self._for_running_loop().handle_async_request(request)

    async def aclose(self) -> None:
        for transport in (self.aiohttp, self.httpx):
            if transport is not None:
                with contextlib.suppress(RuntimeError):  # closed from another kind of loop
                    await transport.aclose()
