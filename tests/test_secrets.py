"""No secret in anything the SDK produces: str, repr, tracebacks, pickles, logs.

The secrets are the API key, the Basic credential base64(partner_uuid:api_key) (with and
without its padding) and every token. A hostile or careless server echoes them back in every
field of its error bodies and headers; the transport fails with the token in its message; the
client retries, refreshes after a 401 and logs at DEBUG. Afterwards a scan of everything a
user or a log pipeline could see finds none of them.
"""

from __future__ import annotations

import base64
import copy
import gc
import logging
import pickle
import traceback
from typing import Any

import httpx
import pytest

from thredfi_async import (
    APIConnectionError,
    APIStatusError,
    AsyncThredfi,
    InvalidRequestError,
    RateLimitError,
    RetryPolicy,
    ThredfiError,
    UnexpectedResponseError,
)
from thredfi_async._redact import SecretRegistry, redact, registry

from .conftest import API_KEY, BASE_URL, PARTNER_UUID, TokenEndpoints

BUSINESS = "6f1c2b9e-3d4a-4e5f-8a7b-9c0d1e2f3a4b"
BASIC = base64.b64encode(f"{PARTNER_UUID}:{API_KEY}".encode()).decode()
OPAQUE_TOKEN = "opaque0token0that0is0not0a0jwt"  # a minted token that matches no pattern


def secrets_of(tokens: TokenEndpoints) -> list[str]:
    return [API_KEY, BASIC, BASIC.rstrip("="), OPAQUE_TOKEN, *tokens.issued.values()]


def assert_clean(text: str | bytes, secrets: list[str]) -> None:
    data = text if isinstance(text, bytes) else text.encode("utf-8", "replace")
    for secret in secrets:
        assert secret.encode() not in data, f"secret {secret[:6]}... found in {data[:300]!r}"


def everything_visible(error: BaseException) -> list[str | bytes]:
    return [
        str(error),
        repr(error),
        "".join(traceback.format_exception(error)),
        pickle.dumps(error),
        repr(vars(error)),
    ]


class EchoingServer:
    """Answers each business call with a fault that echoes the credential it was sent."""

    def __init__(self, tokens: TokenEndpoints) -> None:
        self.tokens = tokens
        self.calls = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/platform/oauth2/token/":
            if self.tokens.calls["partner"] == 0:  # the first Basic exchange fails, echoing
                self.tokens.calls["partner"] += 1
                return self.echo(500, request)
            return self.tokens.handle(request)  # type: ignore[return-value]
        if "/oauth2/token/" in request.url.path:
            self.tokens.calls[BUSINESS] += 1
            self.tokens.issued[BUSINESS] = OPAQUE_TOKEN
            return httpx.Response(200, json={"access_token": OPAQUE_TOKEN, "expires_in": 3600})
        self.calls += 1
        kind = self.calls % 4
        if kind == 1:
            return self.echo(401, request)
        if kind == 2:
            return self.echo(429, request, headers={"Retry-After": "0"})
        if kind == 3:
            credential = request.headers["authorization"].split(" ", 1)[1]
            raise httpx.LocalProtocolError(f"Illegal header value b'Bearer {credential} '")
        return self.echo(503, request)

    def echo(
        self, status: int, request: httpx.Request, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        credential = request.headers["authorization"].split(" ", 1)[1]
        return httpx.Response(
            status,
            json={
                "error_code": f"bad_{credential}",
                "message": f"you sent {credential}",
                "request_id": credential,
                "detail": {"authorization": [credential], credential: "x"},
            },
            headers={"X-Request-ID": credential, "X-Echo": credential, **(headers or {})},
        )


@pytest.mark.asyncio
async def test_a_fault_injected_run_leaks_no_secret_anywhere(
    caplog: pytest.LogCaptureFixture, tokens: TokenEndpoints
) -> None:
    caplog.set_level(logging.DEBUG)  # root, and so thredfi_async, httpx and httpcore
    for name in ("thredfi_async", "httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    server = EchoingServer(tokens)
    errors: list[BaseException] = []
    async with AsyncThredfi(
        PARTNER_UUID,
        API_KEY,
        base_url=BASE_URL,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(server)),
        retry_policy=RetryPolicy(initial_delay=0, max_delay=0),
        max_retries=1,
    ) as client:
        for _ in range(12):
            try:
                await client.business(BUSINESS).customers.get("cus-1")
            except ThredfiError as error:
                errors.append(error)
        try:
            await client.oauth.get_partner_token(
                body={"client_id": PARTNER_UUID, "grant_type": "client_credentials"}
            )
        except ThredfiError as error:
            errors.append(error)

    kinds = {type(e) for e in errors}
    assert {APIConnectionError, RateLimitError} <= kinds
    assert any(isinstance(e, APIStatusError) and e.status_code in (401, 503) for e in errors)
    assert server.calls >= 12
    secrets = secrets_of(tokens)
    for raised in errors:
        for text in everything_visible(raised):
            assert_clean(text, secrets)
        if isinstance(raised, APIStatusError):
            assert_clean(repr((raised.error_code, raised.request_id, raised.body)), secrets)
    assert caplog.records, "the run logged nothing: the scan would prove nothing"
    for record in caplog.records:
        assert_clean(record.getMessage(), secrets)
    assert_clean(caplog.text, secrets)


@pytest.mark.asyncio
async def test_a_basic_credential_echoed_without_its_prefix_is_redacted(
    make_client: Any,
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(400, json={"error": f"credential {BASIC} rejected"})

    async with make_client(handler) as client:
        with pytest.raises(APIStatusError) as caught:
            await client.business(BUSINESS).customers.get("cus-1")
    assert BASIC not in str(caught.value)
    assert "[redacted]" in str(caught.value)


def test_an_unpadded_basic_credential_is_redacted_too() -> None:
    client = AsyncThredfi(PARTNER_UUID, API_KEY, base_url=BASE_URL)
    assert BASIC.rstrip("=") not in redact(f"got {BASIC.rstrip('=')}.")
    del client


# -- tokens that cannot travel in a header ----------------------------------------------------


@pytest.mark.parametrize("token", ["tok_abcdefgh12345\n", " tok_abcdefgh12345", "tok\r\nX: y"])
def test_an_access_token_with_whitespace_or_control_characters_is_refused(token: str) -> None:
    with pytest.raises(InvalidRequestError, match="access_token") as caught:
        AsyncThredfi(access_token=token, base_url=BASE_URL)
    assert token.strip() not in str(caught.value)


def test_an_api_key_read_with_its_newline_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("THREDFI_API_KEY", API_KEY + "\n")
    with pytest.raises(InvalidRequestError, match="api_key has leading or trailing") as caught:
        AsyncThredfi(PARTNER_UUID, base_url=BASE_URL)
    assert API_KEY not in str(caught.value)


@pytest.mark.asyncio
async def test_a_minted_token_with_a_newline_is_refused_without_echoing_it() -> None:
    minted = "minted_secret_token_value\n"

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"access_token": minted, "expires_in": 3600})

    async with AsyncThredfi(
        PARTNER_UUID,
        API_KEY,
        base_url=BASE_URL,
        http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler)),
    ) as client:
        with pytest.raises(UnexpectedResponseError) as caught:
            await client.businesses.list().first_page()
    for text in everything_visible(caught.value):
        assert_clean(text, [minted.strip()])


@pytest.mark.asyncio
async def test_a_transport_error_quoting_the_token_is_scrubbed_along_the_chain(
    make_client: Any, tokens: TokenEndpoints
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        header = request.headers["authorization"]
        try:
            raise ValueError(f"inner {header}")
        except ValueError as inner:
            raise httpx.LocalProtocolError(f"Illegal header value {header!r}") from inner

    async with make_client(handler, max_retries=0) as client:
        with pytest.raises(APIConnectionError) as caught:
            await client.business(BUSINESS).customers.get("cus-1")
    token = tokens.issued[BUSINESS]
    rendered = "".join(traceback.format_exception(caught.value))
    assert "Illegal header value" in rendered  # the cause is still shown ...
    assert token not in rendered  # ... without the token
    assert token.split(".")[1] not in rendered


# -- errors that travel ----------------------------------------------------------------------


async def some_errors(make_client: Any) -> list[ThredfiError]:
    errors: list[ThredfiError] = []
    replies = [
        httpx.Response(404, json={"error_code": "customer_not_found", "message": "no"}),
        httpx.Response(429, json={}, headers={"Retry-After": "120"}),
        httpx.Response(200, text="<html>"),
    ]

    def handler(request: httpx.Request) -> httpx.Response:
        if not replies:
            raise httpx.ConnectError("refused")
        return replies.pop(0)

    async with make_client(handler, max_retries=0) as client:
        for _ in range(4):
            try:
                await client.business(BUSINESS).customers.get("cus-1")
            except ThredfiError as error:
                errors.append(error)
    return errors


@pytest.mark.asyncio
async def test_errors_pickle_copy_and_deepcopy_to_equal_errors_without_secrets(
    make_client: Any, tokens: TokenEndpoints
) -> None:
    errors = await some_errors(make_client)
    assert [type(e).__name__ for e in errors] == [
        "NotFoundError",
        "RateLimitError",
        "UnexpectedResponseError",
        "APIConnectionError",
    ]
    for error in errors:
        data = pickle.dumps(error)
        assert_clean(data, secrets_of(tokens))
        for twin in (pickle.loads(data), copy.copy(error), copy.deepcopy(error)):
            assert type(twin) is type(error)
            assert twin == error
            assert str(twin) == str(error)
            assert hash(twin) == hash(error)
        restored = pickle.loads(data)
        if isinstance(error, APIStatusError):
            assert isinstance(restored, APIStatusError)
            assert restored.error_code == error.error_code
            assert restored.response.status_code == error.status_code
            assert "authorization" not in restored.response.request.headers
        if isinstance(error, RateLimitError):
            assert isinstance(restored, RateLimitError)
            assert restored.retry_after == 120.0
        if isinstance(error, APIConnectionError):
            assert restored.request.url == error.request.url
            assert "authorization" not in restored.request.headers


def test_errors_of_different_content_are_not_equal() -> None:
    assert InvalidRequestError("a") == InvalidRequestError("a")
    assert InvalidRequestError("a") != InvalidRequestError("b")
    assert InvalidRequestError("a") != ThredfiError("a")


# -- the secret registry stays flat ------------------------------------------------------------


def test_closed_and_collected_clients_leave_the_secret_registry() -> None:
    gc.collect()  # clients other tests left behind release their secrets now, not mid-test
    before = len(registry)
    shared = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(204)))
    clients = [
        AsyncThredfi(
            PARTNER_UUID, f"sk_test_key_number_{n:06d}", base_url=BASE_URL, http_client=shared
        )
        for n in range(500)
    ] + [
        AsyncThredfi(access_token=f"held_token_{n:06d}", base_url=BASE_URL, http_client=shared)
        for n in range(500)
    ]
    assert len(registry) >= before + 1000
    assert "sk_test_key_number_000007" not in redact("sk_test_key_number_000007 leaked")
    for client in clients[:500]:
        client._release_secrets()  # what aclose() does once the pool is closed
    del clients
    gc.collect()
    assert len(registry) == before
    assert redact("sk_test_key_number_000007") == "sk_test_key_number_000007"


def test_two_clients_sharing_a_key_keep_it_redacted_until_both_are_gone() -> None:
    key = "sk_test_shared_between_two"
    first = AsyncThredfi(PARTNER_UUID, key, base_url=BASE_URL)
    second = AsyncThredfi(PARTNER_UUID, key, base_url=BASE_URL)
    first._release_secrets()
    assert key not in redact(f"x {key} y")
    second._release_secrets()
    assert key in redact(f"x {key} y")


def test_minted_tokens_age_out_of_a_bounded_set() -> None:
    secrets = SecretRegistry(recent_limit=100)
    for n in range(1000):
        secrets.remember(f"minted_token_{n:05d}")
    assert len(secrets) == 100
    assert "minted_token_00999" not in secrets.redact("minted_token_00999")
    assert secrets.redact("minted_token_00000") == "minted_token_00000"


def test_known_secrets_are_found_inside_longer_runs_and_with_unusual_characters() -> None:
    secrets = SecretRegistry()
    secrets.hold("abcdefgh12345")
    secrets.hold("pässwörd-with spaces")
    assert secrets.redact("x=prefix_abcdefgh12345_suffix.") == "x=prefix_[redacted]_suffix."
    assert secrets.redact("say pässwörd-with spaces now") == "say [redacted] now"
    assert secrets.redact("abcdefgh1234") == "abcdefgh1234"  # a prefix is not the secret
