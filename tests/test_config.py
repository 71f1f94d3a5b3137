"""Settings not passed come from the environment: arguments first, then THREDFI_*, then THRED_*."""

from __future__ import annotations

import pytest

from tests._served import free_port, serve
from thredfi_async import (
    APIConnectionError,
    AsyncThredfi,
    InvalidRequestError,
    MissingCredentialsError,
)
from thredfi_async.testing import FakeThredfi

VARIABLES = (
    "THREDFI_BASE_URL",
    "THREDFI_ENVIRONMENT",
    "THREDFI_PARTNER_UUID",
    "THREDFI_API_KEY",
    "THRED_PARTNER_UUID",
    "THRED_API_KEY",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("THREDFI_PARTNER_UUID", "partner")
    monkeypatch.setenv("THREDFI_API_KEY", "key")
    return monkeypatch


def test_the_sandbox_is_the_default() -> None:
    assert AsyncThredfi().base_url == "https://sandbox.thredfi.com"


def test_the_base_url_and_environment_come_from_the_environment(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.setenv("THREDFI_ENVIRONMENT", "production")
    assert AsyncThredfi().base_url == "https://api.thredfi.com"
    clean_environment.setenv("THREDFI_BASE_URL", "http://127.0.0.1:8765")
    assert AsyncThredfi().base_url == "http://127.0.0.1:8765", "a URL beats a name"


def test_arguments_win_over_the_environment(clean_environment: pytest.MonkeyPatch) -> None:
    clean_environment.setenv("THREDFI_BASE_URL", "http://127.0.0.1:8765")
    clean_environment.setenv("THREDFI_ENVIRONMENT", "sandbox")
    assert AsyncThredfi(environment="production").base_url == "https://api.thredfi.com"
    assert AsyncThredfi(base_url="http://proxy.internal").base_url == "http://proxy.internal"
    thredfi = AsyncThredfi("given-partner", "given-key")
    assert thredfi.partner_uuid == "given-partner"


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("THREDFI_ENVIRONMENT", "staging", "THREDFI_ENVIRONMENT must be one of"),
        ("THREDFI_BASE_URL", "sandbox.thredfi.com", "THREDFI_BASE_URL must be an http"),
        ("THREDFI_BASE_URL", "ftp://files.example", "THREDFI_BASE_URL must be an http"),
        ("THREDFI_BASE_URL", "https://x.example/?a=1", "THREDFI_BASE_URL cannot carry a query"),
    ],
)
def test_a_bad_setting_is_refused_naming_where_it_came_from(
    clean_environment: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    clean_environment.setenv(variable, value)
    with pytest.raises(InvalidRequestError, match=message):
        AsyncThredfi()


def test_a_bad_argument_is_refused_naming_the_argument() -> None:
    with pytest.raises(InvalidRequestError, match="environment must be one of"):
        AsyncThredfi(environment="staging")
    with pytest.raises(InvalidRequestError, match="base_url must be an http"):
        AsyncThredfi(base_url="localhost:8000")


def test_the_mcp_server_spellings_are_accepted_and_ours_win(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    clean_environment.delenv("THREDFI_PARTNER_UUID")
    clean_environment.delenv("THREDFI_API_KEY")
    with pytest.raises(MissingCredentialsError, match="THRED_PARTNER_UUID"):
        AsyncThredfi()
    clean_environment.setenv("THRED_PARTNER_UUID", "mcp-partner")
    clean_environment.setenv("THRED_API_KEY", "mcp-key")
    assert AsyncThredfi().partner_uuid == "mcp-partner"
    clean_environment.setenv("THREDFI_PARTNER_UUID", "sdk-partner")
    assert AsyncThredfi().partner_uuid == "sdk-partner"


@pytest.mark.asyncio
async def test_what_the_fake_prints_is_all_a_client_needs(
    clean_environment: pytest.MonkeyPatch,
) -> None:
    fake = FakeThredfi()
    fake.seed(businesses=2)
    with serve(fake.app) as base_url:
        clean_environment.setenv("THREDFI_BASE_URL", base_url)
        clean_environment.setenv("THREDFI_PARTNER_UUID", fake.partner_uuid)
        clean_environment.setenv("THREDFI_API_KEY", fake.api_key)
        async with AsyncThredfi() as thredfi:
            page = await thredfi.businesses.list()
        assert page.count == 2


@pytest.mark.asyncio
async def test_a_connection_error_names_the_host_it_tried() -> None:
    port = free_port()
    async with AsyncThredfi(base_url=f"http://127.0.0.1:{port}", max_retries=0) as thredfi:
        with pytest.raises(APIConnectionError, match=rf"http://127\.0\.0\.1:{port}"):
            await thredfi.businesses.list()
