"""Responses no parser should choke on still end in a ThredfiError, never a raw exception."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from thredfi_async import InternalServerError, ThredfiError, UnexpectedResponseError
from thredfi_async._exceptions import APIConnectionError

BUSINESS = "6f1c2b9e-3d4a-4e5f-8a7b-9c0d1e2f3a4b"
DEEP = b'{"a":' * 1500 + b"1" + b"}" * 1500  # past every JSON decoder's recursion limit


@pytest.mark.asyncio
async def test_a_success_body_nested_too_deeply_raises_unexpected_response(
    make_client: Any,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=DEEP, headers={"Content-Type": "application/json"})

    async with make_client(handler) as client:
        with pytest.raises(UnexpectedResponseError, match="not JSON"):
            await client.business(BUSINESS).customers.get("cus-1")


@pytest.mark.asyncio
async def test_a_5xx_with_a_deeply_nested_body_is_retried_then_raised_typed(
    make_client: Any,
) -> None:
    attempts = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        return httpx.Response(503, content=DEEP, headers={"Content-Type": "application/json"})

    async with make_client(handler) as client:
        with pytest.raises(InternalServerError) as caught:
            await client.business(BUSINESS).customers.get("cus-1")
    assert attempts == 3  # the first attempt and both retries
    assert caught.value.error_code == "server_error"


@pytest.mark.asyncio
async def test_a_4xx_with_a_deeply_nested_body_keeps_its_status(make_client: Any) -> None:
    async with make_client(lambda request: httpx.Response(404, content=DEEP)) as client:
        with pytest.raises(ThredfiError) as caught:
            await client.business(BUSINESS).customers.get("cus-1")
    assert getattr(caught.value, "status_code", None) == 404


@pytest.mark.asyncio
async def test_a_body_that_does_not_match_its_content_encoding_is_a_typed_error(
    make_client: Any,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=b"not gzip at all", headers={"Content-Encoding": "gzip"})

    async with make_client(handler, max_retries=0) as client:
        with pytest.raises(APIConnectionError, match="could not be decoded"):
            await client.business(BUSINESS).customers.get("cus-1")
