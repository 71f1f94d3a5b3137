"""The error hierarchy: everything the SDK raises is a ThredfiError.

Callers branch on the class (`except NotFoundError`), on `status_code`, or on the API's
`error_code` (`duplicate_external_id`, `permission_denied`, ...). The API documents three error
body shapes (docs/api-behaviour.md); `APIStatusError.from_response` reads all of them, so a
caller never parses an error body by hand.

Errors travel: task queues pickle them, frameworks copy them. Every error pickles, copies and
deep-copies, and what travels is scrubbed: the request and response come along without their
credential headers or body, and every text field was redacted when the error was made.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from ._redact import redact, redact_data

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "ConflictError",
    "DeclaredFieldError",
    "InternalServerError",
    "InvalidRequestError",
    "MissingFieldError",
    "MissingCredentialsError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ClientClosedError",
    "ThredfiError",
    "UnexpectedResponseError",
    "UnprocessableEntityError",
    "UsageError",
]

# When the body has no error_code, derive one from the status (docs/api-behaviour.md, "Error
# bodies").
_DEFAULT_CODES = {
    400: "validation_error",
    401: "authentication_required",
    403: "permission_denied",
    404: "not_found",
    408: "request_timeout",
    409: "conflict",
    422: "unprocessable_entity",
    429: "rate_limited",
}


_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})


class ThredfiError(Exception):
    """Root of every error this SDK raises.

    Two errors are equal when they are of the same class with the same message and fields, so
    an error that went through pickle compares equal to the one raised.
    """

    def __reduce__(self) -> tuple[Callable[..., ThredfiError], tuple[Any, ...]]:
        state = {key: _portable(value) for key, value in self.__dict__.items()}
        return _rebuild, (type(self), self.args, state)

    def _fields(self) -> tuple[Any, ...]:
        return (
            type(self),
            self.args,
            {k: v for k, v in self.__dict__.items() if k not in ("request", "response")},
            getattr(self, "status_code", None),
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ThredfiError):
            return NotImplemented
        return self._fields() == other._fields()

    def __hash__(self) -> int:
        return hash((type(self), self.args))


def _rebuild(cls: type[ThredfiError], args: tuple[Any, ...], state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    error.__dict__.update(state)
    return error


def _portable(value: Any) -> Any:
    """An attribute as it may leave the process: requests and responses without secrets."""
    if isinstance(value, httpx.Request):
        return _scrubbed_request(value)
    if isinstance(value, httpx.Response):
        try:
            content = value.content
        except httpx.ResponseNotRead:
            content = b""
        text = content.decode("utf-8", "replace")
        cleaned = redact(text)
        return httpx.Response(
            value.status_code,
            headers=_scrubbed_headers(value.headers),
            content=cleaned.encode() if cleaned != text else content,
            request=_scrubbed_request(value.request) if _has_request(value) else None,
        )
    return value


def _has_request(response: httpx.Response) -> bool:
    try:
        response.request  # noqa: B018 - the property raises when there is none
    except RuntimeError:
        return False
    return True


def _scrubbed_request(request: httpx.Request) -> httpx.Request:
    """Method, URL and the harmless headers; no body (it can hold the token exchange)."""
    return httpx.Request(request.method, request.url, headers=_scrubbed_headers(request.headers))


def _scrubbed_headers(headers: httpx.Headers) -> list[tuple[str, str]]:
    return [
        (k, redact(v)) for k, v in headers.multi_items() if k.lower() not in _CREDENTIAL_HEADERS
    ]


class ClientClosedError(ThredfiError, RuntimeError):
    """The client was used after `aclose()` (or after its `async with` block ended)."""


class InvalidRequestError(ThredfiError, ValueError):
    """The call was rejected before anything was sent: fix the arguments.

    Raised for a body of the wrong type, a float where money must be exact, a business view
    used with another business's id, a missing required `business_id`, bad options.
    """


class MissingCredentialsError(ThredfiError):
    """No partner UUID / API key (arguments or THREDFI_PARTNER_UUID / THREDFI_API_KEY)."""


class APIConnectionError(ThredfiError):
    """The request did not get a response: DNS, refused or dropped connection, TLS..."""

    def __init__(self, message: str = "Connection error.", *, request: httpx.Request) -> None:
        super().__init__(redact(message))
        self.request = request


class APITimeoutError(APIConnectionError):
    """The request timed out (connect, read, write, pool or the call's overall deadline)."""

    def __init__(self, request: httpx.Request, message: str = "Request timed out.") -> None:
        super().__init__(message, request=request)


class UsageError(ThredfiError, RuntimeError):
    """The SDK was asked for something its state cannot give: the page after the last, a
    paginator opened twice, a prefetching iterator used after its block ended, the raw
    response of a call that made none. Nothing was sent. A RuntimeError too, as such misuse
    is in Python."""


class MissingFieldError(ThredfiError, AttributeError):
    """Code read a field every response is declared to have, and this one lacked it.

    The model parsed anyway (one absent field should not cost the whole response), and the
    field is typed without `None` or `Unset` because the reference (or, where the reference
    is silent, every example the docs show) promises it; reading it
    raises this rather than hand back a value its type does not allow. It is an
    AttributeError too, so `getattr(model, name, default)` and `hasattr` work as usual.
    """

    def __init__(self, model: str, field: str) -> None:
        super().__init__(
            f"{model}.{field} is missing from the response, although it is declared always "
            "present; the other fields are usable (to_dict() shows what came)"
        )
        self.model = model
        self.field = field


class DeclaredFieldError(ThredfiError, KeyError):
    """`model["name"]` named a declared field, which is an attribute, not an extra key.

    Item access reads only what the API sent beyond the declared fields (`additional_properties`),
    so code written before a field was declared fails loudly, saying where the value now is,
    instead of silently finding nothing. It is a KeyError too, so `key in model` and
    `model.get`-style fallbacks keep their usual meaning.
    """

    def __init__(self, model: str, field: str, attribute: str) -> None:
        super().__init__(
            f"{field!r} is a declared field of {model}: read it as .{attribute} "
            "(item access reads only undeclared fields)"
        )
        self.model = model
        self.field = field
        self.attribute = attribute

    def __str__(self) -> str:
        return str(self.args[0])  # KeyError would show the repr of the message


class UnexpectedResponseError(ThredfiError):
    """A body the client cannot use: a success status whose body is not what the operation
    returns (not JSON, not an object), or any body past `max_response_bytes` or undecodable."""

    def __init__(self, message: str, *, response: httpx.Response) -> None:
        super().__init__(redact(message))
        self.response = response
        self.status_code = response.status_code


class APIStatusError(ThredfiError):
    """The API answered with a non-2xx status.

    Attributes:
        status_code: The HTTP status.
        error_code: The API's machine-readable code (`validation_error`, `invalid_token`,
            `duplicate_external_id`, ...), or one derived from the status when the body has none.
        message: The human-readable message.
        details: Field errors, `{"field": ["message", ...]}` (empty when none were given).
        request_id: The API's request id (body `request_id` or the X-Request-ID header).
        body: The decoded error body (or the raw text when it was not JSON).
        response: The httpx.Response.
    """

    status_code: int

    def __init__(
        self,
        message: str,
        *,
        response: httpx.Response,
        error_code: str,
        details: dict[str, list[str]] | None = None,
        request_id: str | None = None,
        body: Any = None,
    ) -> None:
        # Every field is redacted here, once: a server may echo a credential in any of them.
        self.message = redact(message)
        self.response = response
        self.status_code = response.status_code
        self.error_code = redact(error_code)
        self.details = redact_data(details or {})
        self.request_id = redact(request_id) if request_id else request_id
        self.body = redact_data(body)
        super().__init__(self._summary())

    def _summary(self) -> str:
        text = f"{self.status_code} {self.error_code}: {self.message}"
        if self.details:
            fields = "; ".join(f"{k}: {' '.join(v)}" for k, v in self.details.items())
            text += f" ({fields})"
        if self.request_id:
            text += f" [request_id={self.request_id}]"
        return text

    @classmethod
    def from_response(cls, response: httpx.Response, *, now: float | None = None) -> APIStatusError:
        """Build the subclass for this status from any of the documented error body shapes.

        `now` (epoch seconds, default the system time) is what a `Retry-After` date is measured
        from, so the client's injected clock and the error agree on the wait.
        """
        from ._json import loads  # _json raises InvalidRequestError, defined here

        body: Any
        try:
            body = loads(response.content) if response.content else None
        except (ValueError, RecursionError):  # not JSON, or nested past what can be decoded
            body = response.text
        fields = body if isinstance(body, Mapping) else {}

        error_code = fields.get("error_code") or fields.get("code")
        if not isinstance(error_code, str):
            error_code = _DEFAULT_CODES.get(response.status_code) or (
                "server_error" if response.status_code >= 500 else "http_error"
            )
        detail = fields.get("detail")
        message = fields.get("error") or fields.get("message")
        if not isinstance(message, str):
            message = detail if isinstance(detail, str) else None
        if not message:
            message = (body if isinstance(body, str) and body else None) or response.reason_phrase
        details = _field_errors(fields.get("details"))
        if not details and isinstance(detail, Mapping):
            details = _field_errors(detail)
        request_id = fields.get("request_id")
        if not isinstance(request_id, str):
            request_id = response.headers.get("x-request-id")

        error_class = _class_for(response.status_code)
        kwargs: dict[str, Any] = {
            "response": response,
            "error_code": error_code,
            "details": details,
            "request_id": request_id,
            "body": body,
        }
        if error_class is RateLimitError:
            from ._retry import parse_retry_after  # here: _retry imports this module

            kwargs["retry_after"] = parse_retry_after(response.headers.get("retry-after"), now=now)
        return error_class(str(message)[:2000], **kwargs)


class BadRequestError(APIStatusError):
    """400: the request is invalid (`validation_error`); fix it, do not retry it unchanged."""


class AuthenticationError(APIStatusError):
    """401: missing or invalid token (`authentication_required`, `invalid_token`).

    The client already refreshed its token and replayed the request once before raising this.
    """


class PermissionDeniedError(APIStatusError):
    """403 `permission_denied`: the token is valid but not for this business or action."""


class NotFoundError(APIStatusError):
    """404: unknown id (`business_not_found`, `invoice_not_found`, ...)."""


class ConflictError(APIStatusError):
    """409: a duplicate (`duplicate_external_id`) or a state conflict."""


class UnprocessableEntityError(APIStatusError):
    """422: the request is well-formed but breaks a business rule."""


class RateLimitError(APIStatusError):
    """429: too many requests. `retry_after` (seconds) is set when the API said how long."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        self.retry_after = retry_after
        super().__init__(message, **kwargs)


class InternalServerError(APIStatusError):
    """5xx: the API failed; retried automatically with backoff before this is raised."""


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: UnprocessableEntityError,
    429: RateLimitError,
}


def _class_for(status: int) -> type[APIStatusError]:
    if status >= 500:
        return InternalServerError
    return _STATUS_CLASSES.get(status, APIStatusError)


def _field_errors(raw: Any) -> dict[str, list[str]]:
    """Normalise `{"field": ["msg"]}`, `{"field": "msg"}` and nested objects to field -> list."""
    if not isinstance(raw, Mapping):
        return {}
    out: dict[str, list[str]] = {}
    for key, value in raw.items():
        if isinstance(value, list):
            out[str(key)] = [v if isinstance(v, str) else json.dumps(v, default=str) for v in value]
        elif isinstance(value, str):
            out[str(key)] = [value]
        elif value is not None:
            out[str(key)] = [json.dumps(value, default=str)]
    return out
