"""Response bodies are read within max_response_bytes, counted decoded (a gzip bomb included).

The bomb is real gzip served chunk by chunk from an httpx.MockTransport stream: 64 MiB of
zeros in about 64 KiB on the wire, so the test never holds more than the cap in memory.
"""

from __future__ import annotations

import functools
import gzip
import zlib
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

import thredfi_async as t
from thredfi_async import AsyncThredfi

from .conftest import API_KEY, PARTNER_UUID

BUSINESS = "b7a4f2d0-0c38-4f0e-9e58-3f5d6f1f2a11"
MiB = 1024 * 1024
DEFAULT_CAP = 32 * MiB


@functools.cache
def gzip_bomb_chunks(inflated_mib: int = 64) -> tuple[bytes, ...]:
    """gzip of `inflated_mib` MiB of zeros, as the chunks a server would write, one per MiB."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)  # wbits 31: a gzip container
    zeros = bytes(MiB)
    chunks = [
        compressor.compress(zeros) + compressor.flush(zlib.Z_SYNC_FLUSH)
        for _ in range(inflated_mib)
    ]
    chunks[-1] += compressor.flush()
    return tuple(chunks)


class CountedStream(httpx.AsyncByteStream):
    """Serves `chunks`, recording how many were taken and whether the stream was closed."""

    def __init__(self, chunks: tuple[bytes, ...]) -> None:
        self.chunks = chunks
        self.served = 0
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            self.served += 1
            yield chunk

    async def aclose(self) -> None:
        self.closed = True


def answering(
    make_client: Callable[..., AsyncThredfi], response: Callable[[], httpx.Response], **kwargs: Any
) -> tuple[AsyncThredfi, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return response()

    return make_client(handler, **kwargs), seen


@pytest.mark.asyncio
@pytest.mark.parametrize("status", [200, 401, 500])
async def test_a_gzip_bomb_is_refused_without_reading_the_rest(
    make_client: Callable[..., AsyncThredfi], status: int
) -> None:
    """2xx, 401 (whose body the token replay reads) and error bodies are all capped."""
    chunks = gzip_bomb_chunks()
    assert sum(map(len, chunks)) < MiB  # small on the wire...
    stream = CountedStream(chunks)
    thredfi, seen = answering(
        make_client,
        lambda: httpx.Response(
            status,
            headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
            stream=stream,
        ),
    )
    async with thredfi:
        with pytest.raises(t.UnexpectedResponseError, match="max_response_bytes") as caught:
            await thredfi.business(BUSINESS).customers.get("cus-1")

    assert caught.value.status_code == status
    assert len(chunks) == 64  # ...64 MiB inflated, one MiB per chunk
    assert stream.served == 33  # the first MiB past the default 32 MiB cap, and no further
    assert stream.closed
    assert len(seen) == 1  # neither retried nor replayed


@pytest.mark.asyncio
async def test_a_body_just_under_the_default_cap_is_read_whole(
    make_client: Callable[..., AsyncThredfi],
) -> None:
    stream = CountedStream(gzip_bomb_chunks(31))
    thredfi, _ = answering(
        make_client,
        lambda: httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=stream),
    )
    async with thredfi:
        with pytest.raises(t.UnexpectedResponseError, match="not JSON"):  # zeros, read whole
            await thredfi.business(BUSINESS).customers.get("cus-1")
    assert stream.served == 31


@pytest.mark.asyncio
async def test_a_content_length_past_the_cap_is_refused_before_reading(
    make_client: Callable[..., AsyncThredfi],
) -> None:
    stream = CountedStream((b'{"id": "cus-1"}',))
    thredfi, _ = answering(
        make_client,
        lambda: httpx.Response(
            200, headers={"Content-Length": str(DEFAULT_CAP + 1)}, stream=stream
        ),
    )
    async with thredfi:
        with pytest.raises(t.UnexpectedResponseError, match="Content-Length"):
            await thredfi.business(BUSINESS).customers.get("cus-1")
    assert stream.served == 0
    assert stream.closed


@pytest.mark.asyncio
async def test_the_cap_is_configurable_and_a_body_within_it_reads_as_usual(
    make_client: Callable[..., AsyncThredfi],
) -> None:
    body = b'{"id": "cus-1", "company_name": "' + b"x" * 900 + b'"}'
    compressed = gzip.compress(body)
    thredfi, _ = answering(
        make_client,
        lambda: httpx.Response(
            200,
            headers={"Content-Encoding": "gzip"},
            stream=CountedStream((compressed[:10], compressed[10:])),
        ),
        max_response_bytes=len(body),
    )
    async with thredfi:
        raw = await thredfi.business(BUSINESS).customers.with_raw_response.get("cus-1")
    assert raw.parsed.company_name == "x" * 900
    assert raw.http_response.content == body

    thredfi, _ = answering(
        make_client,
        lambda: httpx.Response(
            200, headers={"Content-Encoding": "gzip"}, stream=CountedStream((compressed,))
        ),
        max_response_bytes=len(body) - 1,
    )
    async with thredfi:
        with pytest.raises(
            t.UnexpectedResponseError, match=f"max_response_bytes \\({len(body) - 1}\\)"
        ):
            await thredfi.business(BUSINESS).customers.get("cus-1")


@pytest.mark.asyncio
async def test_a_body_its_content_encoding_cannot_decode_is_an_unexpected_response(
    make_client: Callable[..., AsyncThredfi],
) -> None:
    thredfi, _ = answering(
        make_client,
        lambda: httpx.Response(
            200, headers={"Content-Encoding": "gzip"}, stream=CountedStream((b"not gzip",))
        ),
    )
    async with thredfi:
        with pytest.raises(t.UnexpectedResponseError, match="could not be decoded"):
            await thredfi.business(BUSINESS).customers.get("cus-1")


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "32MiB"])
def test_a_bad_max_response_bytes_is_refused(bad: Any) -> None:
    with pytest.raises(t.InvalidRequestError, match="max_response_bytes"):
        AsyncThredfi(PARTNER_UUID, API_KEY, max_response_bytes=bad)


@pytest.mark.asyncio
async def test_a_response_its_transport_built_whole_is_capped_too(
    make_client: Callable[..., AsyncThredfi],
) -> None:
    thredfi, _ = answering(
        make_client,
        lambda: httpx.Response(200, content=b'{"id": "' + b"x" * 2000 + b'"}'),
        max_response_bytes=1000,
    )
    async with thredfi:
        with pytest.raises(t.UnexpectedResponseError, match="max_response_bytes"):
            await thredfi.business(BUSINESS).customers.get("cus-1")
