"""Path parameters a URL normaliser would rewrite never leave the process.

httpx resolves `.` and `..` segments, so without this guard `payments.get("..")` answers with
the invoice list and `refund_payments.delete(refund_id, "..")` deletes the refund itself. Every
path parameter of every operation is tried with each dangerous value; not one request may be
sent, token exchanges included.
"""

from __future__ import annotations

import inspect
from typing import Any

import httpx
import pytest

from thredfi_async import AsyncThredfi, InvalidRequestError

from .conftest import API_KEY, BASE_URL, PARTNER_UUID
from .test_operations import OPERATIONS, call_arguments, facade_method

DOT_SEGMENTS = (".", "..")


def path_parameter_cases() -> list[tuple[Any, str]]:
    client = AsyncThredfi(PARTNER_UUID, API_KEY, base_url=BASE_URL)
    cases = []
    for op in OPERATIONS:
        for name in inspect.signature(facade_method(client, op)).parameters:
            if "{" + name + "}" in op.path:
                cases.append((op, name))
    return cases


CASES = path_parameter_cases()


def test_every_path_parameter_of_the_spec_is_covered() -> None:
    declared = sum(op.path.count("{") for op in OPERATIONS)
    assert len(CASES) == declared
    assert len(CASES) * len(DOT_SEGMENTS) == 280  # the review's 280 substitutions


@pytest.mark.asyncio
@pytest.mark.parametrize("value", [*DOT_SEGMENTS, ""])
async def test_no_dot_segment_or_empty_path_parameter_sends_a_request(value: str) -> None:
    sent: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        return httpx.Response(200, json={"access_token": "t" * 20, "expires_in": 3600})

    refused = 0
    async with AsyncThredfi(
        PARTNER_UUID,
        API_KEY,
        base_url=BASE_URL,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(record)),
        max_retries=0,
    ) as client:
        for op, name in CASES:
            method = facade_method(client, op)
            args, kwargs, _, _ = call_arguments(method, op)
            positional = [p for p in inspect.signature(method).parameters if p != "business_id"]
            if name == "business_id":
                kwargs["business_id"] = value
            else:
                args[positional.index(name)] = value
            with pytest.raises(InvalidRequestError) as caught:
                await invoke(method, args, kwargs)
            assert name in str(caught.value), (op.operation_id, name)
            refused += 1
    assert refused == len(CASES)
    assert sent == []


async def invoke(method: Any, args: list[Any], kwargs: dict[str, Any]) -> None:
    result = method(*args, **kwargs)
    if inspect.isawaitable(result):
        await result
    else:  # a paginator: its first page is where the request would go
        await result.first_page()


@pytest.mark.parametrize("value", [".", "..", ""])
def test_a_business_view_refuses_a_dot_segment_or_empty_id(value: str) -> None:
    client = AsyncThredfi(PARTNER_UUID, API_KEY, base_url=BASE_URL)
    with pytest.raises(InvalidRequestError, match="business_id"):
        client.business(value)


def test_ids_that_only_look_odd_are_sent_percent_encoded() -> None:
    client = AsyncThredfi(PARTNER_UUID, API_KEY, base_url=BASE_URL)
    view = client.business("...")  # three dots are not a dot segment
    assert view.business_id == "..."
    for odd in ("a/../b", "%2e%2e", "?x=1", "a b", "#frag"):
        request = client._http.build_request(
            _get_customer_operation(),
            _parts(odd),
            _options(),
            httpx.Timeout(5),
        )
        assert request.url.raw_path.count(b"/") == _get_customer_operation().path.count("/")
        assert request.url.raw_path.startswith(b"/v1/platform/businesses/biz/customers/")


def _get_customer_operation() -> Any:
    from thredfi_async._generated.api.customers import get_customer

    return get_customer.OPERATION


def _parts(customer_id: str) -> Any:
    from thredfi_async._generated.api.customers import get_customer

    return get_customer.build_request("biz", customer_id)


def _options() -> Any:
    from thredfi_async._types import RequestOptions

    return RequestOptions()
