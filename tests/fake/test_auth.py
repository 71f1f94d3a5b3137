"""Token exchanges, expiry on the fake clock, and which token may reach which business."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from thredfi_async.testing import FakeThredfi

from ._support import Api, ok

pytestmark = pytest.mark.anyio

TOKEN = "/v1/platform/oauth2/token/"


def _claims(token: str) -> dict[str, object]:
    header, payload, signature = token.split(".")
    assert json.loads(base64.urlsafe_b64decode(header + "=="))["typ"] == "JWT"
    assert signature
    claims: dict[str, object] = json.loads(base64.urlsafe_b64decode(payload + "=" * 3))
    return claims


@pytest.mark.parametrize(
    "body",
    [
        {"data": {"grant_type": "client_credentials"}},
        {"json": {"grant_type": "client_credentials"}},
        {"files": {"grant_type": (None, "client_credentials")}},
        {},
    ],
    ids=["form", "json", "multipart", "empty"],
)
async def test_partner_token_accepts_any_body_encoding(
    fake: FakeThredfi, http: httpx.AsyncClient, body: dict[str, object]
) -> None:
    response = await http.post(TOKEN, auth=(fake.partner_uuid, fake.api_key), **body)  # type: ignore[arg-type]
    token = ok(response)
    assert token["token_type"] == "Bearer"
    assert token["expires_in"] == 3600
    claims = _claims(token["access_token"])
    assert claims["sub"] == fake.partner_uuid
    assert claims["business_id"] is None
    assert claims["exp"] == int(fake.clock.timestamp()) + 3600
    assert response.headers["x-request-id"]


async def test_wrong_or_missing_basic_credentials_are_401(
    fake: FakeThredfi, http: httpx.AsyncClient
) -> None:
    wrong = await http.post(TOKEN, auth=(fake.partner_uuid, "sk_wrong"))
    assert wrong.status_code == 401
    assert wrong.json()["error_code"] == "invalid_client"
    missing = await http.post(TOKEN, data={"grant_type": "client_credentials"})
    assert missing.status_code == 401
    assert missing.json()["error_code"] == "authentication_required"
    mismatched = await http.post(
        TOKEN,
        auth=(fake.partner_uuid, fake.api_key),
        data={"client_id": fake.add_partner().partner_uuid},
    )
    assert mismatched.status_code == 401


async def test_business_token_is_scoped_and_shaped(api: Api) -> None:
    business = await api.create_business()
    response = await api.partner("POST", f"/v1/platform/{business['id']}/oauth2/token/")
    token = ok(response)
    assert token["scope"] == "business_access"
    assert token["business_id"] == business["id"]
    assert token["token_type"] == "Bearer"
    assert _claims(token["access_token"])["business_id"] == business["id"]


async def test_missing_and_garbled_authorization_is_authentication_required(
    http: httpx.AsyncClient,
) -> None:
    for headers in ({}, {"Authorization": "Token abc"}, {"Authorization": "Bearer "}):
        response = await http.get("/v1/platform/businesses/", headers=headers)
        assert response.status_code == 401
        assert response.json()["error_code"] == "authentication_required"


async def test_unknown_and_tampered_tokens_are_invalid(api: Api) -> None:
    token = await api.get_partner_token()
    header, payload, signature = token.split(".")
    forged = ".".join([header, payload, signature[::-1]])
    for bad in ("not-a-jwt", forged, "a.b.c"):
        response = await api.http.get(
            "/v1/platform/businesses/", headers={"Authorization": f"Bearer {bad}"}
        )
        assert response.status_code == 401
        assert response.json()["error_code"] == "invalid_token"


async def test_tokens_expire_on_the_fake_clock(fake: FakeThredfi, api: Api) -> None:
    bid = await api.business_id()
    await api.get(bid, "/customers/")
    fake.advance(3599)
    await api.get(bid, "/customers/")
    fake.advance(1)
    expired = await api.books(bid, "GET", "/customers/")
    assert expired.status_code == 401
    assert expired.json()["error_code"] == "invalid_token"
    assert 'error="invalid_token"' in expired.headers["www-authenticate"]


async def test_token_ttl_is_configurable() -> None:
    fake = FakeThredfi(token_ttl=60)
    async with fake.http_client() as http:
        token = ok(await http.post(TOKEN, auth=(fake.partner_uuid, fake.api_key)))
        assert token["expires_in"] == 60
        fake.advance(61)
        response = await http.get(
            "/v1/platform/businesses/", headers={"Authorization": f"Bearer {token['access_token']}"}
        )
        assert response.status_code == 401


async def test_business_token_cannot_reach_another_business(api: Api) -> None:
    first = await api.create_business()
    second = await api.create_business()
    token = await api.business_token(first["id"])
    response = await api.http.get(
        f"/v1/platform/businesses/{second['id']}/customers/",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 403
    assert response.json()["error_code"] == "permission_denied"


async def test_business_token_is_refused_on_partner_operations(api: Api) -> None:
    business = await api.create_business()
    token = await api.business_token(business["id"])
    headers = {"Authorization": f"Bearer {token}"}
    for method, path in (
        ("GET", "/v1/platform/businesses/"),
        ("GET", f"/v1/platform/businesses/{business['id']}/"),
        ("POST", f"/v1/platform/{business['id']}/oauth2/token/"),
    ):
        response = await api.http.request(method, path, headers=headers)
        assert response.status_code == 403, path
        assert response.json()["error_code"] == "permission_denied"


async def test_partner_token_works_on_own_business_paths(api: Api) -> None:
    business = await api.create_business()
    response = await api.partner("GET", f"/v1/platform/businesses/{business['id']}/customers/")
    assert ok(response)["count"] == 0


async def test_partner_cannot_reach_another_partners_business(
    fake: FakeThredfi, api: Api, http: httpx.AsyncClient
) -> None:
    business = await api.create_business()
    other = fake.add_partner()
    token = ok(await http.post(TOKEN, auth=(other.partner_uuid, other.api_key)))["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    for path in (
        f"/v1/platform/businesses/{business['id']}/",
        f"/v1/platform/businesses/{business['id']}/invoices/",
    ):
        response = await http.get(path, headers=headers)
        assert response.status_code == 404
        assert response.json()["error_code"] == "business_not_found"
    minted = await http.post(f"/v1/platform/{business['id']}/oauth2/token/", headers=headers)
    assert minted.status_code == 404
    listing = ok(await http.get("/v1/platform/businesses/", headers=headers))
    assert listing["count"] == 0


async def test_unknown_business_is_business_not_found(api: Api) -> None:
    missing = "00000000-0000-4000-8000-000000000000"
    for path in (
        f"/v1/platform/businesses/{missing}/",
        f"/v1/platform/businesses/{missing}/invoices/",
        f"/v1/platform/{missing}/oauth2/token/",
    ):
        method = "POST" if "oauth2" in path else "GET"
        response = await api.partner(method, path)
        assert response.status_code == 404, path
        assert response.json()["error_code"] == "business_not_found"


async def test_business_data_is_isolated(api: Api) -> None:
    first = await api.create_business()
    second = await api.create_business()
    customer = await api.create(first["id"], "/customers/", {"company_name": "Only in A"})
    assert (await api.get(second["id"], "/customers/"))["count"] == 0
    lookup = await api.books(second["id"], "GET", f"/customers/{customer['id']}/")
    assert lookup.status_code == 404
    assert lookup.json()["error_code"] == "customer_not_found"


async def test_minted_helpers_give_working_tokens(
    fake: FakeThredfi, http: httpx.AsyncClient
) -> None:
    result = fake.seed(customers_per_business=1)
    bid = result.business_ids[0]
    response = await http.get(
        f"/v1/platform/businesses/{bid}/customers/",
        headers={"Authorization": f"Bearer {fake.business_token(bid)}"},
    )
    assert ok(response)["count"] == 1
    assert fake.requests.token_requests == []
