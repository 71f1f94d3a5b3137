"""Every non-2xx raises the typed hierarchy, read from any of the documented error body shapes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

import thredfi_async as t

from .conftest import API_KEY

BUSINESS = "b7a4f2d0-0c38-4f0e-9e58-3f5d6f1f2a11"


async def fail_with(make_client: Any, status: int, **response: Any) -> t.APIStatusError:
    async with make_client(
        lambda request: httpx.Response(status, **response), max_retries=0
    ) as client:
        with pytest.raises(t.APIStatusError) as caught:
            await client.business(BUSINESS).customers.get("cus-1")
    return caught.value


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (400, t.BadRequestError),
        (401, t.AuthenticationError),
        (403, t.PermissionDeniedError),
        (404, t.NotFoundError),
        (409, t.ConflictError),
        (422, t.UnprocessableEntityError),
        (429, t.RateLimitError),
        (500, t.InternalServerError),
        (503, t.InternalServerError),
        (418, t.APIStatusError),
    ],
)
async def test_each_status_raises_its_class(
    make_client: Any, status: int, error_class: type
) -> None:
    error = await fail_with(make_client, status, json={"error_code": "x", "error": "no"})
    assert type(error) is error_class
    assert isinstance(error, t.ThredfiError)
    assert error.status_code == status


@pytest.mark.asyncio
async def test_validation_body_shape_gives_code_message_and_field_details(make_client: Any) -> None:
    error = await fail_with(
        make_client,
        400,
        json={
            "error": "Validation errors in request data",
            "error_code": "validation_error",
            "details": {
                "email": ["Enter a valid email address."],
                "currency": ["Invalid currency code. Must be one of: GBP, EUR, USD"],
            },
        },
        headers={"X-Request-ID": "req-abc"},
    )
    assert isinstance(error, t.BadRequestError)
    assert error.error_code == "validation_error"
    assert error.message == "Validation errors in request data"
    assert error.details == {
        "email": ["Enter a valid email address."],
        "currency": ["Invalid currency code. Must be one of: GBP, EUR, USD"],
    }
    assert error.request_id == "req-abc"
    assert error.response.status_code == 400
    assert "email: Enter a valid email address." in str(error)
    assert "request_id=req-abc" in str(error)


@pytest.mark.asyncio
async def test_detail_string_shape_becomes_the_message(make_client: Any) -> None:
    error = await fail_with(
        make_client,
        400,
        json={
            "error_code": "validation_error",
            "detail": "Invalid entity_type 'gmbh' for country GB.",
        },
    )
    assert error.message == "Invalid entity_type 'gmbh' for country GB."
    assert error.details == {}


@pytest.mark.asyncio
async def test_delete_endpoint_shape_with_object_detail_and_request_id(make_client: Any) -> None:
    error = await fail_with(
        make_client,
        409,
        json={
            "error_code": "duplicate_external_id",
            "message": "A customer with this external_id exists",
            "detail": {"external_id": "cust-42"},
            "request_id": "req-from-body",
        },
        headers={"X-Request-ID": "req-from-header"},
    )
    assert isinstance(error, t.ConflictError)
    assert error.error_code == "duplicate_external_id"
    assert error.message == "A customer with this external_id exists"
    assert error.details == {"external_id": ["cust-42"]}
    assert error.request_id == "req-from-body"


@pytest.mark.asyncio
async def test_missing_error_code_is_derived_from_the_status(make_client: Any) -> None:
    error = await fail_with(make_client, 403, json={"message": "nope"})
    assert error.error_code == "permission_denied"
    error = await fail_with(make_client, 502, text="<html>Bad gateway</html>")
    assert error.error_code == "server_error"
    assert error.body == "<html>Bad gateway</html>"


@pytest.mark.asyncio
async def test_rate_limit_error_carries_retry_after(make_client: Any) -> None:
    error = await fail_with(make_client, 429, json={}, headers={"Retry-After": "120"})
    assert isinstance(error, t.RateLimitError)
    assert error.retry_after == 120.0


@pytest.mark.asyncio
async def test_an_error_body_echoing_a_secret_is_redacted(make_client: Any) -> None:
    error = await fail_with(
        make_client,
        400,
        json={
            "error": "bad header Authorization: Bearer eyJhbGciOi.eyJzdWIiOiJ4In0.c2ln",
            "detail": {},
        },
    )
    assert "eyJzdWIiOiJ4In0" not in str(error)
    assert "eyJzdWIiOiJ4In0" not in repr(error)
    assert API_KEY not in str(error)


@pytest.mark.asyncio
async def test_a_success_that_is_not_json_raises_unexpected_response(make_client: Any) -> None:
    async with make_client(lambda request: httpx.Response(200, text="<html>")) as client:
        with pytest.raises(t.UnexpectedResponseError) as caught:
            await client.business(BUSINESS).customers.get("cus-1")
    assert caught.value.status_code == 200


@pytest.mark.asyncio
async def test_a_dropped_connection_raises_api_connection_error(make_client: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    async with make_client(handler, max_retries=0) as client:
        with pytest.raises(t.APIConnectionError) as caught:
            await client.business(BUSINESS).customers.get("cus-1")
    assert not isinstance(caught.value, t.APITimeoutError)
    assert caught.value.request.url.path.endswith("/customers/cus-1/")


@pytest.mark.asyncio
async def test_a_timeout_raises_api_timeout_error(make_client: Any) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    async with make_client(handler, max_retries=0) as client:
        with pytest.raises(t.APITimeoutError):
            await client.business(BUSINESS).customers.get("cus-1")
