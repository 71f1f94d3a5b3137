"""Injected failures: 5xx, 429 with Retry-After, lost responses, latency, drops, token expiry."""

from __future__ import annotations

import re
import time

import httpx
import pytest

from thredfi_async.testing import FakeThredfi

from ._support import Api

pytestmark = pytest.mark.anyio


async def _business(api: Api) -> str:
    """A business with its token already fetched, so rules only meet the calls under test."""
    bid = await api.business_id()
    await api.business_token(bid)
    return bid


async def test_fail_answers_the_status_the_given_number_of_times(
    fake: FakeThredfi, api: Api
) -> None:
    bid = await _business(api)
    rule = fake.faults.fail(503, times=2, operation_id="list_customers")
    first = await api.books(bid, "GET", "/customers/")
    second = await api.books(bid, "GET", "/customers/")
    third = await api.books(bid, "GET", "/customers/")
    assert [first.status_code, second.status_code, third.status_code] == [503, 503, 200]
    assert first.json()["error_code"] == "service_unavailable"
    assert first.headers["x-request-id"] == first.json()["request_id"]
    assert (rule.hits, rule.remaining, rule.active) == (2, 0, False)
    assert [r.faults for r in fake.requests.for_operation("list_customers")] == [
        ["fail"],
        ["fail"],
        [],
    ]


async def test_rate_limit_sends_retry_after(fake: FakeThredfi, api: Api) -> None:
    bid = await _business(api)
    fake.faults.fail(429, retry_after=2, path="*/invoices/*")
    limited = await api.books(bid, "GET", "/invoices/")
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "2"
    assert limited.json()["error_code"] == "rate_limited"
    fake.faults.rate_limit(retry_after=0.5, method="GET")
    assert (await api.books(bid, "GET", "/customers/")).headers["retry-after"] == "0.5"


async def test_fail_before_processing_changes_nothing(fake: FakeThredfi, api: Api) -> None:
    bid = await _business(api)
    fake.faults.fail(500, method="POST", path=re.compile(r"/customers/$"))
    response = await api.books(bid, "POST", "/customers/", json={"company_name": "Lost"})
    assert response.status_code == 500
    assert (await api.get(bid, "/customers/"))["count"] == 0


async def test_fail_after_processing_loses_only_the_response(fake: FakeThredfi, api: Api) -> None:
    bid = await _business(api)
    fake.faults.fail(502, after_processing=True, operation_id="create_customer")
    response = await api.books(bid, "POST", "/customers/", json={"company_name": "Kept"})
    assert response.status_code == 502
    assert (await api.get(bid, "/customers/"))["count"] == 1


async def test_latency_delays_matching_requests(fake: FakeThredfi, api: Api) -> None:
    bid = await _business(api)
    fake.faults.latency(0.05, times=1, operation_id="list_vendors")
    started = time.perf_counter()
    await api.get(bid, "/vendors/")
    slow = time.perf_counter() - started
    started = time.perf_counter()
    await api.get(bid, "/vendors/")
    fast = time.perf_counter() - started
    assert slow >= 0.05
    assert fast < 0.05


async def test_page_latency_applies_only_to_list_operations(fake: FakeThredfi, api: Api) -> None:
    bid = await _business(api)
    rule = fake.faults.page_latency(0.01)
    await api.get(bid, "/customers/")
    await api.get(bid, "/menu-config/")
    await api.get(bid, "/invoices/")
    assert rule.hits == 2


async def test_drop_connection_raises_a_transport_error(fake: FakeThredfi, api: Api) -> None:
    bid = await _business(api)
    fake.faults.drop_connection(operation_id="create_customer")
    with pytest.raises(httpx.RemoteProtocolError):
        await api.books(bid, "POST", "/customers/", json={"company_name": "Never"})
    assert (await api.get(bid, "/customers/"))["count"] == 0
    assert fake.requests.for_operation("create_customer")[0].status is None


async def test_drop_after_processing_applies_the_change(fake: FakeThredfi, api: Api) -> None:
    bid = await _business(api)
    fake.faults.drop_connection(after_processing=True, operation_id="create_customer")
    with pytest.raises(httpx.RemoteProtocolError):
        await api.books(bid, "POST", "/customers/", json={"company_name": "Applied"})
    assert (await api.get(bid, "/customers/"))["count"] == 1


async def test_expire_tokens_invalidates_every_issued_token(fake: FakeThredfi, api: Api) -> None:
    bid = await _business(api)
    await api.get(bid, "/customers/")
    fake.faults.expire_tokens()
    expired = await api.books(bid, "GET", "/customers/")
    assert expired.status_code == 401
    assert expired.json()["error_code"] == "invalid_token"
    assert (await api.partner("GET", "/v1/platform/businesses/")).status_code == 401
    api.partner_token = None
    api.business_tokens.clear()
    await api.get(bid, "/customers/")
    assert len(fake.requests.token_requests) == 4


async def test_clear_removes_every_rule(fake: FakeThredfi, api: Api) -> None:
    bid = await _business(api)
    fake.faults.fail(503, times=None)
    fake.faults.latency(1.0)
    assert len(fake.faults.rules) == 2
    fake.faults.clear()
    assert fake.faults.rules == []
    await api.get(bid, "/customers/")


async def test_the_first_matching_answer_rule_wins(fake: FakeThredfi, api: Api) -> None:
    bid = await _business(api)
    first = fake.faults.fail(500, method="GET")
    second = fake.faults.fail(503)
    assert (await api.books(bid, "GET", "/customers/")).status_code == 500
    assert (first.hits, second.hits) == (1, 0)
    assert (await api.books(bid, "GET", "/customers/")).status_code == 503


async def test_faults_apply_to_unrouted_paths_and_record_requests(
    fake: FakeThredfi, http: httpx.AsyncClient
) -> None:
    fake.faults.fail(503, path="/nowhere/*")
    assert (await http.get("/nowhere/at/all")).status_code == 503
    assert (await http.get("/elsewhere/")).status_code == 404
    assert [r.status for r in fake.requests] == [503, 404]
    assert fake.requests.count() == 2


def test_invalid_rules_are_refused(fake: FakeThredfi) -> None:
    with pytest.raises(ValueError, match="4xx or 5xx"):
        fake.faults.fail(200)
    with pytest.raises(ValueError, match="times"):
        fake.faults.latency(0.1, times=-1)
