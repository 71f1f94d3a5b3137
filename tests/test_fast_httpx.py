"""The directly built httpx objects are httpx's own, in everything a caller or httpx reads."""

from __future__ import annotations

import pickle

import httpx
import pytest

from thredfi_async import _fast_httpx
from thredfi_async._fast_httpx import build_request, whole_response

URL = httpx.URL("https://sandbox.thredfi.com/v1/platform/businesses/b-1/invoices/?page=3")
HEADERS = {"Accept": "application/json", "User-Agent": "thredfi-async", "Idempotency-Key": "k"}
RAW = [
    (b"Content-Type", b"application/json"),
    (b"Content-Length", b"13"),
    (b"X-Request-ID", b"req_1"),
    (b"Set-Cookie", b"a=1"),
    (b"Set-Cookie", b"b=2"),
]


def test_the_pinned_httpx_agrees_with_the_fast_builders() -> None:
    # If this fails after an httpx upgrade, the SDK still works (on httpx's constructors);
    # _fast_httpx needs updating to the new attributes to be fast again.
    assert _fast_httpx.FAST


@pytest.mark.parametrize(
    ("method", "content"), [("GET", None), ("DELETE", None), ("POST", None), ("PATCH", b'{"a":1}')]
)
def test_a_request_is_what_httpx_builds(method: str, content: bytes | None) -> None:
    fast = build_request(method, URL, HEADERS, content, {"timeout": {}})
    slow = httpx.Request(method, URL, headers=HEADERS, content=content, extensions={"timeout": {}})
    assert fast.headers.raw == slow.headers.raw
    assert fast.content == slow.content == (content or b"")
    assert (fast.method, fast.url, fast.extensions) == (slow.method, slow.url, slow.extensions)
    fast.headers["Authorization"] = "Bearer t"  # what the SDK does per attempt
    slow.headers["Authorization"] = "Bearer t"
    assert fast.headers.raw == slow.headers.raw
    assert repr(fast) == repr(slow)
    assert pickle.loads(pickle.dumps(fast)).headers.raw == slow.headers.raw


@pytest.mark.asyncio
async def test_a_response_is_what_httpx_builds() -> None:
    request = httpx.Request("GET", URL)
    body = b'{"count": 12}'
    extensions = {"http_version": b"HTTP/1.1"}
    fast = whole_response(200, RAW, body, request, extensions)
    slow = httpx.Response(200, headers=RAW, content=body, request=request, extensions=extensions)
    assert fast.headers.raw == slow.headers.raw
    assert fast.headers.get_list("set-cookie") == ["a=1", "b=2"]
    assert fast.json() == slow.json() == {"count": 12}
    assert fast.text == slow.text
    assert await fast.aread() == body
    assert [chunk async for chunk in fast.aiter_bytes()] == [body]
    assert fast.is_closed
    assert fast.is_stream_consumed
    assert fast.request is request
    assert fast.http_version == "HTTP/1.1"
    assert repr(fast) == repr(slow)
    fast.extensions["added"] = True
    assert "added" not in extensions, "the caller's extensions are not shared"
    fast.raise_for_status()
    await fast.aclose()


def test_without_agreement_the_builders_are_httpx_constructors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(_fast_httpx, "FAST", False)
    made: list[str] = []

    class Spy(httpx.Request):
        def __init__(self, *args: object, **kwargs: object) -> None:
            made.append("request")
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(httpx, "Request", Spy)
    request = build_request("POST", URL, HEADERS, b"{}", {})
    assert made == ["request"]
    assert request.headers["content-length"] == "2"
