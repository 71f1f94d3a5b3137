"""Pagination: `await` gives page one, `async for` every item, on every list operation.

A fake list endpoint (pytest-httpx callback) serves a listing in either documented envelope
(docs/api-behaviour.md, "List envelopes and pagination"), records every request, and can be
slow, faulty, forgetful or repetitive. Every async test runs under asyncio and trio.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import anyio.lowlevel
import httpx
import pytest
import trio
from pytest_httpx import HTTPXMock

from thredfi_async import (
    AsyncPaginator,
    AsyncThredfi,
    InvalidRequestError,
    NotFoundError,
    Page,
    RetryPolicy,
    UsageError,
    models,
)
from thredfi_async._generated import resources
from thredfi_async._json import dumps
from thredfi_async._resource import Resource

from .conftest import API_KEY, BASE_URL, PARTNER_UUID, TokenEndpoints
from .spec_samples import deref, operations
from .test_operations import call_arguments, endpoint_module, facade_method

pytestmark = pytest.mark.anyio

BUSINESS_ID = "3d6f0a52-1c8e-4b7a-9f21-6e5d4c3b2a10"
ACCOUNT_ID = "9b8a7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
API_HOST = httpx.URL(BASE_URL).host
PAGE_INFO, NEXT_URL, COUNT_ONLY = "page_info", "next", "count only"
ENVELOPES = (PAGE_INFO, NEXT_URL)


@pytest.fixture(params=["asyncio", "trio"])
def anyio_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def item_id(index: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"thredfi-test/item/{index}"))


class TrackedBody(httpx.AsyncByteStream):
    """A response body that knows whether it is still open, optionally slow to arrive."""

    def __init__(self, content: bytes, open_bodies: set[TrackedBody], delay: float) -> None:
        self.content = content
        self.open_bodies = open_bodies
        self.delay = delay
        open_bodies.add(self)

    async def __aiter__(self) -> AsyncIterator[bytes]:
        if self.delay:
            await anyio.sleep(self.delay)
        yield self.content

    async def aclose(self) -> None:
        self.open_bodies.discard(self)


@dataclass
class Listing:
    """A fake list endpoint: `total` items, served in pages in envelope A or B.

    Pages are numbered by the `page` query parameter and sized by `page_size` (default 20,
    as the API documents). `log` records ("requested", page) as requests arrive; tests add
    their own consumption events to it.
    """

    tokens: TokenEndpoints
    path: str
    total: int = 25
    envelope: str = PAGE_INFO
    latency: float = 0.0  # the body of each page takes this long to arrive...
    slow_from: int = 1  # ...from this page on
    faults: dict[int, list[int]] = field(default_factory=dict)  # page -> statuses to answer first
    empty_from: int | None = None  # pages from this one on come back empty
    ignore_page: bool = False  # always serve page one, whatever was asked
    next_url: Callable[[httpx.Request, int], str | None] | None = None  # envelope B override
    extra: dict[str, Any] = field(default_factory=dict)  # more top-level envelope keys
    requests: list[httpx.Request] = field(default_factory=list)
    log: list[tuple[str, int]] = field(default_factory=list)
    consuming: int = 0  # set by a test: the page its consumer is working on
    ahead: list[int] = field(default_factory=list)  # per request: page - consuming
    open_bodies: set[TrackedBody] = field(default_factory=set)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        token = self.tokens.handle(request)
        if token is not None:
            return token
        self.requests.append(request)
        params = request.url.params
        page = 1 if self.ignore_page else int(params.get("page", "1"))
        size = int(params.get("page_size", "20"))
        self.log.append(("requested", page))
        self.ahead.append(page - self.consuming)
        if self.faults.get(page):
            status = self.faults[page].pop(0)
            code = "not_found" if status == 404 else "server_error"
            return httpx.Response(status, json={"error_code": code, "error": "as planned"})
        total_pages = max(1, math.ceil(self.total / size))
        first = (page - 1) * size
        empty = self.empty_from is not None and page >= self.empty_from
        indexes = [] if empty else range(first, min(first + size, self.total))
        body: dict[str, Any] = {
            "count": self.total,
            "results": [{"id": item_id(i), "memo": f"item {i}"} for i in indexes],
            **self.extra,
        }
        if self.envelope == PAGE_INFO:
            body["page_info"] = {
                "total_count": self.total,
                "current_page": page,
                "total_pages": total_pages,
                "page_size": size,
            }
        elif self.envelope == NEXT_URL:
            following = str(request.url.copy_set_param("page", page + 1))
            body["next"] = following if page < total_pages else None
            if self.next_url is not None:
                body["next"] = self.next_url(request, page)
            body["previous"] = (
                str(request.url.copy_set_param("page", page - 1)) if page > 1 else None
            )
        return httpx.Response(
            200,
            headers={"Content-Type": "application/json"},
            stream=TrackedBody(
                dumps(body), self.open_bodies, self.latency if page >= self.slow_from else 0
            ),
        )

    def pages_requested(self) -> list[int]:
        return [page for event, page in self.log if event == "requested"]

    def queries(self) -> list[dict[str, str]]:
        return [dict(request.url.params) for request in self.requests]


def ids(items: list[Any]) -> list[str]:
    return [str(item.id) for item in items]


def expected_ids(count: int, start: int = 0) -> list[str]:
    return [item_id(i) for i in range(start, start + count)]


@pytest.fixture
def client() -> AsyncThredfi:
    """Retry delays zeroed: retried pages cost no time."""
    return AsyncThredfi(
        PARTNER_UUID,
        API_KEY,
        base_url=BASE_URL,
        http_client=httpx.AsyncClient(),  # pytest-httpx mocks httpx's transport
        retry_policy=RetryPolicy(initial_delay=0, max_delay=0),
    )


def listing(
    httpx_mock: HTTPXMock, tokens: TokenEndpoints, path: str = "invoices/", **kwargs: Any
) -> Listing:
    served = Listing(tokens, f"/v1/platform/businesses/{BUSINESS_ID}/{path}", **kwargs)
    httpx_mock.add_callback(served, is_reusable=True)
    return served


async def consume(paginator: AsyncPaginator[Any], into: list[Any], *, in_block: bool) -> None:
    if in_block:
        async with paginator:
            async for item in paginator:
                into.append(item)
    else:
        async for item in paginator:
            into.append(item)


async def wait_for(condition: Callable[[], bool]) -> None:
    """Let other tasks run until `condition` holds (callers bound this with fail_after)."""
    while not condition():
        await anyio.lowlevel.checkpoint()


def other_tasks() -> set[Any]:
    """Every task but the running one, under whichever event loop runs the test."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        found: set[Any] = set()
        pending = [trio.lowlevel.current_root_task()]
        while pending:
            task = pending.pop()
            assert task is not None
            found.add(task)
            pending.extend(t for n in task.child_nurseries for t in n.child_tasks)
        return found - {trio.lowlevel.current_task()}
    return asyncio.all_tasks() - {asyncio.current_task()}


# -- the spec: every list operation returns an AsyncPaginator -----------------------------------


def list_operations() -> list[Any]:
    """Operations whose 2xx schema is a listing: `results` plus `page_info` or `next`."""
    found = []
    for op in operations():
        schema = op.success_schema()
        properties = (schema or {}).get("properties", {})
        if "results" in properties and ({"page_info", "next"} & properties.keys()):
            found.append(op)
    return found


def test_every_list_operation_in_the_spec_returns_an_async_paginator() -> None:
    listings = list_operations()
    assert len(listings) == 19

    client = AsyncThredfi(PARTNER_UUID, API_KEY, base_url=BASE_URL, http_client=httpx.AsyncClient())
    for op in listings:
        method = facade_method(client, op)
        args, kwargs, _, _ = call_arguments(method, op)
        assert isinstance(method(*args, **kwargs), AsyncPaginator), op.operation_id  # no request
        assert endpoint_module(op).OPERATION.paginated, op.operation_id
    for op in operations():
        if op not in listings:
            assert not endpoint_module(op).OPERATION.paginated, op.operation_id

    returning_paginators = [
        f"{resource.__name__}.{name}"
        for resource in vars(resources).values()
        if inspect.isclass(resource) and issubclass(resource, Resource)
        for name, method in vars(resource).items()
        if not name.startswith("_")
        and callable(method)
        and str(inspect.signature(method).return_annotation).startswith("AsyncPaginator[")
    ]
    assert len(returning_paginators) == len(listings)


def test_refunds_require_page_info_and_invoices_do_not() -> None:
    """The two kinds of list schema the five-page test runs on."""
    required = {
        op.operation_id: set(deref(op.success_schema() or {}).get("required", []))
        for op in operations()
    }
    assert {"count", "page_info", "results"} <= required["list_refunds"]
    assert "page_info" not in required["list_invoices"]


# -- every item once, in order, in as many requests as pages ------------------------------------


@pytest.mark.parametrize("envelope", ENVELOPES)
@pytest.mark.parametrize(
    ("resource", "path", "model"),
    [
        ("refunds", "invoices/refunds/", models.Refund),  # its schema requires page_info
        ("invoices", "invoices/", models.Invoice),  # its schema requires nothing
    ],
)
async def test_five_pages_yield_every_item_once_in_order_in_five_requests(
    httpx_mock: HTTPXMock,
    tokens: TokenEndpoints,
    client: AsyncThredfi,
    envelope: str,
    resource: str,
    path: str,
    model: type[Any],
) -> None:
    served = listing(httpx_mock, tokens, path, envelope=envelope)
    async with client:
        paginator = getattr(client.business(BUSINESS_ID), resource).list(page_size=5)
        items = [item async for item in paginator]

    assert ids(items) == expected_ids(25)
    assert all(isinstance(item, model) for item in items)
    assert served.pages_requested() == [1, 2, 3, 4, 5]
    assert {r.url.path for r in served.requests} == {served.path}


@pytest.mark.parametrize("envelope", ENVELOPES)
async def test_awaiting_the_paginator_fetches_page_one_only(
    httpx_mock: HTTPXMock, tokens: TokenEndpoints, client: AsyncThredfi, envelope: str
) -> None:
    served = listing(httpx_mock, tokens, "invoices/refunds/", envelope=envelope)
    async with client:
        page = await client.business(BUSINESS_ID).refunds.list(page_size=5)

    assert isinstance(page, Page)
    assert ids(page.results) == expected_ids(5)
    assert page.count == 25
    assert page.has_next_page()
    assert served.queries() == [{"page_size": "5"}]  # exactly what the caller gave
    if envelope == PAGE_INFO:
        assert (page.page_info.current_page, page.page_info.total_pages) == (1, 5)
    else:
        assert page.page_info is None
        assert page.next == f"{BASE_URL}{served.path}?page_size=5&page=2"


@pytest.mark.parametrize("envelope", ENVELOPES)
async def test_pages_and_get_next_page_walk_the_same_five_pages(
    httpx_mock: HTTPXMock, tokens: TokenEndpoints, client: AsyncThredfi, envelope: str
) -> None:
    served = listing(httpx_mock, tokens, "payouts/", envelope=envelope)
    async with client:
        payouts = client.business(BUSINESS_ID).payouts
        pages = [page async for page in payouts.list(page_size=5).pages()]

        walked = [await payouts.list(page_size=5)]
        while walked[-1].has_next_page():
            walked.append(await walked[-1].get_next_page())
        with pytest.raises(UsageError, match="no next page"):
            await walked[-1].get_next_page()

    for walk in (pages, walked):
        assert [page.number for page in walk] == [1, 2, 3, 4, 5]
        assert [ids(page.results) for page in walk] == [expected_ids(5, 5 * n) for n in range(5)]
        assert all(isinstance(item, models.PayoutResponse) for page in walk for item in page)
    assert served.pages_requested() == [1, 2, 3, 4, 5] * 2


async def test_account_entries_keep_their_balances_on_each_page(
    httpx_mock: HTTPXMock, tokens: TokenEndpoints, client: AsyncThredfi
) -> None:
    listing(
        httpx_mock,
        tokens,
        f"general-ledger/chart-of-accounts/{ACCOUNT_ID}/entries/",
        total=7,
        extra={"opening_balance_cents": 1500, "closing_balance_cents": -250},
    )
    async with client:
        entries = client.business(BUSINESS_ID).accounts.list_entries(ACCOUNT_ID, page_size=5)
        pages = [page async for page in entries.pages()]

    assert [len(page) for page in pages] == [5, 2]
    for page in pages:
        assert page.envelope.opening_balance_cents == 1500
        assert page.envelope.closing_balance_cents == -250
    assert all(isinstance(entry, models.AccountEntryLine) for page in pages for entry in page)
    assert [entry.id for page in pages for entry in page] == expected_ids(7)


# -- page size, filters, limit -------------------------------------------------------------------


async def test_iteration_asks_for_100_per_page_unless_told_otherwise(
    httpx_mock: HTTPXMock, tokens: TokenEndpoints, client: AsyncThredfi
) -> None:
    served = listing(httpx_mock, tokens, total=250)
    async with client:
        invoices = client.business(BUSINESS_ID).invoices
        everything = await invoices.list().collect()
        assert [q.get("page_size") for q in served.queries()] == ["100", "100", "100"]

        served.requests.clear()
        assert len(await invoices.list().collect(limit=7)) == 7
        assert served.queries() == [{"page_size": "7"}]  # limit is smaller than 100

        served.requests.clear()
        assert len(await invoices.list(page_size=30).collect(limit=7)) == 7
        assert served.queries() == [{"page_size": "30"}]  # the caller's own size stands

    assert ids(everything) == expected_ids(250)


@pytest.mark.parametrize("envelope", ENVELOPES)
async def test_filters_given_to_list_apply_to_every_page(
    httpx_mock: HTTPXMock, tokens: TokenEndpoints, client: AsyncThredfi, envelope: str
) -> None:
    forgetful_next = None
    if envelope == NEXT_URL:  # a server whose `next` drops the filters: they still apply

        def forgetful_next(request: httpx.Request, page: int) -> str | None:
            return f"{BASE_URL}{request.url.path}?page={page + 1}" if page < 5 else None

    served = listing(httpx_mock, tokens, envelope=envelope, next_url=forgetful_next)
    async with client:
        invoices = client.business(BUSINESS_ID).invoices.list(
            customer_id="c-1,c-2",
            max_amount=5000,
            page_size=5,
            extra_query={"status": "unpaid"},
        )
        items = [item async for item in invoices]

    assert ids(items) == expected_ids(25)
    filters = {"customer_id": "c-1,c-2", "max_amount": "5000", "page_size": "5", "status": "unpaid"}
    queries = served.queries()
    assert len(queries) == 5
    for number, query in enumerate(queries, start=1):
        assert query == (filters if number == 1 else {**filters, "page": str(number)})


@pytest.mark.parametrize("prefetch", [0, 2])
async def test_limit_7_over_pages_of_5_makes_two_requests(
    httpx_mock: HTTPXMock, tokens: TokenEndpoints, client: AsyncThredfi, prefetch: int
) -> None:
    served = listing(httpx_mock, tokens)
    async with client:
        paginator = client.business(BUSINESS_ID).invoices.list(page_size=5, prefetch=prefetch)
        collected = await paginator.collect(limit=7)
        limited_pages = [len(page) async for page in paginator.pages(limit=7)]
        async with paginator:  # background prefetch stays within the limit too
            in_block = await paginator.collect(limit=7)

    assert ids(collected) == ids(in_block) == expected_ids(7)
    assert limited_pages == [5, 2]
    assert served.pages_requested() == [1, 2] * 3


async def test_limit_and_prefetch_must_be_non_negative_ints(
    httpx_mock: HTTPXMock, client: AsyncThredfi
) -> None:
    async with client:
        invoices = client.business(BUSINESS_ID).invoices
        with pytest.raises(InvalidRequestError, match="prefetch"):
            invoices.list(prefetch=-1)
        with pytest.raises(InvalidRequestError, match="limit"):
            await invoices.list().collect(limit=-1)
        assert await invoices.list().collect(limit=0) == []
    assert httpx_mock.get_requests() == []  # nothing asked, nothing sent


async def test_an_envelope_with_only_a_count_is_paged_by_number_until_the_count(
    httpx_mock: HTTPXMock, tokens: TokenEndpoints, client: AsyncThredfi
) -> None:
    """Neither shape the docs show; `count` and the page size still say where it ends."""
    served = listing(httpx_mock, tokens, envelope=COUNT_ONLY, total=12)
    async with client:
        items = await client.business(BUSINESS_ID).invoices.list(page_size=5).collect()

    assert ids(items) == expected_ids(12)
    assert served.pages_requested() == [1, 2, 3]


# -- ends: last page, empty page, a server that repeats itself -----------------------------------


@pytest.mark.parametrize("envelope", ENVELOPES)
async def test_an_empty_page_ends_the_listing(
    httpx_mock: HTTPXMock, tokens: TokenEndpoints, client: AsyncThredfi, envelope: str
) -> None:
    served = listing(httpx_mock, tokens, envelope=envelope, empty_from=3)  # still says 5 pages
    async with client:
        items = await client.business(BUSINESS_ID).invoices.list(page_size=5).collect()

    assert ids(items) == expected_ids(10)
    assert served.pages_requested() == [1, 2, 3]


@pytest.mark.parametrize("envelope", ENVELOPES)
async def test_a_server_that_repeats_a_page_does_not_loop_forever(
    httpx_mock: HTTPXMock, tokens: TokenEndpoints, client: AsyncThredfi, envelope: str
) -> None:
    served = listing(httpx_mock, tokens, envelope=envelope, ignore_page=True, total=500)
    async with client:
        items = await client.business(BUSINESS_ID).invoices.list(page_size=5).collect()

    assert ids(items) == expected_ids(5)  # page one, once
    assert len(served.requests) == 2  # the repeat is noticed on the first one


@pytest.mark.parametrize("mode", ["plain", "prefetch", "background"])
async def test_a_repeated_page_ends_the_listing_whichever_engine_fetches_it(
    httpx_mock: HTTPXMock, tokens: TokenEndpoints, client: AsyncThredfi, mode: str
) -> None:
    served = listing(httpx_mock, tokens, ignore_page=True, total=500)
    items: list[Any] = []
    async with client:
        paginator = client.business(BUSINESS_ID).invoices.list(
            page_size=5, prefetch=0 if mode == "plain" else 2
        )
        with anyio.fail_after(5):
            await consume(paginator, items, in_block=mode == "background")

    assert ids(items) == expected_ids(5)  # page one, once
    assert 2 <= len(served.requests) <= 3  # the repeat ends it within one prefetch's reach


async def test_a_next_url_that_points_back_ends_the_listing(
    httpx_mock: HTTPXMock, tokens: TokenEndpoints, client: AsyncThredfi
) -> None:
    def cycling(request: httpx.Request, page: int) -> str:
        return f"{BASE_URL}{request.url.path}?page_size=5&page={page % 2 + 1}"  # 1 -> 2 -> 1

    served = listing(httpx_mock, tokens, envelope=NEXT_URL, next_url=cycling)
    async with client:
        items = await client.business(BUSINESS_ID).invoices.list(page_size=5).collect()

    assert ids(items) == expected_ids(10)
    assert served.pages_requested() == [1, 2]


async def test_a_next_url_on_another_host_only_lends_its_query(
    httpx_mock: HTTPXMock, tokens: TokenEndpoints, client: AsyncThredfi
) -> None:
    def elsewhere(request: httpx.Request, page: int) -> str | None:
        return f"https://collector.example/steal/?page_size=5&page={page + 1}" if page < 5 else None

    served = listing(httpx_mock, tokens, envelope=NEXT_URL, next_url=elsewhere)
    async with client:
        items = await client.business(BUSINESS_ID).invoices.list(page_size=5).collect()

    assert ids(items) == expected_ids(25)
    everything_sent = httpx_mock.get_requests()
    assert {request.url.host for request in everything_sent} == {API_HOST}
    assert {request.url.path for request in served.requests} == {served.path}
    assert all(r.headers["authorization"].startswith("Bearer ") for r in served.requests)


# -- the same token, retry and error machinery as any call ---------------------------------------


@pytest.mark.parametrize("prefetch", [0, 2])
async def test_every_page_uses_the_business_token_and_a_503_is_retried(
    httpx_mock: HTTPXMock, tokens: TokenEndpoints, client: AsyncThredfi, prefetch: int
) -> None:
    served = listing(httpx_mock, tokens, faults={3: [503]})
    async with client:
        paginator = client.business(BUSINESS_ID).invoices.list(page_size=5, prefetch=prefetch)
        items = [item async for item in paginator]

    assert ids(items) == expected_ids(25)
    assert sorted(served.pages_requested()) == [1, 2, 3, 3, 4, 5]
    assert tokens.calls[BUSINESS_ID] == 1  # one business token for every page
    bearer = f"Bearer {tokens.issued[BUSINESS_ID]}"
    assert {request.headers["authorization"] for request in served.requests} == {bearer}


async def test_a_401_on_a_later_page_refreshes_the_token_and_goes_on(
    httpx_mock: HTTPXMock, tokens: TokenEndpoints, client: AsyncThredfi
) -> None:
    served = listing(httpx_mock, tokens, faults={2: [401]})
    async with client:
        items = await client.business(BUSINESS_ID).invoices.list(page_size=5).collect()

    assert ids(items) == expected_ids(25)
    assert tokens.calls[BUSINESS_ID] == 2
    assert served.pages_requested() == [1, 2, 2, 3, 4, 5]


@pytest.mark.parametrize("mode", ["plain", "prefetch", "background"])
async def test_a_404_on_page_3_raises_not_found_from_the_iterator(
    httpx_mock: HTTPXMock, tokens: TokenEndpoints, client: AsyncThredfi, mode: str
) -> None:
    listing(httpx_mock, tokens, faults={3: [404]})
    items: list[Any] = []
    async with client:
        paginator = client.business(BUSINESS_ID).invoices.list(
            page_size=5, prefetch=0 if mode == "plain" else 2
        )
        with pytest.raises(NotFoundError):  # the error itself, never an exception group
            await consume(paginator, items, in_block=mode == "background")

    assert ids(items) == expected_ids(10)  # pages 1 and 2 first, in order


# -- prefetch: overlap, bounds, and nothing left behind ------------------------------------------


async def test_prefetch_in_a_block_requests_page_k_plus_1_before_page_k_is_consumed(
    httpx_mock: HTTPXMock, tokens: TokenEndpoints, client: AsyncThredfi
) -> None:
    served = listing(httpx_mock, tokens, latency=0.02)
    paginator = client.business(BUSINESS_ID).invoices.list(page_size=5, prefetch=2)
    async with client, paginator as paged:
        async for page in paged.pages():
            served.consuming = page.number
            await anyio.sleep(0.02)  # the consumer's own work on the page
            served.log.append(("consumed", page.number))

    log = served.log
    for k in range(1, 5):
        assert log.index(("requested", k + 1)) < log.index(("consumed", k)), log
    assert max(served.ahead) == 2  # never more than `prefetch` pages ahead of the consumer
    assert sorted(served.pages_requested()) == [1, 2, 3, 4, 5]
    assert [page for event, page in log if event == "consumed"] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize(("prefetch", "early"), [(0, []), (2, [3, 5])])
async def test_prefetch_without_a_block_fetches_n_pages_at_once(
    httpx_mock: HTTPXMock,
    tokens: TokenEndpoints,
    client: AsyncThredfi,
    prefetch: int,
    early: list[int],
) -> None:
    """The same slow server and consumer: outside a block nothing runs while the consumer
    works, so page k+1 is requested before page k is consumed only within a batch."""
    served = listing(httpx_mock, tokens, latency=0.02)
    async with client:
        paginator = client.business(BUSINESS_ID).invoices.list(page_size=5, prefetch=prefetch)
        async for page in paginator.pages():
            await anyio.sleep(0.02)
            served.log.append(("consumed", page.number))

    log = served.log
    requested_early = [
        k + 1 for k in range(1, 5) if log.index(("requested", k + 1)) < log.index(("consumed", k))
    ]
    assert requested_early == early
    assert log.index(("requested", 2)) > log.index(("consumed", 1))
    assert sorted(served.pages_requested()) == [1, 2, 3, 4, 5]  # a batch arrives in any order
    assert [page for event, page in log if event == "consumed"] == [1, 2, 3, 4, 5]


@pytest.mark.filterwarnings("error")  # trio warns of an async generator left unfinished
async def test_a_break_with_prefetch_leaves_no_task_and_no_open_response(
    httpx_mock: HTTPXMock, tokens: TokenEndpoints, client: AsyncThredfi
) -> None:
    served = listing(httpx_mock, tokens, latency=60, slow_from=2)  # pages 2.. never arrive
    async with client:
        before = other_tasks()
        paginator = client.business(BUSINESS_ID).invoices.list(page_size=5, prefetch=2)
        async for invoice in paginator:
            first = invoice
            break
        assert other_tasks() <= before
        for _ in range(3):  # nor one started later to clean up after the loop
            await anyio.lowlevel.checkpoint()
            assert other_tasks() <= before
        assert served.open_bodies == set()
        assert served.pages_requested() == [1]

        with anyio.fail_after(5):
            async with paginator as in_block:
                items = aiter(in_block)
                first_in_block = await anext(items)
                await wait_for(lambda: len(served.open_bodies) == 2)  # pages 2 and 3 under way
        assert other_tasks() <= before
        assert served.open_bodies == set()  # cut off on leaving the block, and closed

    assert str(first.id) == str(first_in_block.id) == item_id(0)
    assert sorted(served.pages_requested()) == [1, 1, 2, 3]


async def test_an_error_in_the_block_propagates_as_itself(
    httpx_mock: HTTPXMock, tokens: TokenEndpoints, client: AsyncThredfi
) -> None:
    served = listing(httpx_mock, tokens, latency=0.01)
    async with client:
        paginator = client.business(BUSINESS_ID).invoices.list(page_size=5, prefetch=2)

        async def fail_while_iterating() -> None:
            async with paginator:
                async for _ in paginator:
                    raise KeyError("mine")

        with pytest.raises(KeyError, match="mine"):
            await fail_while_iterating()
    assert served.open_bodies == set()


async def test_iterating_after_the_block_has_exited_is_an_error_not_a_short_list(
    httpx_mock: HTTPXMock, tokens: TokenEndpoints, client: AsyncThredfi
) -> None:
    listing(httpx_mock, tokens, latency=0.01)
    async with client:
        paginator = client.business(BUSINESS_ID).invoices.list(page_size=5, prefetch=1)
        async with paginator:
            pages = paginator.pages()
            first = await anext(pages)
        with pytest.raises(RuntimeError, match="has exited"):
            async for _ in pages:
                pass
    assert first.number == 1
