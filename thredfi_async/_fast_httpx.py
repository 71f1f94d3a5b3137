"""httpx Request and Response objects for the common case, without httpx's per-object work.

httpx's constructors are general: a Request re-parses its URL, builds its headers twice (once
from the argument, again with Host and Content-Length in front) and encodes its content through
a dispatcher; a Response built with `content=` sets up a stream and reads it back through the
decoder chain. Per call that was about 35 us of the SDK's ~130 us above raw aiohttp. The SDK's
requests and whole-body responses are always the same simple shape (bytes or nothing as the
body, headers whose names the SDK chose, a URL it built itself), so this builds the same
objects directly.

"The same objects" is checked, not assumed: at import, each builder's output is compared with
httpx's own constructor on sample inputs (every attribute, header order and case, the stream
and its bytes). If an httpx release changes what its constructors produce, the comparison fails
and these functions hand everything to httpx's constructors instead, as _url.py does for URLs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import httpx

__all__ = ["FAST", "build_request", "whole_response"]

_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def build_request(
    method: str,
    url: httpx.URL,
    headers: Mapping[str, str],
    content: bytes | None,
    extensions: dict[str, Any],
) -> httpx.Request:
    """`httpx.Request(method, url, headers=, content=, extensions=)` for an upper-case
    method and headers that name neither Host, Content-Length nor Transfer-Encoding."""
    if not FAST:
        return httpx.Request(method, url, headers=headers, content=content, extensions=extensions)
    return _fast_request(method, url, headers, content, extensions)


def whole_response(
    status: int,
    raw_headers: Sequence[tuple[bytes, bytes]],
    body: bytes,
    request: httpx.Request,
    extensions: dict[str, Any],
) -> httpx.Response:
    """`httpx.Response(status, headers=, content=body, request=, extensions=)` for headers
    that already carry Content-Length and no Content-Encoding (the body is what came)."""
    if not FAST:
        return httpx.Response(
            status, headers=raw_headers, content=body, request=request, extensions=extensions
        )
    return _fast_response(status, raw_headers, body, request, extensions)


def _headers(items: list[tuple[bytes, bytes, bytes]]) -> httpx.Headers:
    headers = httpx.Headers.__new__(httpx.Headers)
    headers._list = items
    headers._encoding = None
    return headers


def _fast_request(
    method: str,
    url: httpx.URL,
    headers: Mapping[str, str],
    content: bytes | None,
    extensions: dict[str, Any],
) -> httpx.Request:
    items: list[tuple[bytes, bytes, bytes]] = []
    if url.host:
        items.append((b"Host", b"host", url.netloc))
    if content is None and method in _BODY_METHODS:
        items.append((b"Content-Length", b"content-length", b"0"))
    for name, value in headers.items():
        key = name.encode("ascii")
        items.append((key, key.lower(), value.encode("ascii")))
    if content is not None:
        items.append((b"Content-Length", b"content-length", str(len(content)).encode("ascii")))
    request = httpx.Request.__new__(httpx.Request)
    request.method = method
    request.url = url
    request.headers = _headers(items)
    request.extensions = extensions
    body = b"" if content is None else content
    request.stream = httpx.ByteStream(body)
    request._content = body
    return request


def _fast_response(
    status: int,
    raw_headers: Sequence[tuple[bytes, bytes]],
    body: bytes,
    request: httpx.Request,
    extensions: dict[str, Any],
) -> httpx.Response:
    response = httpx.Response.__new__(httpx.Response)
    response.status_code = status
    response.headers = _headers([(name, name.lower(), value) for name, value in raw_headers])
    response._request = request
    response.next_request = None
    response.extensions = dict(extensions)  # as httpx does: callers may add to theirs
    response.history = []
    response.is_closed = True
    response.is_stream_consumed = True
    response.default_encoding = "utf-8"
    response.stream = httpx.ByteStream(body)
    response._num_bytes_downloaded = 0
    response._content = body
    return response


def _same(fast: object, slow: object) -> bool:
    """Whether two httpx objects are alike in everything a caller or httpx itself reads."""
    fast_vars, slow_vars = dict(vars(fast)), dict(vars(slow))
    slow_vars.pop("_decoder", None)  # made lazily; reading the fast one's body makes it too
    if fast_vars.keys() != slow_vars.keys():
        return False
    for name, value in slow_vars.items():
        other = fast_vars[name]
        if isinstance(value, httpx.Headers):
            same = value.raw == other.raw and value.multi_items() == other.multi_items()
        elif isinstance(value, httpx.ByteStream):
            same = type(other) is type(value) and vars(other) == vars(value)
        elif isinstance(value, httpx.URL):
            same = value == other and str(value) == str(other)
        elif isinstance(value, httpx.Request):
            same = value is other
        else:
            same = value == other and type(value) is type(other)
        if not same:
            return False
    return True


def _agrees() -> bool:
    url = httpx.URL("http://api.example:8080/v1/platform/x/?page=2")
    headers = {"Accept": "application/json", "Idempotency-Key": "k-1"}
    cases: list[tuple[str, bytes | None]] = [("GET", None), ("POST", None), ("POST", b"{}")]
    try:
        for method, content in cases:
            slow = httpx.Request(method, url, headers=headers, content=content, extensions={})
            fast = _fast_request(method, url, headers, content, {})
            if not _same(fast, slow):
                return False
            raw = [(b"Content-Type", b"application/json"), (b"Content-Length", b"2")]
            ext = {"http_version": b"HTTP/1.1"}
            if not _same(
                _fast_response(200, raw, b"{}", slow, dict(ext)),
                httpx.Response(200, headers=raw, content=b"{}", request=slow, extensions=ext),
            ):
                return False
    except (AttributeError, TypeError, ValueError):
        return False
    return True


FAST = _agrees()
