"""``fake.requests`` answers what tests ask; it is no list whose ``count`` changed meaning."""

from __future__ import annotations

import pytest

from thredfi_async.testing import FakeThredfi, RequestLog

pytestmark = pytest.mark.asyncio


async def test_the_log_counts_iterates_and_indexes_by_operation() -> None:
    fake = FakeThredfi()
    async with fake.client() as thredfi:
        await thredfi.businesses.list()
        await thredfi.businesses.list()
    log = fake.requests
    assert not isinstance(log, list)
    assert isinstance(log, RequestLog)
    assert len(log) == 3
    assert [r.operation_id for r in log] == [
        "get_partner_token",
        "list_businesses",
        "list_businesses",
    ]
    assert log[-1].operation_id == "list_businesses"
    assert [r.operation_id for r in log[:1]] == ["get_partner_token"]
    assert log.count() == 3
    assert log.count("list_businesses") == 2
    assert log.counts() == {"get_partner_token": 1, "list_businesses": 2}
    assert [r.operation_id for r in log.token_requests] == ["get_partner_token"]
    assert not hasattr(log, "append")
