"""A business token reaches its own business only (docs/api-behaviour.md, "Business tokens")."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import pytest_asyncio

from thredfi_async import AsyncThredfi, PermissionDeniedError
from thredfi_async.testing import FakeThredfi, RecordingClock

from .conftest import Receivable, receivable

pytestmark = pytest.mark.asyncio

TokenClient = Callable[[str], AsyncThredfi]


@pytest_asyncio.fixture
async def client_with_token(fake: FakeThredfi, clock: RecordingClock) -> AsyncIterator[TokenClient]:
    """AsyncThredfi(access_token=...) on the fake, as a widget backend holding one token."""
    opened: list[AsyncThredfi] = []

    def build(access_token: str) -> AsyncThredfi:
        client = AsyncThredfi(
            access_token=access_token,
            base_url=fake.base_url,
            http_client=httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)),
            clock=clock,
        )
        opened.append(client)
        return client

    yield build
    for client in opened:
        await client.aclose()


async def two_shops(thredfi: AsyncThredfi) -> tuple[Receivable, Receivable]:
    return await receivable(thredfi, external_id="shop-a"), await receivable(
        thredfi, external_id="shop-b"
    )


async def test_a_token_from_frontend_token_cannot_read_another_business(
    fake: FakeThredfi, thredfi: AsyncThredfi, client_with_token: TokenClient
) -> None:
    a, b = await two_shops(thredfi)
    token = await a.books.frontend_token()
    intruder = client_with_token(token["access_token"])

    own = await intruder.business(a.business_id).invoices.get(a.invoice_id)
    assert str(own.id) == a.invoice_id

    before = len(fake.requests)
    for attempt in (
        intruder.business(b.business_id).invoices.get(b.invoice_id),
        intruder.business(b.business_id).customers.list(),
        intruder.business(b.business_id).payments.create(
            body={"customer_id": b.customer_id, "total_amount_cents": 100}
        ),
    ):
        with pytest.raises(PermissionDeniedError) as denied:
            await attempt
        assert denied.value.status_code == 403
        assert denied.value.error_code == "permission_denied"
    # 403 is final: one request per call, no retry, no token refresh behind the caller's back.
    assert [(r.status, r.business_id) for r in fake.requests[before:]] == [(403, b.business_id)] * 3
    assert await thredfi.business(b.business_id).payments.list().collect() == []


async def test_a_minted_business_token_cannot_read_another_business(
    fake: FakeThredfi, thredfi: AsyncThredfi, client_with_token: TokenClient
) -> None:
    a, b = await two_shops(thredfi)
    intruder = client_with_token(fake.business_token(a.business_id))

    with pytest.raises(PermissionDeniedError) as denied:
        await intruder.business(b.business_id).invoices.list()
    assert denied.value.error_code == "permission_denied"
    with pytest.raises(PermissionDeniedError):
        await intruder.businesses.get(business_id=b.business_id)

    # The partner's own client reads B with B's token, fetched for it.
    invoices = await thredfi.business(b.business_id).invoices.list().collect()
    assert [str(i.id) for i in invoices] == [b.invoice_id]
    assert str((await thredfi.businesses.get(business_id=b.business_id)).id) == b.business_id


async def test_another_partner_cannot_see_the_business_at_all(
    fake: FakeThredfi, thredfi: AsyncThredfi, clock: RecordingClock
) -> None:
    a = await receivable(thredfi)
    other = fake.add_partner()
    async with AsyncThredfi(
        other.partner_uuid,
        other.api_key,
        base_url=fake.base_url,
        http_client=httpx.AsyncClient(transport=httpx.ASGITransport(app=fake.app)),
        clock=clock,
    ) as theirs:
        assert (await thredfi.businesses.list()).count == 1
        assert (await theirs.businesses.list()).count == 0
        with pytest.raises(PermissionDeniedError) as refused:
            await theirs.business(a.business_id).invoices.get(a.invoice_id)
        assert refused.value.error_code == "permission_denied"
        # Refused at the token exchange: no token for A was ever issued to the other partner.
        exchange = fake.requests.for_operation("get_business_token")[-1]
        assert (exchange.business_id, exchange.status) == (a.business_id, 403)
        assert fake.requests.count("get_invoice") == 0
