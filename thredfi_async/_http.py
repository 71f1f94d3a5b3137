"""One logical API call: build the HTTP request once, send it with auth, retry it safely.

The idempotency key is generated here, once, before the retry loop, so every attempt of a call
carries the same key (the stripe-python / openai-python pattern). Each attempt is bounded by
the call's timeout in wall-clock time too, not only per socket operation, so a server that
trickles bytes cannot hold a call forever; with bounded retries and capped sleeps, every call
ends in bounded time.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime
import logging
import math
import re
import uuid
from collections.abc import Mapping
from decimal import Decimal
from enum import Enum
from typing import Any
from urllib.parse import quote

import anyio
import httpx

from . import _json
from ._auth import CallAuth, HeaderAuth, TokenAuth
from ._body import DEFAULT_MAX_RESPONSE_BYTES, read_capped
from ._cancellation import cancel_safe, httpcore_pools, reclaim_orphaned_connections
from ._clock import Clock
from ._deadline import AttemptDeadline, attempt_deadline
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    ClientClosedError,
    InvalidRequestError,
    ThredfiError,
)
from ._fast_httpx import build_request
from ._guards import check_header, float_error, path_segment
from ._hooks import AttemptHeaders, AttemptInfo, CallInfo, HookError, Hooks
from ._logging import logger
from ._operation import Operation, RequestParts
from ._redact import scrub_exception_chain
from ._retry import IDEMPOTENT_METHODS, RetryPolicy, parse_retry_after
from ._throttle import Throttle
from ._transport import READ_WHOLE_UP_TO
from ._types import NOT_GIVEN, NotGiven, RequestOptions, TimeoutTypes
from ._url import URLBuilder

__all__ = ["HTTPCore"]

NON_IDEMPOTENT_METHODS = frozenset({"POST", "PATCH"})
"""Methods whose replay may act twice: each request carries a generated Idempotency-Key."""
_FRAMING_HEADERS = frozenset({"host", "content-length", "transfer-encoding"})
_HELD_DEADLINES: contextvars.ContextVar[tuple[AttemptDeadline, ...]] = contextvars.ContextVar(
    "thredfi_async_attempt_deadlines", default=()
)
"""The deadlines of the attempts the current task is inside, innermost last; kept only when
a throttle is set, so its waits can stop all of them."""


def _origin(url: httpx.URL) -> str:
    """Where a request went, for error messages: a DNS or connect error names no host."""
    port = "" if url.port is None else f":{url.port}"
    return f"{url.scheme}://{url.host}{port}"


def _now() -> float:
    """The event loop's clock, which cancel-scope deadlines are measured on.

    anyio.current_time() looks the backend up on every call; under asyncio the loop is at hand.
    """
    try:
        return asyncio.get_running_loop().time()
    except RuntimeError:  # trio
        return anyio.current_time()


class HTTPCore:
    """Turns (operation, request parts, options) into a successful httpx.Response or an error."""

    def __init__(
        self,
        *,
        http_client: httpx.AsyncClient,
        transport: httpx.AsyncBaseTransport | None = None,
        base_url: str,
        timeout: TimeoutTypes,
        max_retries: int,
        retry_policy: RetryPolicy,
        clock: Clock,
        default_headers: Mapping[str, str],
        max_concurrent_requests: int | None = None,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        hooks: Hooks | None = None,
        throttle: Throttle | None = None,
    ) -> None:
        self.http_client = http_client
        self._hooks = hooks
        self.throttle = throttle
        # The transport of a client the SDK built itself is called directly: httpx's client
        # machinery (auth flows, redirects, cookies, event hooks) does nothing here the SDK
        # does not already do, and cost more per call than the rest of the SDK put together.
        self._transport = transport
        # A caller's client whose transports hold no httpcore pool (MockTransport, ASGI, the
        # fake's, respx, a custom one) has neither of the pool's cancellation defects, and the
        # task group that works around them cost a fifth of a call (_cancellation.py).
        self._cancel_safe = transport is None and bool(httpcore_pools(self._caller_transports()))
        self.max_response_bytes = max_response_bytes
        # A connection pool slows down sharply once many requests queue inside it (1,000
        # concurrent calls took 15 s on httpx's where the same calls admitted 20 at a time took
        # 1 s), so calls wait here, in a plain FIFO, for one of max_concurrent_requests slots;
        # the default transport's pool has as many connections.
        self._slots = anyio.Semaphore(max_concurrent_requests) if max_concurrent_requests else None
        self.base_url = base_url.rstrip("/")
        self._urls = URLBuilder(self.base_url)
        self.timeout = _as_timeout(timeout)
        self.max_retries = _check_retries(max_retries)
        self.retry_policy = retry_policy
        self.clock = clock
        self.default_headers: dict[str, str] = {}
        for name, value in default_headers.items():
            _set_header(
                self.default_headers, name, check_header(name, value, what="default_headers")
            )
        # Whether requests may skip httpx.Request's constructor (_fast_httpx.py): only when
        # no header the constructor would add or reorder is among ours.
        self._plain_headers = not any(
            name.lower() in _FRAMING_HEADERS for name in self.default_headers
        )

    async def send(
        self,
        operation: Operation,
        parts: RequestParts,
        options: RequestOptions,
        auth: CallAuth,
        *,
        replay_safe: bool = False,
        bypass_concurrency_limit: bool = False,
        call: CallInfo | None = None,
    ) -> httpx.Response:
        """The response of the first successful attempt; otherwise the last error, raised.

        `replay_safe` marks a request that may be repeated whatever its method (the token
        exchanges: minting a token twice does no harm). `bypass_concurrency_limit` skips the
        concurrency slots: the token exchanges, which every call waiting for that token
        (holding no slot meanwhile) would otherwise wait for behind the queue. `call` is set by
        _hooked_send.
        """
        if call is None and self._hooks is not None:
            return await self._hooked_send(
                operation, parts, options, auth, replay_safe, bypass_concurrency_limit
            )
        timeout = (
            self.timeout if isinstance(options.timeout, NotGiven) else _as_timeout(options.timeout)
        )
        max_retries = (
            self.max_retries
            if isinstance(options.max_retries, NotGiven)
            else _check_retries(options.max_retries)
        )
        if self.http_client.is_closed:
            raise ClientClosedError(
                f"{operation.client_method}: the client is closed (aclose() was called or its "
                "`async with` block ended); create a new AsyncThredfi"
            )
        request = self.build_request(operation, parts, options, timeout)
        replay_safe = replay_safe or _deduplicated(operation, parts, request)
        attempt_limit = _wall_clock_limit(timeout)
        business_id = parts.path_params.get("business_id")
        if business_id is not None:
            business_id = str(business_id)

        hooks = self._hooks if call is not None else None  # None: no hook runs below
        retry_number = 0
        waited = 0.0
        while True:
            started = self.clock.time()
            attempt = None
            if hooks is not None and call is not None:
                call.attempts += 1
                attempt = AttemptInfo(
                    call,
                    retry_number + 1,
                    waited,
                    request.method,
                    request.url,
                    AttemptHeaders(request.headers),
                    started,
                )
            try:
                if hooks is not None and attempt is not None:
                    hooks.run("before_attempt", attempt)
                slots = None if bypass_concurrency_limit else self._slots
                response = await self._attempt(
                    request, auth, attempt_limit, slots, business_id, attempt
                )
            except APIConnectionError as error:
                if error.request is not request:
                    if attempt is not None:  # the token exchange had its own attempts
                        self._attempt_ended(attempt, None, error, None)
                    raise  # a token exchange in the auth flow failed after its own retries
                failure: ThredfiError = error
                outcome = type(error.__cause__ or error).__name__
                request_id = None
                answered = None
            except BaseException as exc:
                if attempt is not None:
                    self._attempt_ended(attempt, None, exc, None)
                raise
            else:
                if response.is_success:
                    if logger.isEnabledFor(logging.DEBUG):  # spares the header lookup otherwise
                        self._log_attempt(
                            request,
                            response.status_code,
                            started,
                            retry_number,
                            max_retries,
                            response.headers.get("x-request-id"),
                        )
                    if attempt is not None:
                        self._attempt_ended(attempt, response, None, None)
                    return response
                failure = APIStatusError.from_response(response, now=self.clock.time())
                if response.status_code == 429 and self.throttle is not None:
                    self._penalize(business_id, response)
                answered = response
                outcome = str(response.status_code)
                request_id = failure.request_id
            self._log_attempt(request, outcome, started, retry_number, max_retries, request_id)

            delay = (
                self.retry_policy.decide(
                    failure, retry_number + 1, replay_safe=replay_safe, now=self.clock.time()
                )
                if retry_number < max_retries
                else None
            )
            if attempt is not None:
                self._attempt_ended(attempt, answered, failure, delay)
            if delay is None:
                raise failure
            retry_number += 1
            logger.info(
                "%s %s -> %s; retry %d/%d in %.2f s",
                request.method,
                request.url.path,
                outcome,
                retry_number,
                max_retries,
                delay,
            )
            await self.clock.sleep(delay)
            waited = delay

    async def _hooked_send(
        self,
        operation: Operation,
        parts: RequestParts,
        options: RequestOptions,
        auth: CallAuth,
        replay_safe: bool,
        bypass_concurrency_limit: bool,
    ) -> httpx.Response:
        """`send` between the hooks' before_call and after_call (a separate frame, so a client
        without hooks does not pay for it)."""
        hooks = self._hooks
        assert hooks is not None
        # Only the token exchanges bypass the limit (_token_exchange.py).
        call = CallInfo.of(operation, parts.path_params, token_exchange=bypass_concurrency_limit)
        try:
            hooks.run("before_call", call)
            response = await self.send(
                operation,
                parts,
                options,
                auth,
                replay_safe=replay_safe,
                bypass_concurrency_limit=bypass_concurrency_limit,
                call=call,
            )
        except BaseException as exc:
            call.error = exc
            hooks.run_unwinding("after_call", call, exc)
            raise
        call.response = response
        try:
            hooks.run("after_call", call)
        except HookError as exc:
            exc.response = response
            raise
        return response

    def _attempt_ended(
        self,
        attempt: AttemptInfo,
        response: httpx.Response | None,
        error: BaseException | None,
        retry_in: float | None,
    ) -> None:
        hooks = self._hooks
        assert hooks is not None
        attempt.elapsed = self.clock.time() - attempt.started
        attempt.response = response
        attempt.error = error
        attempt.retry_in = retry_in
        if error is None:
            try:
                hooks.run("after_attempt", attempt)
            except HookError as exc:
                exc.response = response
                raise
        else:
            hooks.run_unwinding("after_attempt", attempt, error)

    async def _attempt(
        self,
        request: httpx.Request,
        auth: CallAuth,
        limit: float | None,
        slots: anyio.Semaphore | None,
        business_id: str | None = None,
        attempt: AttemptInfo | None = None,
    ) -> httpx.Response:
        """One attempt, bounded by `limit` seconds of wall-clock time except its slot and
        throttle waits.

        With managed tokens the token is obtained before a slot is taken, so a call waiting on
        a slow token store or a token exchange leaves the slot to calls that can use it; a 401
        gives the slot back, gets a replacement token and replays once in a slot again. The
        throttle is asked after the token (an exchange draws from the same budget: reserving
        the call's turn first would queue the exchange behind the calls waiting for it) and
        before the slot (a call held by the pacing holds no slot), for every request sent.
        """
        pace = self.throttle is not None
        deadline = attempt_deadline(limit)
        held = _HELD_DEADLINES.set((*_HELD_DEADLINES.get(), deadline)) if pace else None
        try:
            async with deadline:
                if not isinstance(auth, TokenAuth):
                    if pace:
                        await self._paced(request, business_id, attempt)
                    return await self._send_in_slot(request, auth, deadline, slots)
                token = await auth.token()
                if pace:
                    await self._paced(request, business_id, attempt)
                response = await self._send_in_slot(
                    request, HeaderAuth.bearer(token.access_token), deadline, slots
                )
                if response.status_code != 401:
                    return response
                logger.info(
                    "401 with the %s token; fetching a new one and replaying once", auth.scope
                )
                token = await auth.replacement(token)
                if pace:
                    await self._paced(request, business_id, attempt)
                return await self._send_in_slot(
                    request, HeaderAuth.bearer(token.access_token), deadline, slots
                )
        except (httpx.TimeoutException, TimeoutError) as exc:
            scrub_exception_chain(exc)
            raise APITimeoutError(request, f"Request to {_origin(request.url)} timed out.") from exc
        except httpx.TransportError as exc:
            scrub_exception_chain(exc)  # h11 quotes a refused header, token and all
            raise APIConnectionError(
                f"Connection error talking to {_origin(request.url)}: {exc}", request=request
            ) from exc
        except httpx.DecodingError as exc:  # a Content-Encoding the body does not match
            scrub_exception_chain(exc)
            raise APIConnectionError(
                f"The response could not be decoded: {exc}", request=request
            ) from exc
        finally:
            if held is not None:
                _HELD_DEADLINES.reset(held)

    async def _paced(
        self,
        request: httpx.Request,
        business_id: str | None,
        attempt: AttemptInfo | None,
    ) -> None:
        """Wait for the throttle's turn. Like a slot wait, it is queueing, not the attempt's
        time: the deadline moves by the wait, and so do those of the attempts this one runs
        inside (a token exchange is made from the attempt that needed the token). The
        caller's own cancellation (a cancelled task, an outer `asyncio.timeout` or cancel
        scope) ends the wait at once."""
        throttle = self.throttle
        assert throttle is not None
        deadlines = _HELD_DEADLINES.get()
        due = [held.deadline for held in deadlines]
        for held in deadlines:
            held.deadline = math.inf
        waited_from = _now()
        try:
            await throttle.acquire(business_id)
        finally:
            waited = _now() - waited_from
            for held, when in zip(deadlines, due, strict=True):
                held.deadline = when + waited
        if attempt is not None:
            attempt.throttle_wait += waited
        if waited >= 0.001 and logger.isEnabledFor(logging.DEBUG):
            logger.debug(
                "%s %s held %.0f ms by the throttle",
                request.method,
                request.url.path,
                waited * 1000,
            )

    def _penalize(self, business_id: str | None, response: httpx.Response) -> None:
        """Tell the throttle of a 429. A Retry-After is passed on up to the longest the retry
        policy waits: past it the call is not retried, and no other call of this client
        should be held longer than a retry would be."""
        throttle = self.throttle
        assert throttle is not None
        retry_after = parse_retry_after(response.headers.get("retry-after"), now=self.clock.time())
        if retry_after is not None:
            retry_after = min(retry_after, self.retry_policy.max_retry_after)
        try:
            throttle.penalize(business_id, retry_after)
        except Exception as exc:  # a throttle's failure must not replace the API's answer
            logger.warning("throttle penalize failed (%s)", type(exc).__name__)

    async def _send_in_slot(
        self,
        request: httpx.Request,
        auth: HeaderAuth,
        deadline: AttemptDeadline,
        slots: anyio.Semaphore | None,
    ) -> httpx.Response:
        """One send holding one of the slots; waiting for it is not part of the attempt."""
        if slots is None:
            return await self._send(request, auth)
        try:
            slots.acquire_nowait()  # a free slot costs no trip through the event loop
        except anyio.WouldBlock:
            # The attempt's clock stops while it queues: the deadline moves by the wait.
            due, deadline.deadline = deadline.deadline, math.inf
            waited_from = _now()
            await slots.acquire()  # FIFO behind the calls already waiting
            deadline.deadline = due + (_now() - waited_from)
        try:
            return await self._send(request, auth)
        finally:
            slots.release()

    async def _send(self, request: httpx.Request, auth: HeaderAuth) -> httpx.Response:
        """Send, then read the body within max_response_bytes (see _body.py)."""
        request.headers["Authorization"] = auth.header
        transport = self._transport
        try:
            if transport is None:  # a caller's http_client: its hooks, mounts and proxies apply
                if self._cancel_safe:
                    return await cancel_safe(lambda: self._send_and_read(request))
                return await self._send_and_read(request)
            response = await transport.handle_async_request(request)
        except BaseException:
            await self._repair_pools()
            raise
        response.request = request
        return await self._read(response)

    async def _send_and_read(self, request: httpx.Request) -> httpx.Response:
        response = await self.http_client.send(request, auth=None, stream=True)
        return await self._read(response)

    async def _repair_pools(self) -> None:
        """After a send that did not return, free what httpcore's pool lost (_cancellation.py)."""
        if self._transport is None:
            transports = self._caller_transports()
        else:
            transports = [getattr(self._transport, "httpx", None), self._transport]
        for pool in httpcore_pools(transports):
            await reclaim_orphaned_connections(pool)

    def _caller_transports(self) -> list[object]:
        """The transports of a caller's http_client: its own and its mounts' (fixed when the
        client is built)."""
        client = self.http_client
        return [client._transport, *client._mounts.values()]

    async def _read(self, response: httpx.Response) -> httpx.Response:
        try:
            await read_capped(response, self.max_response_bytes)
        except BaseException:
            with anyio.CancelScope(shield=True):  # give the connection back even if cancelled
                await response.aclose()
            raise
        return response

    def build_request(
        self,
        operation: Operation,
        parts: RequestParts,
        options: RequestOptions,
        timeout: httpx.Timeout,
    ) -> httpx.Request:
        # A plain dict made into httpx.Headers once, by httpx.Request; _set_header replaces
        # case-insensitively, so an extra_headers "idempotency-key" replaces ours: one value.
        headers = dict(self.default_headers)
        key = options.idempotency_key
        if isinstance(key, NotGiven):
            if operation.method in NON_IDEMPOTENT_METHODS or operation.idempotency_header:
                headers["Idempotency-Key"] = str(uuid.uuid4())
        elif key is not None:
            if not isinstance(key, str) or not key:
                raise InvalidRequestError("idempotency_key must be a non-empty str or None")
            headers["Idempotency-Key"] = check_header(
                "Idempotency-Key", key, what="idempotency_key"
            )
        if options.extra_headers:
            for name, value in options.extra_headers.items():
                _set_header(headers, name, check_header(name, value, what="extra_headers"))

        content: bytes | None = None
        data: Any = None
        files: Any = None
        body = parts.body
        if body is not None:
            if body.encoding == "json":
                try:
                    content = _json.dumps(body.content)
                except _json.FloatInBody as found:
                    raise float_error(
                        found.value,
                        found.path,
                        operation_id=operation.operation_id,
                        location="body",
                    ) from None
                _set_header(headers, "Content-Type", "application/json")
            elif body.encoding == "form":
                data = {
                    k: _query_value(v, k, operation, "body")
                    for k, v in body.content.items()
                    if v is not None
                }
            else:
                files = [_multipart_part(part, operation) for part in body.content]

        url = self._urls.build(
            _expand_path(operation, parts.path_params),
            _query(operation, parts.query, options.extra_query),
        )
        extensions = {
            "timeout": timeout.as_dict(),
            READ_WHOLE_UP_TO: self.max_response_bytes or math.inf,
        }
        if data is None and files is None and self._plain_headers and not options.extra_headers:
            return build_request(operation.method, url, headers, content, extensions)
        return httpx.Request(
            operation.method,
            url,
            headers=headers,
            content=content,
            data=data,
            files=files,
            extensions=extensions,
        )

    def _log_attempt(
        self,
        request: httpx.Request,
        outcome: object,
        started: float,
        retry_number: int,
        max_retries: int,
        request_id: str | None,
    ) -> None:
        """One debug line per attempt. Only the method and path are logged: never headers,
        query strings or bodies, which is where credentials and tokens travel."""
        if not logger.isEnabledFor(logging.DEBUG):
            return
        logger.debug(
            "%s %s -> %s in %.0f ms (attempt %d/%d)%s",
            request.method,
            request.url.path,
            outcome,
            (self.clock.time() - started) * 1000,
            retry_number + 1,
            max_retries + 1,
            f" request_id={request_id}" if request_id else "",
        )


def _set_header(headers: dict[str, str], name: str, value: str) -> None:
    lowered = name.lower()
    for existing in [k for k in headers if k.lower() == lowered]:
        del headers[existing]
    headers[name] = value


def _deduplicated(operation: Operation, parts: RequestParts, request: httpx.Request) -> bool:
    """Whether the API would not act twice on this request (the safety rule in _retry.py)."""
    if request.method in IDEMPOTENT_METHODS:
        return True
    if operation.idempotency_header and "idempotency-key" in request.headers:
        return True
    field = operation.deduplicates_on
    if field is None or parts.body is None:
        return False
    content = parts.body.content
    if isinstance(content, Mapping):
        return bool(content.get(field))
    return any(name == field for name, _ in content)  # multipart parts


def _check_retries(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise InvalidRequestError(f"max_retries must be an int >= 0, got {value!r}")
    return value


def _as_timeout(value: TimeoutTypes | NotGiven) -> httpx.Timeout:
    if isinstance(value, httpx.Timeout):
        for part in (value.connect, value.read, value.write, value.pool):
            if part is not None:
                _check_seconds(part, value)
        return value
    if value is None:
        return httpx.Timeout(None)
    return httpx.Timeout(_check_seconds(value, value))


def _check_seconds(value: object, given: object) -> float:
    """A positive, finite number of seconds (NaN compares false to everything, so say so)."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float | Decimal)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise InvalidRequestError(
            f"timeout must be a positive finite number, httpx.Timeout or None, got {given!r}"
        )
    return float(value)


def _wall_clock_limit(timeout: httpx.Timeout) -> float | None:
    values = [
        v for v in (timeout.connect, timeout.read, timeout.write, timeout.pool) if v is not None
    ]
    if len(values) < 4:
        return None
    return max(values)


_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]+")
"""Characters quote() leaves as they are: ids (UUIDs above all) match, and skip quote()."""


def _expand_path(operation: Operation, params: Mapping[str, Any]) -> str:
    values = {}
    for name, value in params.items():
        segment = path_segment(value, name=name, where=operation.client_method)
        values[name] = segment if _UNRESERVED.fullmatch(segment) else quote(segment, safe="")
    return operation.path.format(**values)


def _query(
    operation: Operation, query: Mapping[str, Any] | None, extra: Mapping[str, Any] | None
) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for source in (query, extra):
        if source:
            for key, value in source.items():
                if value is not None and value is not NOT_GIVEN:
                    merged[key] = (
                        [_query_value(v, key, operation, "query") for v in value]
                        if isinstance(value, list | tuple)
                        else _query_value(value, key, operation, "query")
                    )
    return merged


def _multipart_part(part: tuple[str, Any], operation: Operation) -> tuple[str, Any]:
    """httpx `files=` part; a scalar field becomes text here, so a float is refused by name."""
    name, value = part
    if isinstance(value, tuple) and len(value) == 2 and value[0] is None:
        field = value[1]
        if not isinstance(field, str | bytes):
            return name, (None, _query_value(field, f"body.{name}", operation, "body"))
    return name, value


def _query_value(value: Any, name: str, operation: Operation, location: str) -> str:
    """A query or form value as text; `name` and `location` explain a refusal."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, float):
        field = name if location == "query" or name.startswith("body.") else f"body.{name}"
        raise float_error(value, field, operation_id=operation.operation_id, location=location)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidRequestError(f"{name}: {value} is not a number the API can take")
        return str(value)
    if isinstance(value, int | uuid.UUID | str):
        return str(value)
    raise InvalidRequestError(f"{name}: cannot send a {type(value).__name__} as a parameter")
