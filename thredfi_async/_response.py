"""What a call makes of its response: the parsed result (`parse_body`), and raw responses,
`await books.invoices.with_raw_response.get(id)` -> APIResponse[Invoice].

The facade methods return models. The raw variants reuse those same methods unchanged: the
wrapper opens a capture slot in a context variable, the overlay records the final HTTP
response of the call into it, and the wrapper returns both. A context variable (not a client
attribute) keeps concurrent calls on one client from seeing each other's responses.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar

import httpx

from . import _json
from ._exceptions import UnexpectedResponseError, UsageError

if TYPE_CHECKING:
    from ._pagination import AsyncPaginator, Page
    from ._sync_pagination import SyncPage, SyncPaginator

__all__ = [
    "APIResponse",
    "parse_body",
    "raw_page_wrapper",
    "raw_response_wrapper",
    "sync_raw_page_wrapper",
    "sync_raw_response_wrapper",
]

P = ParamSpec("P")
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class APIResponse(Generic[T]):
    """The parsed result of a call together with the HTTP response it came from."""

    http_response: httpx.Response
    parsed: T

    @property
    def status_code(self) -> int:
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.http_response.headers

    @property
    def request(self) -> httpx.Request:
        return self.http_response.request

    @property
    def request_id(self) -> str | None:
        request_id: str | None = self.http_response.headers.get("x-request-id")
        return request_id

    def __repr__(self) -> str:
        return f"<APIResponse [{self.status_code}] {type(self.parsed).__name__}>"


class _Capture:
    __slots__ = ("response",)

    def __init__(self) -> None:
        self.response: httpx.Response | None = None


_capture: contextvars.ContextVar[_Capture | None] = contextvars.ContextVar(
    "thredfi_async_raw_capture", default=None
)


def record_response(response: httpx.Response) -> None:
    """Called by the overlay with the response a facade call's result was parsed from."""
    slot = _capture.get()
    if slot is not None:
        slot.response = response


@contextlib.contextmanager
def _capturing() -> Iterator[_Capture]:
    slot = _Capture()
    token = _capture.set(slot)
    try:
        yield slot
    finally:
        _capture.reset(token)


def _recorded(slot: _Capture, parsed: T) -> APIResponse[T]:
    if slot.response is None:  # pragma: no cover - every facade call records one
        raise UsageError("no HTTP response was recorded for this call")
    return APIResponse(slot.response, parsed)


async def _captured(call: Callable[[], Awaitable[T]]) -> APIResponse[T]:
    with _capturing() as slot:
        parsed = await call()
    return _recorded(slot, parsed)


def raw_response_wrapper(
    method: Callable[P, Awaitable[T]],
) -> Callable[P, Awaitable[APIResponse[T]]]:
    @functools.wraps(method)
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> APIResponse[T]:
        return await _captured(lambda: method(*args, **kwargs))

    return wrapped


def raw_page_wrapper(
    method: Callable[P, AsyncPaginator[T]],
) -> Callable[P, Awaitable[APIResponse[Page[T]]]]:
    """For list methods: the first page and its HTTP response."""

    @functools.wraps(method)
    async def wrapped(*args: P.args, **kwargs: P.kwargs) -> APIResponse[Page[T]]:
        paginator = method(*args, **kwargs)
        return await _captured(paginator.first_page)

    return wrapped


# The sync client's calls run on its loop thread in a copy of the caller's context, which holds
# the same capture slot: the response recorded there is seen here.


def sync_raw_response_wrapper(method: Callable[P, T]) -> Callable[P, APIResponse[T]]:
    @functools.wraps(method)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> APIResponse[T]:
        with _capturing() as slot:
            parsed = method(*args, **kwargs)
        return _recorded(slot, parsed)

    return wrapped


def sync_raw_page_wrapper(
    method: Callable[P, SyncPaginator[T]],
) -> Callable[P, APIResponse[SyncPage[T]]]:
    """For the sync client's list methods: the first page and its HTTP response."""

    @functools.wraps(method)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> APIResponse[SyncPage[T]]:
        paginator = method(*args, **kwargs)
        with _capturing() as slot:
            page = paginator.first_page()
        return _recorded(slot, page)

    return wrapped


def parse_body(response: httpx.Response, parse: Callable[[Any], T]) -> T:
    """Decode a 2xx body (money as Decimal) and build the operation's result from it."""
    data: Any = None
    if response.status_code != 204 and response.content:
        try:
            data = _json.loads(response.content)
        except ValueError as exc:
            raise UnexpectedResponseError(
                f"{response.status_code} response is not JSON", response=response
            ) from exc
    try:
        return parse(data)
    except TypeError as exc:
        raise UnexpectedResponseError(str(exc), response=response) from exc
    except RecursionError:
        raise UnexpectedResponseError(
            f"{response.status_code} response is nested too deeply to read", response=response
        ) from None
