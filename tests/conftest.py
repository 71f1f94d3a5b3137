"""Shared fixtures: a client wired to pytest-httpx, with token endpoints that count calls, and
a real redis-server for the tests of thredfi_async.redis."""

from __future__ import annotations

import base64
import json
import re
from collections import Counter
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests._redis import redis_url  # noqa: F401 (the session's redis-server, as a fixture)
from thredfi_async import AsyncThredfi, RetryPolicy

PARTNER_UUID = "0b5f6c1e-9a43-4a8e-8a2d-4f7b2c1d9e01"
API_KEY = "sk_test_do_not_leak_51c0ffee"
BASE_URL = "https://api.thredfi.test"

_BUSINESS_TOKEN_PATH = re.compile(r"^/v1/platform/(?P<business_id>[^/]+)/oauth2/token/$")


def fake_jwt(subject: str, serial: int) -> str:
    """A JWT-shaped token unique per subject and serial, so tests can tell tokens apart."""

    def b64(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{b64({'alg': 'none'})}.{b64({'sub': subject, 'n': serial})}.c2lnbmF0dXJl"


class TokenEndpoints:
    """Answers the two token exchanges like the API does and counts them."""

    def __init__(self, expires_in: int = 3600) -> None:
        self.expires_in = expires_in
        self.calls: Counter[str] = Counter()
        self.issued: dict[str, str] = {}

    def handle(self, request: httpx.Request) -> httpx.Response | None:
        path = request.url.path
        if path == "/v1/platform/oauth2/token/":
            self.calls["partner"] += 1
            token = fake_jwt("partner", self.calls["partner"])
            self.issued["partner"] = token
            return httpx.Response(
                200,
                json={"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"},
            )
        match = _BUSINESS_TOKEN_PATH.match(path)
        if match:
            business_id = match["business_id"]
            self.calls[business_id] += 1
            token = fake_jwt(business_id, self.calls[business_id])
            self.issued[business_id] = token
            return httpx.Response(
                200,
                json={
                    "access_token": token,
                    "token_type": "Bearer",
                    "expires_in": self.expires_in,
                    "scope": "business_access",
                    "business_id": business_id,
                },
            )
        return None

    @property
    def business_fetches(self) -> int:
        return sum(n for key, n in self.calls.items() if key != "partner")


@pytest.fixture
def tokens() -> TokenEndpoints:
    return TokenEndpoints()


Handler = Callable[[httpx.Request], httpx.Response]


@pytest.fixture
def make_client(
    tokens: TokenEndpoints,
) -> Callable[..., AsyncThredfi]:
    """Build a client on an httpx.MockTransport: token calls are answered, the rest go to
    `handler`. No sockets, no sleeps (retry delays are zeroed unless a test passes a policy)."""

    def build(handler: Handler, **kwargs: Any) -> AsyncThredfi:
        def route(request: httpx.Request) -> httpx.Response:
            return tokens.handle(request) or handler(request)

        kwargs.setdefault("retry_policy", RetryPolicy(initial_delay=0, max_delay=0))
        return AsyncThredfi(
            PARTNER_UUID,
            API_KEY,
            base_url=BASE_URL,
            http_client=httpx.AsyncClient(transport=httpx.MockTransport(route)),
            **kwargs,
        )

    return build
