"""Scenario fixtures: a fresh fake API per test and the public SDK client wired to it.

Every scenario runs three ways: in process (no sockets), and over loopback on the default
transport (aiohttp under asyncio) and on httpx's (`http_client=httpx.AsyncClient()`), so both
transports are held to the same behaviour. A module marked `pytest.mark.ways(*EVERY_WAY)` also
runs on the sync client, in process and over loopback: `thredfi` is then Thredfi behind the
async surface (tests/_sync_adapter.py), so the same scenarios hold both clients to one behaviour.

The client's clock is injected: retry backoff and Retry-After waits are recorded instead of
slept, so scenarios that go through retries stay fast and their waits can be asserted.
"""

from __future__ import annotations

import datetime
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

import httpx
import pytest
import pytest_asyncio

from tests._served import Board, serving
from tests._sync_adapter import AsyncAdapter
from thredfi_async import AsyncThredfi, BusinessView, Thredfi, models
from thredfi_async._aiohttp_transport import AiohttpTransport
from thredfi_async._transport import AutoTransport
from thredfi_async.bodies import InvoiceRecordPaymentRequestRequestDict
from thredfi_async.testing import FakeThredfi, RecordingClock

TRANSPORTS = ("in_process", "aiohttp", "httpx")
SYNC_WAYS = ("sync", "sync_loopback")
EVERY_WAY = TRANSPORTS + SYNC_WAYS

NOW = datetime.datetime(2025, 6, 15, 12, 0, tzinfo=datetime.UTC)
TODAY = NOW.date()


@pytest.fixture(scope="session")
def switchboard() -> Iterator[Board]:
    """One uvicorn server for the session, serving whichever fake the current test made."""
    with serving() as board:
        yield board


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "ways(*ways): the ways a scenario module runs (default: TRANSPORTS)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every scenario runs in process and over loopback sockets on both transports; a module
    marked `ways` runs the ways it names instead (the sync client's among them)."""
    if "transport" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("ways")
        metafunc.parametrize("transport", marker.args if marker else TRANSPORTS, indirect=True)


@pytest.fixture
def transport(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def fake(transport: str, request: pytest.FixtureRequest) -> FakeThredfi:
    # A frozen fake clock keeps dates stable; a handler crash fails the test instead of a 500.
    if transport in ("in_process", "sync"):
        return FakeThredfi(now=NOW, seed=20250615, raise_server_errors=True)
    board, base_url = request.getfixturevalue("switchboard")
    served = FakeThredfi(
        now=NOW, seed=20250615, raise_server_errors=True, base_url=base_url, drop_style="truncate"
    )
    board.app = served.app
    return served


@pytest.fixture
def clock() -> RecordingClock:
    return RecordingClock(NOW.timestamp())


def sync_client(fake: FakeThredfi, transport: str, **kwargs: Any) -> AsyncThredfi:
    """Thredfi over the fake, in process or over loopback, behind the async surface."""
    if transport == "sync":
        client = fake.sync_client(**kwargs)
    else:
        client = Thredfi(fake.partner_uuid, fake.api_key, base_url=fake.base_url, **kwargs)
    return cast(AsyncThredfi, AsyncAdapter(client))


@pytest.fixture
def connect(fake: FakeThredfi, transport: str) -> Callable[..., AsyncThredfi]:
    """A client with a test's own arguments: `async with connect(timeout=0.05) as thredfi`. On
    the transports, the fake's in-process client; on the sync ways, the sync client."""
    if transport in SYNC_WAYS:
        return lambda **kwargs: sync_client(fake, transport, **kwargs)
    return fake.client


@pytest_asyncio.fixture
async def thredfi(
    fake: FakeThredfi, clock: RecordingClock, transport: str
) -> AsyncIterator[AsyncThredfi]:
    client: AsyncThredfi
    if transport in SYNC_WAYS:
        client = sync_client(fake, transport, clock=clock)
    elif transport == "in_process":
        client = fake.client(clock=clock)
    else:
        # The default transport (aiohttp under asyncio), or httpx's, as a user selects it.
        http_client = httpx.AsyncClient() if transport == "httpx" else None
        client = AsyncThredfi(
            fake.partner_uuid,
            fake.api_key,
            base_url=fake.base_url,
            clock=clock,
            http_client=http_client,
        )
    async with client:
        yield client
    if transport == "aiohttp":
        assert isinstance(client.http_client._transport, AutoTransport)
        assert isinstance(client.http_client._transport.selected, AiohttpTransport)


@dataclass
class Receivable:
    """A business with one customer and one invoice, created through the SDK."""

    books: BusinessView
    business_id: str
    customer_id: str
    invoice_id: str


async def create_business(thredfi: AsyncThredfi, external_id: str) -> str:
    business = await thredfi.businesses.create(
        body={
            "external_id": external_id,
            "legal_name": f"{external_id} Ltd",
            "entity_type": "limited",
            "email": f"owner@{external_id}.example",
            "country": "GB",
        }
    )
    return str(business.id)


async def receivable(
    thredfi: AsyncThredfi, unit_price: int = 10_000, external_id: str = "shop"
) -> Receivable:
    """A business whose one invoice of `unit_price` cents is sent and wholly outstanding."""
    business_id = await create_business(thredfi, external_id)
    books = thredfi.business(business_id)
    customer = await books.customers.create(
        body={"company_name": "Globex", "email": "ap@globex.example"}
    )
    invoice = await books.invoices.create(
        body={
            "customer_id": str(customer.id),
            "sent_at": "2025-06-01T09:00:00Z",
            "due_at": "2025-07-01T09:00:00Z",
            "line_items": [{"description": "Widgets", "quantity": 1, "unit_price": unit_price}],
        }
    )
    return Receivable(books, business_id, str(customer.id), str(invoice.id))


def payment_body(
    customer_id: str, invoice_id: str, amount_cents: int
) -> InvoiceRecordPaymentRequestRequestDict:
    return {
        "customer_id": customer_id,
        "total_amount_cents": amount_cents,
        "payment_date": TODAY.isoformat(),
        "currency": "GBP",
        "payment_method": "bank_transfer",
        "allocations": [{"invoice_id": invoice_id, "amount_cents": amount_cents}],
    }


def payment_of(created: models.InvoicePaymentCreateResponse) -> models.InvoicePaymentDetail:
    """The payment inside a create or update answer (optional in the spec, present in fact)."""
    payment = created.payment
    assert isinstance(payment, models.InvoicePaymentDetail)
    return payment


def applied_to(
    created: models.InvoicePaymentCreateResponse,
) -> list[models.InvoicePaymentDetailAppliedInvoicesItem]:
    """The invoices a payment was applied to, with each one's status and balance after it."""
    applied = payment_of(created).applied_invoices
    assert isinstance(applied, list)
    return applied
