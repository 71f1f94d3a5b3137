"""What generated endpoint modules hand to the overlay: the operation and its request parts.

Generated code describes a request (which operation, which path/query values, which body); the
overlay decides everything that is policy (URL, headers, token, encoding, retries). Keeping that
boundary as two plain data classes is what lets the token, retry and pagination machinery plug
in without touching generated code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from ._exceptions import InvalidRequestError

__all__ = ["Operation", "RequestBody", "RequestParts", "TokenScope", "encode_body"]

TokenScope = Literal["basic", "partner", "business"]
"""basic: HTTP Basic with the API key; partner: the partner token; business: a business token."""


@dataclass(frozen=True, slots=True)
class Operation:
    """Per-operation facts computed from the spec at generation time.

    These fields are the one list of them: codegen/generate.py reads it, codegen/plan.py gives
    each field a value (the OperationPlan attribute of that name) and every endpoint module's
    OPERATION passes them all, so a new fact is a field here plus its value in the plan;
    without the value, generation stops.
    """

    operation_id: str
    method: str
    path: str
    scope: TokenScope
    resource: str
    method_name: str
    idempotency_header: bool  # the API honours an Idempotency-Key here (declared or documented)
    paginated: bool
    deduplicates_on: str | None = None  # a body field the API deduplicates creates on

    @property
    def client_method(self) -> str:
        return f"{self.resource}.{self.method_name}"


@dataclass(frozen=True, slots=True)
class RequestBody:
    """A body ready for encoding: JSON-ready data, form fields, or multipart parts."""

    encoding: Literal["json", "form", "multipart"]
    content: Any


@dataclass(slots=True)
class RequestParts:
    """The operation-specific parts of one request, as the caller gave them."""

    path_params: dict[str, Any]
    query: dict[str, Any] | None = None
    body: RequestBody | None = None


def encode_body(
    body: object,
    model: type[Any],
    *,
    encoding: str,
    upload: type[Any] | None = None,
    required: bool = False,
) -> RequestBody | None:
    """Accept the generated model or a plain mapping; reject anything else before sending.

    A mapping is sent as given (not round-tripped through the model), so fields the spec does
    not declare yet still reach the API. A required body may not be None: an empty POST is not
    a request the API documents (the caller most likely passed the wrong variable).
    """
    if body is None:
        if required:
            raise InvalidRequestError(
                f"body is required: pass a {model.__name__} or a dict (got None)"
            )
        return None
    if upload is not None and isinstance(body, upload):
        return RequestBody("multipart", body.to_multipart())
    if isinstance(body, model):
        content: Any = body.to_dict()
    elif isinstance(body, Mapping):
        content = dict(body)
    else:
        expected = f"{model.__name__}, {upload.__name__}" if upload else model.__name__
        raise InvalidRequestError(f"body must be a {expected} or a dict, got {type(body).__name__}")
    return RequestBody("form" if encoding == "form" else "json", content)
