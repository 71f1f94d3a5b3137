"""OpenTelemetry tracing: a span per logical call, and inside it a span per attempt.

```python
from thredfi_async import AsyncThredfi
from thredfi_async.otel import OpenTelemetryHook

thredfi = AsyncThredfi(hooks=[OpenTelemetryHook()])
```

Needs the `otel` extra (`pip install 'thredfi-async[otel]'`, which brings opentelemetry-api
only); spans go wherever the application's tracer provider sends them, and nowhere when it has
none. The call span says what the SDK was asked to do (operation, business, how many attempts
and token exchanges it took); each attempt span says what happened on the wire (attempt number,
the retry wait before it, status code, the API's request id, the error). Token exchanges are
calls of their own, nested in the attempt that needed the token, and counted on the call span.

Attribute names follow OpenTelemetry's HTTP client conventions where one exists
(`http.request.method`, `http.response.status_code`, `http.request.resend_count`,
`url.template`, `server.address`, `error.type`) and use a `thredfi.` prefix otherwise. No
header, query string or body is recorded, and the URL only as its template: ids stay out.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from typing import Any

from opentelemetry import context, trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, Status, StatusCode, TracerProvider

from ._exceptions import APIStatusError
from ._hooks import AttemptInfo, CallInfo, Hook
from ._version import __version__

__all__ = ["OpenTelemetryHook"]

# The innermost call in progress in this task, so a token exchange can count itself on it.
_current_call: ContextVar[CallInfo | None] = ContextVar("thredfi_otel_call", default=None)


class _Open:
    """What the hook keeps on a call between its stages."""

    __slots__ = ("attempt_context", "context", "outer_call", "span", "token_exchanges")

    def __init__(
        self, span: Span, context: Token[Context], outer_call: Token[CallInfo | None]
    ) -> None:
        self.span = span
        self.context = context
        self.outer_call = outer_call
        self.attempt_context: tuple[Span, Token[Context]] | None = None
        self.token_exchanges = 0


class OpenTelemetryHook(Hook):
    """Spans for every call and attempt; `tracer_provider` defaults to the global one."""

    def __init__(self, tracer_provider: TracerProvider | None = None) -> None:
        self._tracer = trace.get_tracer("thredfi_async", __version__, tracer_provider)

    def before_call(self, call: CallInfo) -> None:
        outer = _current_call.get()
        if call.token_exchange and outer is not None and self in outer.state:
            outer.state[self].token_exchanges += 1
        attributes: dict[str, Any] = {
            "thredfi.operation_id": call.operation_id,
            "thredfi.method": call.client_method,
            "thredfi.token_exchange": call.token_exchange,
            "http.request.method": call.method,
            "url.template": call.path,
        }
        if call.business_id is not None:
            attributes["thredfi.business_id"] = call.business_id
        span = self._tracer.start_span(
            f"thredfi {call.client_method}", kind=SpanKind.CLIENT, attributes=attributes
        )
        attached = context.attach(trace.set_span_in_context(span))
        call.state[self] = _Open(span, attached, _current_call.set(call))

    def before_attempt(self, attempt: AttemptInfo) -> None:
        call = attempt.call.state[self]
        attributes: dict[str, Any] = {
            "thredfi.attempt": attempt.number,
            "http.request.resend_count": attempt.number - 1,
            "http.request.method": attempt.method,
            "server.address": attempt.url.host,
        }
        if attempt.number > 1:
            attributes["thredfi.retry_wait_s"] = attempt.retry_wait
        span = self._tracer.start_span(
            f"thredfi {attempt.call.client_method} attempt {attempt.number}",
            kind=SpanKind.CLIENT,
            attributes=attributes,
        )
        call.attempt_context = (span, context.attach(trace.set_span_in_context(span)))

    def after_attempt(self, attempt: AttemptInfo) -> None:
        call = attempt.call.state[self]
        if call.attempt_context is None:
            return
        span, attached = call.attempt_context
        call.attempt_context = None
        context.detach(attached)
        response = attempt.response
        if response is not None:
            span.set_attribute("http.response.status_code", response.status_code)
            request_id = attempt.request_id
            if request_id:
                span.set_attribute("thredfi.request_id", request_id)
        if attempt.retry_in is not None:
            span.set_attribute("thredfi.retry_in_s", attempt.retry_in)
        _end(span, attempt.error)

    def after_call(self, call: CallInfo) -> None:
        state = call.state.pop(self, None)
        if state is None:
            return
        _current_call.reset(state.outer_call)
        context.detach(state.context)
        span = state.span
        span.set_attribute("thredfi.attempts", call.attempts)
        span.set_attribute("thredfi.token_exchanges", state.token_exchanges)
        if call.response is not None:
            span.set_attribute("http.response.status_code", call.response.status_code)
        elif isinstance(call.error, APIStatusError):
            span.set_attribute("http.response.status_code", call.error.status_code)
        _end(span, call.error)


def _end(span: Span, error: BaseException | None) -> None:
    if error is not None:
        span.set_attribute("error.type", type(error).__name__)
        span.set_status(Status(StatusCode.ERROR, type(error).__name__))
        if isinstance(error, Exception):  # a cancellation is not an exception to record
            span.record_exception(error, escaped=True)
    span.end()
