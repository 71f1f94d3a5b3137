"""Thredfi, the sync client: the async client's surface, blocking; shared by threads; across fork.

The scenario suite runs on it too (tests/scenarios, the "sync" way); these tests hold what is
its own: the surface matching AsyncThredfi's, the loop thread (contexts, interrupts, calls from
the wrong thread, closing), many threads sharing one client's tokens, and `os.fork()`.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from tests._served import Board, install_fake, serving
from thredfi_async import (
    AsyncThredfi,
    AttemptInfo,
    ClientClosedError,
    Hook,
    HookError,
    InvalidRequestError,
    MissingCredentialsError,
    NotFoundError,
    SyncPage,
    SyncPaginator,
    Thredfi,
    ThredfiError,
    UsageError,
)
from thredfi_async._generated.resources import RESOURCE_NAMES
from thredfi_async.bodies import CreateBusinessRequestDict
from thredfi_async.testing import FakeThredfi

MISSING = "00000000-0000-4000-8000-000000000000"


def business_body(external_id: str) -> CreateBusinessRequestDict:
    return {
        "external_id": external_id,
        "legal_name": "Sync Ltd",
        "entity_type": "limited",
        "email": "books@sync.test",
        "country": "GB",
    }


def make_business(client: Thredfi, n: int = 0) -> str:
    return str(client.businesses.create(body=business_body(f"sync-{n}")).id)


@pytest.fixture
def fake() -> FakeThredfi:
    return FakeThredfi(raise_server_errors=True)


@pytest.fixture
def client(fake: FakeThredfi) -> Iterator[Thredfi]:
    with fake.sync_client() as sync:
        yield sync


# -- the surface --------------------------------------------------------------------------------


def public_methods(resource: Any) -> dict[str, Any]:
    return {
        name: getattr(resource, name)
        for name in dir(resource)
        if not name.startswith("_") and callable(getattr(resource, name))
    }


def parameters(function: Any) -> list[tuple[str, Any, Any]]:
    return [
        (p.name, p.kind, p.default)
        for p in inspect.signature(function).parameters.values()
        if p.name != "self"
    ]


def test_the_constructor_takes_exactly_the_async_clients_arguments() -> None:
    assert parameters(Thredfi.__init__) == parameters(AsyncThredfi.__init__)


def test_every_resource_method_of_the_async_client_is_on_the_sync_one(client: Thredfi) -> None:
    async_client = client._async_view()
    compared = 0
    for name in RESOURCE_NAMES:
        async_resource, sync_resource = getattr(async_client, name), getattr(client, name)
        async_methods = public_methods(async_resource)
        assert set(public_methods(sync_resource)) == set(async_methods), name
        for method, function in async_methods.items():
            if method == "with_raw_response":
                continue
            assert parameters(getattr(sync_resource, method)) == parameters(function), method
            assert not inspect.iscoroutinefunction(getattr(sync_resource, method)), method
            compared += 1
        raw = vars(sync_resource.with_raw_response)
        assert set(raw) == set(vars(async_resource.with_raw_response)), name
    assert compared == 93  # every operation, each once


def test_a_call_returns_the_model_and_errors_are_the_async_clients(client: Thredfi) -> None:
    business_id = make_business(client)
    books = client.business(business_id)
    customer = books.customers.create(body={"external_id": "c1", "company_name": "Acme"})
    assert books.customers.get(customer.id).company_name == "Acme"
    with pytest.raises(NotFoundError) as raised:
        books.customers.get(MISSING)
    assert raised.value.status_code == 404
    with pytest.raises(InvalidRequestError):  # refused before sending, as on AsyncThredfi
        books.customers.get(customer.id, business_id=MISSING)
    with pytest.raises(InvalidRequestError):
        client.business("")


def test_bad_constructor_arguments_raise_at_once_and_start_no_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("THREDFI_PARTNER_UUID", "THREDFI_API_KEY", "THRED_PARTNER_UUID", "THRED_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    threads = threading.active_count()
    with pytest.raises(MissingCredentialsError):
        Thredfi()
    with pytest.raises(InvalidRequestError):
        Thredfi("p", "k", max_concurrent_requests=0)
    assert threading.active_count() == threads


def test_lists_page_like_the_async_paginator(client: Thredfi) -> None:
    books = client.business(make_business(client))
    customer = books.customers.create(body={"external_id": "c", "company_name": "C"})
    for n in range(7):
        books.invoices.create(
            body={
                "external_id": f"i{n}",
                "customer_id": customer.id,
                "line_items": [{"description": "x", "quantity": 1, "unit_price": 1000 + n}],
            }
        )
    listing = books.invoices.list(page_size=3)
    assert isinstance(listing, SyncPaginator)
    first = listing.first_page()
    assert isinstance(first, SyncPage)
    assert (len(first), first.number, first.has_next_page(), first.count) == (3, 1, True, 7)
    assert len(first.get_next_page().get_next_page()) == 1
    ids = [invoice.id for invoice in listing]
    assert len(ids) == len(set(ids)) == 7
    assert [len(page) for page in listing.pages()] == [3, 3, 1]
    assert [len(page) for page in listing.pages(limit=4)] == [3, 1]
    assert [i.id for i in listing.collect(limit=5)] == ids[:5]
    assert [i.id for i in books.invoices.list(prefetch=2, page_size=2)] == ids
    raw = books.invoices.with_raw_response.list(page_size=2)
    assert raw.status_code == 200
    assert len(raw.parsed) == 2
    assert raw.parsed.has_next_page()
    with pytest.raises(InvalidRequestError):  # at list(), as on the async client
        books.invoices.list(prefetch=-1)
    with pytest.raises(InvalidRequestError):
        listing.pages(limit=-1)


def test_an_abandoned_iteration_sends_nothing_more(fake: FakeThredfi, client: Thredfi) -> None:
    books = client.business(make_business(client))
    for n in range(5):
        books.customers.create(body={"external_id": f"c{n}", "company_name": f"C{n}"})
    before = fake.requests.count("list_customers")
    for n, _ in enumerate(books.customers.list(page_size=1)):
        if n == 1:
            break
    assert fake.requests.count("list_customers") - before == 2


def test_with_raw_response_gives_the_http_response(client: Thredfi) -> None:
    raw = client.businesses.with_raw_response.create(body=business_body("raw"))
    assert raw.status_code == 201
    assert raw.request.method == "POST"
    assert str(raw.parsed.id) in raw.http_response.text


# -- the loop thread ----------------------------------------------------------------------------

request_tag: contextvars.ContextVar[str] = contextvars.ContextVar("request_tag", default="none")


class ContextSeen(Hook):
    """Reads the caller's context variable where a tracing hook reads its parent span."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def before_attempt(self, attempt: AttemptInfo) -> None:
        self.seen.append(request_tag.get())


def test_the_callers_context_variables_reach_the_hooks(fake: FakeThredfi) -> None:
    hook = ContextSeen()
    with fake.sync_client(hooks=[hook]) as client:
        client.businesses.list().first_page()  # the token exchange and the list
        request_tag.set("from-the-caller")
        client.businesses.list().first_page()

        def other_thread() -> None:
            request_tag.set("from-a-worker")
            client.businesses.list().first_page()

        worker = threading.Thread(target=other_thread)
        worker.start()
        worker.join()
        client.businesses.list().first_page()
    assert hook.seen[-3:] == ["from-the-caller", "from-a-worker", "from-the-caller"]
    assert set(hook.seen[:-3]) == {"none"}


def test_a_hook_calling_the_sync_client_gets_a_usage_error_not_a_deadlock(
    fake: FakeThredfi,
) -> None:
    holder: list[Thredfi] = []

    class Reentrant(Hook):
        def before_call(self, call: Any) -> None:
            if call.operation_id == "list_businesses":
                holder[0].businesses.list().first_page()

    with fake.sync_client(hooks=[Reentrant()]) as client:
        holder.append(client)
        with pytest.raises(HookError) as raised:
            client.businesses.list().first_page()
    assert isinstance(raised.value.__cause__, UsageError)
    assert "own event loop thread" in str(raised.value.__cause__)


def test_closing_stops_the_thread_and_later_calls_raise_client_closed(fake: FakeThredfi) -> None:
    client = fake.sync_client()
    client.businesses.list().first_page()
    loop_threads = [t for t in threading.enumerate() if t.name == "thredfi-sync-client"]
    assert len(loop_threads) == 1
    client.close()
    client.close()  # idempotent
    assert client.closed
    assert not loop_threads[0].is_alive()
    with pytest.raises(ClientClosedError):
        client.businesses.list().first_page()
    assert isinstance(ClientClosedError("x"), ThredfiError)


def test_a_call_in_flight_when_the_client_closes_raises_client_closed(fake: FakeThredfi) -> None:
    client = fake.sync_client()
    client.businesses.list().first_page()
    fake.faults.latency(30)
    outcome: list[BaseException] = []

    def call() -> None:
        try:
            client.businesses.list().first_page()
        except BaseException as exc:
            outcome.append(exc)

    caller = threading.Thread(target=call)
    caller.start()
    time.sleep(0.2)
    client.close()
    caller.join(timeout=10)
    assert not caller.is_alive()
    assert len(outcome) == 1
    assert isinstance(outcome[0], ClientClosedError)


def test_an_interrupted_call_is_cancelled_on_the_loop(fake: FakeThredfi) -> None:
    """Ctrl-C while a call waits: the KeyboardInterrupt reaches the caller and the request in
    flight is cancelled, not left running on the loop thread."""
    fake.faults.latency(30)
    with fake.sync_client() as client:
        previous = signal.signal(signal.SIGALRM, signal.default_int_handler)
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        started = time.monotonic()
        try:
            with pytest.raises(KeyboardInterrupt):
                client.businesses.list().first_page()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
        assert time.monotonic() - started < 5
        loop = client._loop._loop
        assert loop is not None
        deadline = time.monotonic() + 5
        while _tasks(client) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _tasks(client) == 0


def _tasks(client: Thredfi) -> int:
    loop = client._loop._loop
    assert loop is not None

    async def count() -> int:
        return len(asyncio.all_tasks()) - 1  # this one

    return asyncio.run_coroutine_threadsafe(count(), loop).result()


# -- many threads, one client -------------------------------------------------------------------


@pytest.fixture(scope="module")
def board() -> Iterator[Board]:
    with serving() as served_board:
        yield served_board


@pytest.fixture
def served(board: Board) -> FakeThredfi:
    return install_fake(board, raise_server_errors=True)


def test_eight_threads_share_one_clients_tokens_over_loopback(served: FakeThredfi) -> None:
    """8 threads x 100 calls over 20 businesses from a cold cache: 1 partner token and one token
    per business, however the threads interleave."""
    with served.sync_client() as setup:
        business_ids = [make_business(setup, n) for n in range(20)]
    before = len(served.requests.token_requests)
    with Thredfi(served.partner_uuid, served.api_key, base_url=served.base_url) as client:
        barrier = threading.Barrier(8)

        def work(worker: int) -> int:
            barrier.wait()
            done = 0
            for call in range(100):
                books = client.business(business_ids[(worker * 7 + call) % 20])
                if call % 2:
                    assert len(books.customers.list(page_size=1).first_page()) == 0
                else:
                    assert str(books.businesses.get().id) == books.business_id
                done += 1
            return done

        with ThreadPoolExecutor(8) as pool:
            assert sum(pool.map(work, range(8))) == 800
    tokens = served.requests.token_requests[before:]
    assert sum(r.operation_id == "get_partner_token" for r in tokens) == 1
    business_tokens = [r for r in tokens if r.operation_id == "get_business_token"]
    assert sorted(str(r.business_id) for r in business_tokens) == sorted(business_ids)


# -- fork ---------------------------------------------------------------------------------------


class CallerPid(Hook):
    def before_attempt(self, attempt: AttemptInfo) -> None:
        attempt.headers["x-caller-pid"] = str(os.getpid())


class Ports:
    """ASGI in front of the fake: which client port each calling process used."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.seen: list[tuple[str, int]] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            self.seen.append((headers.get(b"x-caller-pid", b"").decode(), scope["client"][1]))
        await self.app(scope, receive, send)

    def of(self, pid: int) -> set[int]:
        return {port for caller, port in self.seen if caller == str(pid)}


def in_child(work: Any) -> str:
    """Fork; run `work()` in the child; the child's outcome as text ("ok" or the error)."""
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child; coverage does not follow a fork
        outcome = "ok"
        try:
            work()
        except BaseException as exc:
            outcome = f"{type(exc).__name__}: {exc}"
        finally:
            os.write(write, outcome.encode())
            os._exit(0)
    os.close(write)
    _, status = os.waitpid(pid, 0)
    with os.fdopen(read) as pipe:
        outcome = pipe.read()
    assert os.waitstatus_to_exitcode(status) == 0
    return outcome


def test_a_client_built_before_fork_works_in_child_and_parent_with_no_shared_socket(
    board: Board, served: FakeThredfi
) -> None:
    ports = Ports(served.app)
    board[0].app = ports
    client = Thredfi(
        served.partner_uuid, served.api_key, base_url=served.base_url, hooks=[CallerPid()]
    )
    try:
        business_id = make_business(client)
        client.business(business_id).customers.list().first_page()  # the parent's pool is open
        before_fork = ports.of(os.getpid())

        def child() -> None:
            books = client.business(business_id)
            books.customers.create(body={"external_id": "from-child", "company_name": "Kid"})
            assert [c.external_id for c in books.customers.list()] == ["from-child"]

        assert in_child(child) == "ok"
        client.business(business_id).customers.list().first_page()
        parent, children = (
            ports.of(os.getpid()),
            set().union(
                *(ports.of(int(pid)) for pid, _ in ports.seen if pid and pid != str(os.getpid()))
            ),
        )
    finally:
        client.close()
    assert children, "the child made no request"
    assert not children & parent, "the child used one of the parent's connections"
    assert parent == before_fork, "the parent's connection did not survive the child"


def test_a_client_given_its_own_http_client_refuses_to_run_after_fork(
    served: FakeThredfi,
) -> None:
    client = Thredfi(
        served.partner_uuid,
        served.api_key,
        base_url=served.base_url,
        http_client=httpx.AsyncClient(),
    )
    try:
        client.businesses.list().first_page()
        outcome = in_child(lambda: client.businesses.list().first_page())
        assert outcome.startswith("UsageError: ")
        assert "os.fork()" in outcome
        assert len(client.businesses.list().first_page()) == 0  # the parent goes on
    finally:
        client.close()
