"""The rate limits a test sets on the fake: per partner and per business token buckets on the
fake's (frozen) clock, a 429 with Retry-After and the API's error body beyond them, and the
request log saying which requests they refused."""

from __future__ import annotations

import httpx
import pytest

from tests._served import served_fake_process
from thredfi_async.testing import FakeThredfi

from ._support import Api

pytestmark = pytest.mark.anyio

BUSINESSES = "/v1/platform/businesses/"


async def statuses(api: Api, n: int) -> list[int]:
    return [(await api.partner("GET", BUSINESSES)).status_code for _ in range(n)]


async def test_a_partner_gets_its_burst_then_its_rate_and_a_429_beyond(
    fake: FakeThredfi, api: Api
) -> None:
    await api.get_partner_token()
    fake.limits.set(partner_rps=2, burst=3)
    assert await statuses(api, 4) == [200, 200, 200, 429]
    fake.advance(0.5)  # one token back at 2 per second
    assert await statuses(api, 2) == [200, 429]
    fake.advance(10)  # refilled up to the burst, no further
    assert await statuses(api, 4) == [200, 200, 200, 429]


async def test_a_refusal_says_when_to_come_back_in_the_apis_error_shape(
    fake: FakeThredfi, api: Api
) -> None:
    await api.get_partner_token()
    fake.limits.set(partner_rps=0.25)
    await api.partner("GET", BUSINESSES)
    refused = await api.partner("GET", BUSINESSES)
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == "4"  # whole seconds, rounded up
    body = refused.json()
    assert body == {
        "error_code": "rate_limited",
        "message": "Request was throttled. Expected available in 4 seconds.",
        "detail": "Request was throttled. Expected available in 4 seconds.",
        "request_id": refused.headers["x-request-id"],
    }
    assert [r.refused_by for r in fake.requests][-2:] == [None, "rate_limit"]
    assert fake.requests.refused() == [fake.requests[-1]]
    assert fake.limits.refused == 1


async def test_a_refused_request_takes_no_token_and_changes_nothing(
    fake: FakeThredfi, api: Api
) -> None:
    await api.get_partner_token()
    fake.limits.set(partner_rps=1)
    await api.partner("GET", BUSINESSES)
    for _ in range(5):  # refused retries do not push the next token further away
        assert (await api.partner("POST", BUSINESSES, json={})).status_code == 429
    assert fake.business_ids == []
    fake.advance(1)
    assert (await api.partner("GET", BUSINESSES)).status_code == 200


async def test_each_business_has_its_own_bucket_inside_its_partners(
    fake: FakeThredfi, api: Api
) -> None:
    first, second = await api.business_id(), await api.business_id()
    await api.business_token(first)
    await api.business_token(second)
    fake.limits.set(partner_rps=1, burst=5, business_rps=1, business_burst=2)
    one = [(await api.books(first, "GET", "/customers/")).status_code for _ in range(3)]
    other = [(await api.books(second, "GET", "/customers/")).status_code for _ in range(3)]
    assert one == [200, 200, 429]
    assert other == [200, 200, 429]  # the partner's bucket had 5: one of them is left
    assert (await api.partner("GET", BUSINESSES)).status_code == 200  # partner-scoped
    assert (await api.partner("GET", BUSINESSES)).status_code == 429  # the partner's is empty
    assert {r.business_id for r in fake.requests.refused()} == {first, second, None}


async def test_partners_are_limited_apart_and_token_exchanges_count(
    fake: FakeThredfi, http: httpx.AsyncClient
) -> None:
    other = fake.add_partner()
    fake.limits.set(partner_rps=1, burst=1)

    async def token(uuid: str, key: str) -> int:
        response = await http.post(
            "/v1/platform/oauth2/token/",
            auth=(uuid, key),
            data={"grant_type": "client_credentials", "client_id": uuid},
        )
        return response.status_code

    assert await token(fake.partner_uuid, fake.api_key) == 200
    assert await token(fake.partner_uuid, fake.api_key) == 429
    assert await token(other.partner_uuid, other.api_key) == 200
    assert await token(fake.partner_uuid, "wrong key") == 401  # not known: not limited


async def test_no_limits_until_set_and_none_after_clear(fake: FakeThredfi, api: Api) -> None:
    await api.get_partner_token()
    assert await statuses(api, 20) == [200] * 20
    fake.limits.set(partner_rps=1)
    assert await statuses(api, 2) == [200, 429]
    fake.limits.clear()
    assert await statuses(api, 5) == [200] * 5


def test_bad_limits_are_refused(fake: FakeThredfi) -> None:
    with pytest.raises(ValueError, match="positive"):
        fake.limits.set(partner_rps=0)
    with pytest.raises(ValueError, match="burst"):
        fake.limits.set(business_rps=1, burst=0)


def test_the_served_fake_takes_its_limits_as_flags() -> None:
    with served_fake_process(
        "--partner-rps", "0.5", "--rate-burst", "2", "--log-level", "warning"
    ) as printed:
        with httpx.Client(base_url=printed["THREDFI_BASE_URL"]) as http:
            answers = [
                http.post(
                    "/v1/platform/oauth2/token/",
                    auth=(printed["THREDFI_PARTNER_UUID"], printed["THREDFI_API_KEY"]),
                    data={"grant_type": "client_credentials"},
                )
                for _ in range(3)
            ]
        assert [a.status_code for a in answers] == [200, 200, 429]
        assert answers[2].headers["retry-after"] == "2"


def test_the_served_fake_delays_every_answer_by_its_latency_flag() -> None:
    with served_fake_process("--latency", "0.3", "--log-level", "warning") as printed:
        with httpx.Client(base_url=printed["THREDFI_BASE_URL"]) as http:
            answers = [
                http.post(
                    "/v1/platform/oauth2/token/",
                    auth=(printed["THREDFI_PARTNER_UUID"], printed["THREDFI_API_KEY"]),
                    data={"grant_type": "client_credentials"},
                )
                for _ in range(2)
            ]
        assert [a.status_code for a in answers] == [200, 200]
        assert all(a.elapsed.total_seconds() >= 0.3 for a in answers)
