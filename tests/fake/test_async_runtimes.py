"""The fake is anyio-based: it serves asyncio and trio clients alike, latency included."""

from __future__ import annotations

import pytest

from thredfi_async.testing import FakeThredfi

from ._support import business_client, ok

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("anyio_backend", ["asyncio", "trio"])
async def test_a_flow_with_injected_latency_runs_on_both_backends(anyio_backend: str) -> None:
    fake = FakeThredfi(raise_server_errors=True)
    bid = fake.seed(customers_per_business=1, invoices_per_customer=3).business_ids[0]
    fake.faults.latency(0.01, times=2)
    async with business_client(fake, bid) as http:
        body = ok(await http.get(f"/v1/platform/businesses/{bid}/invoices/"))
        assert body["count"] == 3
        assert ok(await http.get(f"/v1/platform/businesses/{bid}/customers/"))["count"] == 1
    assert [r.faults for r in fake.requests] == [["latency"], ["latency"]]


async def test_the_sdk_client_is_wired_to_the_fake() -> None:
    """``fake.client()`` builds the SDK's AsyncThredfi over ASGITransport (no sockets)."""
    import thredfi_async

    if not hasattr(thredfi_async, "AsyncThredfi"):
        pytest.skip("the SDK client is not available")
    fake = FakeThredfi(raise_server_errors=True)
    async with fake.client(max_retries=0) as thredfi:
        business = await thredfi.businesses.create(
            body={
                "external_id": "sdk-1",
                "legal_name": "SDK Ltd",
                "entity_type": "limited",
                "email": "sdk@example.test",
            }
        )
        books = thredfi.business(str(business.id))
        await books.customers.create(body={"company_name": "Globex"})
    operations = [r.operation_id for r in fake.requests]
    assert operations == [
        "get_partner_token",
        "create_business",
        "get_business_token",
        "create_customer",
    ]
    assert all(r.status in (200, 201) for r in fake.requests)
