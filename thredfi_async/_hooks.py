"""Hooks: code of the user's that sees every call and every attempt, and cannot break the rules.

A hook is told when a logical call starts and ends, and when each attempt of it (the first send
and every retry) starts and ends, so tracing, metrics and request tagging need no wrapper around
every method. Anchors: Speakeasy's before-request / after-success / after-error hooks and
Anthropic's middleware; unlike a middleware a hook cannot send, skip or repeat a request, so
the retry rule, the deadlines and the token handling stay the SDK's. It can add headers to an
attempt, except the ones those rules depend on (`PROTECTED_HEADERS`), and it never sees the
credential: `Authorization` is left out of the headers it is shown.

Hook methods are plain functions, not coroutines: they run inside the attempt's deadline and
with a concurrency slot about to be taken, where waiting on I/O would hold up other calls.
Token exchanges are calls too (`CallInfo.token_exchange`), made from inside the attempt that
needed the token, so a tracer nests them there.

With no hooks the request path checks one empty tuple and allocates nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from ._exceptions import InvalidRequestError, ThredfiError
from ._guards import check_header
from ._operation import Operation

__all__ = [
    "PROTECTED_HEADERS",
    "AttemptHeaders",
    "AttemptInfo",
    "CallInfo",
    "Hook",
    "HookError",
    "check_hooks",
]

logger = logging.getLogger("thredfi_async")

PROTECTED_HEADERS = frozenset(
    {
        "authorization",  # the SDK's token handling and 401 replay own it
        "idempotency-key",  # the same key on every attempt is what makes retries safe
        "content-type",
        "content-length",
        "content-encoding",
        "transfer-encoding",
        "host",
        "connection",
        "cookie",
    }
)


class HookError(ThredfiError):
    """A hook raised, or tried to set a header it may not; the exception it raised is the cause.

    Raised from `before_call` or `before_attempt`, nothing was sent for that attempt; from
    `after_attempt` or `after_call` on a call that succeeded, the request was sent and did
    what it does (the response is on `response`).
    """

    def __init__(self, message: str, *, response: httpx.Response | None = None) -> None:
        super().__init__(message)
        self.response = response


@dataclass(eq=False, slots=True)
class CallInfo:
    """One logical call: `await thredfi.invoices.create(...)` or a token exchange."""

    operation_id: str
    method: str
    path: str  # the template, as in the spec: /v1/platform/businesses/{business_id}/...
    client_method: str  # invoices.create
    business_id: str | None
    token_exchange: bool
    attempts: int = 0
    response: httpx.Response | None = None  # the successful response, at after_call
    error: BaseException | None = None  # what the call raised, at after_call
    state: dict[Any, Any] = field(default_factory=dict)  # for hooks: key it by the hook

    @classmethod
    def of(
        cls, operation: Operation, path_params: Mapping[str, Any], *, token_exchange: bool
    ) -> CallInfo:
        business_id = path_params.get("business_id")
        return cls(
            operation.operation_id,
            operation.method,
            operation.path,
            operation.client_method,
            None if business_id is None else str(business_id),
            token_exchange,
        )


class AttemptHeaders(Mapping[str, str]):
    """The attempt's request headers, without `Authorization`; a hook may add or replace the
    headers not in PROTECTED_HEADERS. What it sets stays for later attempts of the call."""

    __slots__ = ("_headers",)

    def __init__(self, headers: httpx.Headers) -> None:
        self._headers = headers

    def __getitem__(self, name: str) -> str:
        if name.lower() == "authorization":
            raise KeyError(name)
        return self._headers[name]

    def __iter__(self) -> Iterator[str]:
        return (name for name in self._headers if name != "authorization")

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def __setitem__(self, name: str, value: str) -> None:
        if isinstance(name, str) and name.lower() in PROTECTED_HEADERS:
            raise HookError(f"a hook may not set the {name} header: the SDK owns it")
        try:
            self._headers[name] = check_header(name, value, what="a hook")
        except InvalidRequestError as exc:
            raise HookError(str(exc)) from None

    def __delitem__(self, name: str) -> None:
        if name.lower() in PROTECTED_HEADERS:
            raise HookError(f"a hook may not remove the {name} header: the SDK owns it")
        del self._headers[name]

    def __repr__(self) -> str:
        return f"AttemptHeaders({dict(self)!r})"


@dataclass(eq=False, slots=True)
class AttemptInfo:
    """One attempt of a call: its first send, or a retry after `retry_wait` seconds."""

    call: CallInfo
    number: int  # 1 for the first send
    retry_wait: float  # seconds slept before this attempt (0 for the first)
    method: str
    url: httpx.URL
    headers: AttemptHeaders
    started: float  # the client clock's time when the attempt began
    elapsed: float | None = None  # seconds, at after_attempt
    response: httpx.Response | None = None  # any status, at after_attempt
    error: BaseException | None = None  # a failure (an error status too), at after_attempt
    retry_in: float | None = None  # the wait before the next attempt, if there is one
    throttle_wait: float = 0.0  # seconds the client's throttle held it, at after_attempt

    @property
    def request_id(self) -> str | None:
        """The API's id for this request (x-request-id), for support and logs."""
        return None if self.response is None else self.response.headers.get("x-request-id")


class Hook:
    """Subclass and override what you need; the SDK calls only the methods you override.

    For each call: `before_call` once, then per attempt `before_attempt` and `after_attempt`,
    then `after_call` once, in that order, also when the call fails or is cancelled (then
    `error` says why). Hooks run in the order given to `AsyncThredfi(hooks=[...])`.
    """

    def before_call(self, call: CallInfo) -> None:
        """A call is about to make its first attempt."""

    def before_attempt(self, attempt: AttemptInfo) -> None:
        """An attempt is about to be sent: the place to add headers (`attempt.headers[...]`)."""

    def after_attempt(self, attempt: AttemptInfo) -> None:
        """An attempt ended: `response` and/or `error` say how, `retry_in` whether a retry
        follows."""

    def after_call(self, call: CallInfo) -> None:
        """The call returns `call.response` or raises `call.error`."""


_METHODS = ("before_call", "before_attempt", "after_attempt", "after_call")


@dataclass(frozen=True, slots=True)
class Hooks:
    """The overridden methods of each hook, bound once, so a call runs only those."""

    before_call: tuple[Any, ...]
    before_attempt: tuple[Any, ...]
    after_attempt: tuple[Any, ...]
    after_call: tuple[Any, ...]

    def run(self, stage: str, info: CallInfo | AttemptInfo) -> None:
        """Run one stage; a hook's exception becomes a HookError naming the hook."""
        for method in getattr(self, stage):
            try:
                method(info)
            except HookError:
                raise
            except Exception as exc:
                raise HookError(f"{_name(method)} raised {type(exc).__name__}: {exc}") from exc

    def run_unwinding(self, stage: str, info: CallInfo | AttemptInfo, cause: BaseException) -> None:
        """Run a stage while `cause` propagates: a hook's failure must not replace it (least of
        all a cancellation), so it is logged and noted on `cause` instead."""
        for method in getattr(self, stage):
            try:
                method(info)
            except Exception as exc:
                logger.error("%s failed while a call ended", _name(method), exc_info=exc)
                cause.add_note(f"{_name(method)} also raised {type(exc).__name__}: {exc}")


def _name(method: Any) -> str:
    owner = getattr(method, "__self__", None)
    return f"hook {type(owner).__name__}.{method.__name__}"


def check_hooks(hooks: Sequence[Hook] | None) -> Hooks | None:
    """The hooks, checked, with the methods each overrides; None when there are none."""
    if hooks is None:
        return None
    if isinstance(hooks, Hook) or not isinstance(hooks, Sequence):
        raise InvalidRequestError(f"hooks must be a list of Hook instances, got {hooks!r}")
    for hook in hooks:
        if not isinstance(hook, Hook):
            raise InvalidRequestError(
                f"hooks must be Hook instances (subclass thredfi_async.Hook), got {hook!r}"
            )
    if not hooks:
        return None
    stages = {
        stage: tuple(
            getattr(hook, stage)
            for hook in hooks
            if getattr(type(hook), stage) is not getattr(Hook, stage)
        )
        for stage in _METHODS
    }
    return Hooks(**stages)
