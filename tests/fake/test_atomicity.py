"""A request that fails changes nothing, whatever made it fail.

Two halves: values the fake cannot represent are refused with a 400 naming the field, and the
state (every list and get of the touched resources) is the same afterwards; and, by fault
injection, any exception raised inside any handler after it has done its work rolls the whole
request back, while reads change nothing at all.
"""

from __future__ import annotations

import dataclasses
import io
import pickle
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

import httpx
import pytest

from thredfi_async.testing import FakeThredfi
from thredfi_async.testing._server.context import HANDLERS, Context, Reply

from . import test_conformance as scenario
from ._support import Api, ok
from .conftest import NOW

pytestmark = pytest.mark.anyio

BIG = 10**30


class Books:
    """A business with a customer, an invoice, a vendor and a bill to aim bad values at."""

    def __init__(self, api: Api, business_id: str, ids: dict[str, str]) -> None:
        self.api = api
        self.business_id = business_id
        self.ids = ids

    @classmethod
    async def open(cls, api: Api) -> Books:
        bid = await api.business_id()
        customer = await api.create(bid, "/customers/", {"company_name": "Acme Ltd"})
        invoice = await api.create(bid, "/invoices/", invoice_body(customer["id"]))
        vendor = await api.create(bid, "/vendors/", {"company_name": "Supplies Ltd"})
        bill = await api.create(bid, "/bills/", bill_body(vendor["id"]))
        ids = {
            "customer": customer["id"],
            "invoice": invoice["id"],
            "vendor": vendor["id"],
            "bill": bill["id"],
        }
        return cls(api, bid, ids)

    async def state(self) -> dict[str, Any]:
        """Every list and get of the resources the requests below touch."""
        paths = [
            "/customers/",
            f"/customers/{self.ids['customer']}/",
            "/invoices/",
            f"/invoices/{self.ids['invoice']}/",
            "/invoices/payments/",
            "/vendors/",
            f"/vendors/{self.ids['vendor']}/",
            "/bills/",
            f"/bills/{self.ids['bill']}/",
            "/general-ledger/journal-entries/",
            "/insights/ar-aging/",
        ]
        return {path: await self.api.get(self.business_id, path) for path in paths}


def invoice_body(customer_id: str, **fields: Any) -> dict[str, Any]:
    line = {"description": "Work", "quantity": 1, "unit_price": 1000, **fields.pop("line", {})}
    return {"customer_id": customer_id, "line_items": [line], **fields}


def bill_body(vendor_id: str, **line: Any) -> dict[str, Any]:
    return {
        "vendor_id": vendor_id,
        "issue_date": "2025-06-01",
        "line_items": [{"description": "Paper", "quantity": 1, "unit_price": 1000, **line}],
    }


# (what, method, path, body, field the 400 names); paths and bodies are filled from Books.ids.
Case = tuple[str, str, str, Callable[[dict[str, str]], dict[str, Any]], str]
UNREPRESENTABLE: list[Case] = [
    (
        "create_customer credit_limit_cents 10^30",
        "POST",
        "/customers/",
        lambda ids: {"company_name": "Big Ltd", "credit_limit_cents": BIG},
        "credit_limit_cents",
    ),
    (
        "update_customer credit_limit_cents 10^30",
        "PATCH",
        "/customers/{customer}/",
        lambda ids: {"credit_limit_cents": BIG},
        "credit_limit_cents",
    ),
    (
        "create_invoice tips 10^30",
        "POST",
        "/invoices/",
        lambda ids: invoice_body(ids["customer"], tips=BIG),
        "tips",
    ),
    (
        "update_invoice tips 10^30",
        "PUT",
        "/invoices/{invoice}/",
        lambda ids: {"tips": BIG},
        "tips",
    ),
    (
        "create_invoice quantity 1e300",
        "POST",
        "/invoices/",
        lambda ids: invoice_body(ids["customer"], line={"quantity": 1e300}),
        "line_items.0.quantity",
    ),
    (
        "update_invoice quantity 1e300",
        "PUT",
        "/invoices/{invoice}/",
        lambda ids: {"line_items": [{"quantity": 1e300, "unit_price": 1000}]},
        "line_items.0.quantity",
    ),
    (
        "create_bill quantity 1e300",
        "POST",
        "/bills/",
        lambda ids: bill_body(ids["vendor"], quantity=1e300),
        "line_items.0.quantity",
    ),
    (
        "update_bill quantity 1e300",
        "PUT",
        "/bills/{bill}/",
        lambda ids: {"line_items": [{"quantity": 1e300, "unit_price": 1000}]},
        "line_items.0.quantity",
    ),
    (
        "create_invoice quantity x unit_price past 64 bits",
        "POST",
        "/invoices/",
        lambda ids: invoice_body(ids["customer"], line={"quantity": 10**14, "unit_price": 10**18}),
        "line_items.0.quantity",
    ),
    (
        "create_customer payment_terms_days 3,000,000",
        "POST",
        "/customers/",
        lambda ids: {"company_name": "Slow Payer Ltd", "payment_terms_days": 3_000_000},
        "payment_terms_days",
    ),
    (
        "update_customer payment_terms_days 3,000,000",
        "PATCH",
        "/customers/{customer}/",
        lambda ids: {"payment_terms_days": 3_000_000},
        "payment_terms_days",
    ),
    (
        "create_invoice sent_at past year 9999 in UTC",
        "POST",
        "/invoices/",
        lambda ids: invoice_body(ids["customer"], sent_at="9999-12-31T23:00:00-05:00"),
        "sent_at",
    ),
    (
        "update_invoice due_at past year 9999 in UTC",
        "PUT",
        "/invoices/{invoice}/",
        lambda ids: {"due_at": "9999-12-31T23:00:00-05:00"},
        "due_at",
    ),
    (
        "create_customer_credit sent_at past year 9999 in UTC",
        "POST",
        "/customer-credits/",
        lambda ids: {
            "customer_id": ids["customer"],
            "sent_at": "9999-12-31T23:00:00-05:00",
            "line_items": [{"amount": 100}],
        },
        "sent_at",
    ),
    (
        "create_invoice_payment total 10^30",
        "POST",
        "/invoices/payments/",
        lambda ids: {
            "customer_id": ids["customer"],
            "total_amount_cents": BIG,
            "allocations": [{"invoice_id": ids["invoice"], "amount_cents": 100}],
        },
        "total_amount_cents",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [case[1:] for case in UNREPRESENTABLE],
    ids=[case[0] for case in UNREPRESENTABLE],
)
async def test_a_value_the_fake_cannot_represent_is_a_400_naming_it_and_changes_nothing(
    api: Api,
    method: str,
    path: str,
    body: Callable[[dict[str, str]], dict[str, Any]],
    field: str,
) -> None:
    books = await Books.open(api)
    before = await books.state()
    response = await api.books(
        books.business_id, method, path.format(**books.ids), json=body(books.ids)
    )
    assert response.status_code == 400, response.text
    assert field in response.json()["details"], response.text
    assert await books.state() == before


async def test_an_invoice_without_due_at_still_works_after_refused_payment_terms(
    api: Api,
) -> None:
    books = await Books.open(api)
    customer = f"/customers/{books.ids['customer']}/"
    refused = await api.books(
        books.business_id, "PATCH", customer, json={"payment_terms_days": 3_000_000}
    )
    assert refused.status_code == 400
    invoice = await api.create(books.business_id, "/invoices/", invoice_body(books.ids["customer"]))
    assert invoice["id"]


async def test_a_due_date_past_year_9999_is_a_400_on_sent_at(api: Api) -> None:
    """Terms fine from today can still overflow from a far sent_at: refused, not a 500."""
    books = await Books.open(api)
    ok(
        await api.books(
            books.business_id,
            "PATCH",
            f"/customers/{books.ids['customer']}/",
            json={"payment_terms_days": 30},
        )
    )
    before = await books.state()
    response = await api.books(
        books.business_id,
        "POST",
        "/invoices/",
        json=invoice_body(books.ids["customer"], sent_at="9999-12-20T00:00:00Z"),
    )
    assert response.status_code == 400, response.text
    assert "sent_at" in response.json()["details"]
    assert await books.state() == before


# -- fault injection -------------------------------------------------------------------------


class InjectedFault(Exception):
    """Raised by a handler after it did all its work, to prove the work is undone."""


def fingerprint(fake: FakeThredfi) -> Any:
    """All of a fake's API state as plain nested values: equal values, equal state.

    Structural, not by identity: a rollback puts back copies, so the same string may be a
    different object afterwards (which a pickle of the whole state would tell apart).
    """
    world = fake._world
    return canonical(
        (
            world.partners,
            world.books,
            world.business_by_external,
            world.rng.getstate(),
            world.tokens.counters(),
        )
    )


def canonical(value: Any, path: frozenset[int] = frozenset()) -> Any:
    if value is None or isinstance(value, str | int | float | Decimal | date | bool):
        return value
    if id(value) in path:
        return ("<cycle>",)
    inner = path | {id(value)}
    if isinstance(value, dict):
        return ("dict", [(canonical(k, inner), canonical(v, inner)) for k, v in value.items()])
    if isinstance(value, list | tuple):
        return (type(value).__name__, [canonical(item, inner) for item in value])
    if isinstance(value, set | frozenset):
        return ("set", sorted(repr(canonical(item, inner)) for item in value))
    if callable(value) and not hasattr(value, "__dataclass_fields__"):
        return ("callable", getattr(value, "__qualname__", type(value).__name__))
    if dataclasses.is_dataclass(value):
        names = [f.name for f in dataclasses.fields(value)]
    elif hasattr(value, "__dict__"):
        names = sorted(vars(value))
    else:
        return ("opaque", type(value).__name__)
    return (type(value).__name__, [(n, canonical(getattr(value, n), inner)) for n in names])


class FaultyTwin:
    """Sends every write twice: first with the handler failing at its very end (the answer
    must be a 500 and the state unchanged), then for real. Reads must change nothing."""

    def __init__(
        self, fake: FakeThredfi, state: Callable[[FakeThredfi], Any] = fingerprint
    ) -> None:
        self.fake = fake
        self.state = state
        self.failing = False
        self.writes: set[str] = set()
        self.reads: set[str] = set()
        self.problems: list[str] = []
        self.injected = 0

    def wrap(self, handler: Callable[[Context], Reply]) -> Callable[[Context], Reply]:
        def faulty(ctx: Context) -> Reply:
            reply = handler(ctx)
            if self.failing:
                raise InjectedFault(ctx.op.operation_id)
            return reply

        return faulty

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.fake.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        label = f"{scope['method']} {scope['path']}"
        before = self.state(self.fake)
        if scope["method"] != "GET":
            self.failing = True
            try:
                status = await self._status(scope, body)
            finally:
                self.failing = False
            if status != 500:
                self.problems.append(f"{label}: the injected fault answered {status}")
            self.injected += len(self.fake.server_errors)
            self.fake.server_errors.clear()  # expected: the scenario checks for none of its own
            if self.state(self.fake) != before:
                self.problems.append(f"{label}: a failed request changed the state")
            self.writes.add(label)
        await self.fake.app(scope, _replay(body), send)
        if scope["method"] == "GET":
            self.reads.add(label)
            if self.state(self.fake) != before:
                self.problems.append(f"{label}: a read changed the state")

    async def _status(self, scope: Any, body: bytes) -> int:
        statuses: list[int] = []

        async def capture(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                statuses.append(message["status"])

        await self.fake.app(scope, _replay(body), capture)
        return statuses[0]


def _replay(body: bytes) -> Callable[[], Any]:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


@pytest.fixture
def twin(monkeypatch: pytest.MonkeyPatch) -> FaultyTwin:
    fake = FakeThredfi(now=NOW, seed=99)
    twin = FaultyTwin(fake)
    for operation_id, handler in list(HANDLERS.items()):
        monkeypatch.setitem(HANDLERS, operation_id, twin.wrap(handler))
    return twin


async def test_an_exception_in_any_handler_rolls_its_request_back(twin: FaultyTwin) -> None:
    """The whole conformance scenario (every operation once), each write first failed."""
    await run_faulty_scenario(twin)


def pickled(fake: FakeThredfi) -> bytes:
    """The whole state as pickle bytes: besides every value, which objects share which.

    A rollback puts saved states back into the same objects, so the bytes are the same only
    if every object a failed request changed was saved before it changed.
    """
    world = fake._world
    borrowed = {id(obj) for obj in world.shared_objects()}
    buffer = io.BytesIO()
    pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.persistent_id = lambda obj: id(obj) if id(obj) in borrowed else None  # type: ignore[method-assign]
    pickler.dump(
        (
            world.partners,
            world.books,
            world.business_by_external,
            world.rng.getstate(),
            world.tokens.counters(),
        )
    )
    return buffer.getvalue()


async def test_a_failed_write_leaves_the_pickled_state_byte_for_byte_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every write of the scenario, failed after its handler ran: no change escapes the save."""
    twin = FaultyTwin(FakeThredfi(now=NOW, seed=99), state=pickled)
    for operation_id, handler in list(HANDLERS.items()):
        monkeypatch.setitem(HANDLERS, operation_id, twin.wrap(handler))
    await run_faulty_scenario(twin)


async def run_faulty_scenario(twin: FaultyTwin) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=twin), base_url=twin.fake.base_url
    ) as http:
        await scenario.test_every_operation_answers_2xx_and_matches_its_schema(
            twin.fake, Api(twin.fake, http)
        )
    assert twin.problems == []
    assert len(twin.writes) >= 40  # the scenario really exercised the writes
    assert twin.injected >= len(twin.writes)  # each write failed (once per call), then succeeded


async def test_a_refusal_raised_after_a_change_rolls_it_back(
    fake: FakeThredfi, api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not only crashes: a handler's 4xx raised after it changed the books undoes the change."""
    from thredfi_async.testing._server.errors import field_error

    books = await Books.open(api)
    before = await books.state()
    real = HANDLERS["create_invoice"]

    def refuse_late(ctx: Context) -> Reply:
        real(ctx)
        raise field_error("memo", "refused after the invoice was stored")

    monkeypatch.setitem(HANDLERS, "create_invoice", refuse_late)
    response = await api.books(
        books.business_id, "POST", "/invoices/", json=invoice_body(books.ids["customer"])
    )
    assert response.status_code == 400
    assert await books.state() == before
