"""Reading a response body with a bound on its decoded size.

httpx reads a body whole, and decompresses it as it goes: a 1 MB gzip body that inflates to
1 GiB costs a gigabyte or two of memory before anything can look at it. Every response the
client reads (2xx, error and 401 bodies alike) goes through `read_capped` instead, which
counts the decoded bytes as they are inflated and stops, closing the response, as soon as the
body passes the cap. A Content-Length already past the cap is refused before a byte is read.
The overshoot is at most one network read inflated (httpx decodes a read at a time).
"""

from __future__ import annotations

import httpx

from ._exceptions import UnexpectedResponseError

__all__ = ["DEFAULT_MAX_RESPONSE_BYTES", "read_capped"]

DEFAULT_MAX_RESPONSE_BYTES = 32 * 1024 * 1024
"""32 MiB decoded: far above any page or document the API returns."""


async def read_capped(response: httpx.Response, max_bytes: int | None) -> None:
    """Read a streamed response's body into it, as `response.aread()` would, within a cap.

    Raises UnexpectedResponseError once the decoded body exceeds `max_bytes` (None: no cap),
    and UnexpectedResponseError too for a body its Content-Encoding cannot decode. The caller
    closes the response on any error.
    """
    try:
        if max_bytes is None:
            await response.aread()
            return
        if response.is_stream_consumed:  # built whole by its transport (MockTransport, ASGI)
            if len(response.content) > max_bytes:
                raise _too_large(response, max_bytes, "the body")
            return
        declared = response.headers.get("content-length")
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            raise _too_large(response, max_bytes, f"Content-Length {declared}")
        chunks = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > max_bytes:
                raise _too_large(response, max_bytes, "the body")
            chunks.append(chunk)
    except httpx.DecodingError as exc:
        raise UnexpectedResponseError(
            f"{response.status_code} response body could not be decoded "
            f"({response.headers.get('content-encoding')}): {exc}",
            response=response,
        ) from exc
    # Where aread() keeps the body (httpx has no bounded read), so .content, .json() and the
    # error parsing all work as on a response httpx read itself.
    response._content = chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _too_large(response: httpx.Response, max_bytes: int, what: str) -> UnexpectedResponseError:
    return UnexpectedResponseError(
        f"{response.status_code} response: {what} exceeds max_response_bytes ({max_bytes}); "
        "not read further",
        response=response,
    )
