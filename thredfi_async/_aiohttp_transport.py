"""AiohttpTransport: httpx requests sent by aiohttp, the default transport's choice under asyncio.

Its own module so that `import thredfi_async` does not import aiohttp (half the package's import
time): AutoTransport imports it at the first request made under asyncio. Why aiohttp, and why
not the `httpx-aiohttp` package: see `_transport`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import httpx
import yarl
from aiohttp.helpers import get_env_proxy_for_url

from ._fast_httpx import whole_response
from ._transport import READ_WHOLE_UP_TO, ssl_context

__all__ = ["AiohttpTransport"]

_HTTP11 = {"http_version": b"HTTP/1.1"}
_Proxy = tuple[yarl.URL | None, aiohttp.BasicAuth | None]


class AiohttpTransport(httpx.AsyncBaseTransport):
    """httpx requests sent by one `aiohttp.ClientSession`, opened at the first request.

    The session is bound to the event loop it was opened on; a request from another loop (a new
    `asyncio.run`, a test framework's per-test loop) opens a new one rather than fail.

    Args:
        max_connections: The pool's size (None: unbounded). The client sizes it from
            `max_concurrent_requests`, so every call it lets through finds a connection.
        keepalive_expiry: Seconds an idle connection is kept for reuse.
    """

    def __init__(self, *, max_connections: int | None = 20, keepalive_expiry: float = 5.0) -> None:
        self.max_connections = max_connections
        self.keepalive_expiry = keepalive_expiry
        self.session: aiohttp.ClientSession | None = None
        self._timeouts: dict[tuple[Any, ...], aiohttp.ClientTimeout] = {}
        self._proxies: dict[tuple[str, str, int | None], _Proxy] = {}

    async def _session(self) -> aiohttp.ClientSession:
        session = self.session
        loop = asyncio.get_running_loop()
        if session is not None and not session.closed:
            if session._loop is loop:
                return session
            if session._loop.is_closed():
                # Its loop has ended and its sockets with it; closing it here only marks it
                # closed, so it is not reported as a leak when collected.
                await session.close()
        connector = aiohttp.TCPConnector(
            limit=self.max_connections or 0,  # 0: no limit
            limit_per_host=0,
            keepalive_timeout=self.keepalive_expiry,
            ssl=ssl_context(),
        )
        session = self.session = aiohttp.ClientSession(
            connector=connector,
            # httpx decodes, so max_response_bytes counts decoded bytes on every transport.
            auto_decompress=False,
            # No skip_auto_headers: it costs a multidict build per request. aiohttp adds Accept,
            # Accept-Encoding and User-Agent only where a request lacks them, and the SDK's
            # requests carry all three.
            # Not trust_env: with it aiohttp reads the environment and ~/.netrc in a worker
            # thread on every request, which tripled the time of a call. Proxies come from
            # the environment once per origin instead (_proxy).
            trust_env=False,
            cookie_jar=aiohttp.DummyCookieJar(),  # an API client keeps no cookies
        )
        return session

    def _timeout(self, request: httpx.Request) -> aiohttp.ClientTimeout:
        """httpx's per-phase timeouts as aiohttp's (no write timeout in aiohttp: the client's
        wall-clock limit per attempt bounds a stalled upload)."""
        given = request.extensions.get("timeout") or {}
        key = (given.get("connect"), given.get("read"), given.get("pool"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            connect, read, pool = key
            # aiohttp's `connect` spans the wait for a pooled connection and the connect itself.
            acquire = None if connect is None or pool is None else connect + pool
            timeout = aiohttp.ClientTimeout(
                total=None, connect=acquire, sock_connect=connect, sock_read=read
            )
            if len(self._timeouts) < 64:
                self._timeouts[key] = timeout
        return timeout

    def _proxy(self, url: httpx.URL) -> _Proxy:
        """The proxy HTTP(S)_PROXY / NO_PROXY (and ~/.netrc) name for this origin, as httpx
        would use: read once per origin, as httpx reads them once per client."""
        origin = (url.scheme, url.host, url.port)
        proxy = self._proxies.get(origin)
        if proxy is None:
            try:
                proxy = get_env_proxy_for_url(yarl.URL(str(url)))
            except LookupError:
                proxy = (None, None)
            self._proxies[origin] = proxy
        return proxy

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self.session
        if session is None or session._loop is not asyncio.get_running_loop():
            session = await self._session()
        proxy, proxy_auth = self._proxy(request.url)
        try:
            content: bytes | None = request.content
        except httpx.RequestNotRead:  # multipart: httpx builds it as a stream
            content = await request.aread()
        with _map_errors():
            response = await session.request(
                request.method,
                str(request.url),
                # The names as given (multi_items() would lower-case them); httpx encoded
                # the values from str, so they decode back.
                headers=[(name.decode(), value.decode()) for name, value in request.headers.raw],
                data=content or None,
                allow_redirects=False,
                timeout=self._timeout(request),
                proxy=proxy,
                proxy_auth=proxy_auth,
            )
        whole_up_to = request.extensions.get(READ_WHOLE_UP_TO)
        length = response.content_length
        if (
            whole_up_to is not None
            and length is not None
            and length <= whole_up_to
            and "Content-Encoding" not in response.headers
        ):
            with _map_errors():
                body = await response.read()  # closes the connection if interrupted
            response.release()
            return whole_response(response.status, response.raw_headers, body, request, _HTTP11)
        return httpx.Response(
            response.status,
            headers=response.raw_headers,
            stream=_ResponseStream(response),
            request=request,
            extensions=_HTTP11,
        )

    async def aclose(self) -> None:
        session, self.session = self.session, None
        if session is not None and not session.closed:
            await session.close()


class _ResponseStream(httpx.AsyncByteStream):
    """The body as aiohttp receives it; closing before the end closes the connection."""

    __slots__ = ("_response",)

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        with _map_errors():
            async for chunk in self._response.content.iter_any():
                yield chunk

    async def aclose(self) -> None:
        # Synchronous on purpose: no await, so no cancellation can interrupt it halfway.
        response = self._response
        if response.content.is_eof():
            response.release()  # whole body read: the connection goes back to the pool
        else:
            response.close()  # abandoned mid-body: the connection cannot be reused


@contextlib.contextmanager
def _map_errors() -> Iterator[None]:
    """aiohttp's errors as httpx's, keeping "never reached the server" exact.

    Only a failure to connect (or to get a pooled connection in time) becomes ConnectError or
    ConnectTimeout, which the retry rule may replay whatever the method. A connection that
    fails once the request may have been written (the server disconnected, a read timed out,
    a malformed response) becomes a read or protocol error, retried only where replaying is
    safe.
    """
    try:
        yield
    except aiohttp.ConnectionTimeoutError as exc:
        raise httpx.ConnectTimeout(str(exc) or "connect timed out") from exc
    except aiohttp.ClientConnectorError as exc:  # DNS, refused, TLS handshake, proxy connect
        raise httpx.ConnectError(str(exc)) from exc
    except (aiohttp.ServerTimeoutError, TimeoutError) as exc:
        raise httpx.ReadTimeout(str(exc) or "read timed out") from exc
    except aiohttp.ServerDisconnectedError as exc:
        raise httpx.RemoteProtocolError(str(exc) or "server disconnected") from exc
    except (aiohttp.ClientPayloadError, aiohttp.ClientResponseError) as exc:
        raise httpx.RemoteProtocolError(str(exc)) from exc
    except (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError) as exc:
        raise httpx.UnsupportedProtocol(str(exc)) from exc
    except (aiohttp.ClientError, OSError) as exc:  # ClientOSError mid-request, anything else
        raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
