"""Fixtures for the fake-API tests: a fresh fake per test and an authenticated HTTP helper."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest

from thredfi_async.testing import FakeThredfi

from ._support import Api

NOW = datetime(2025, 6, 15, 12, 0, tzinfo=UTC)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fake() -> FakeThredfi:
    # A frozen clock makes dates in assertions stable; handler crashes fail the test at once.
    return FakeThredfi(now=NOW, seed=1234, raise_server_errors=True)


@pytest.fixture
async def http(fake: FakeThredfi) -> AsyncIterator[httpx.AsyncClient]:
    async with fake.http_client() as client:
        yield client


@pytest.fixture
def api(fake: FakeThredfi, http: httpx.AsyncClient) -> Api:
    return Api(fake, http)
