"""Refuse, before anything is sent, input that the wire would rewrite or reject half-way.

* httpx, like every URL normaliser, resolves `.` and `..` path segments, so an id of `..`
  would address the parent resource instead of failing: `payments.get("..")` would list the
  invoices and `refund_payments.delete(refund_id, "..")` would delete the refund itself.
* h11 refuses CR, LF and NUL in a header only while writing it to the socket: the caller gets
  a connection error (which a GET would even retry), and the error text holds the raw value,
  a token included.
* A float cannot say which decimal the caller meant (`0.1 + 0.2` is `0.30000000000000004`),
  so none is sent; the error says what the field takes instead, read from the spec, because
  "pass a Decimal" is wrong advice for a field of integer minor units.

Each check names the argument and never echoes a credential.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

from ._exceptions import InvalidRequestError
from ._refs import follow

__all__ = [
    "check_credential",
    "check_header",
    "float_error",
    "path_segment",
]

_DOT_SEGMENTS = frozenset({".", ".."})
# RFC 9110 field values: visible characters, spaces and tabs; no other control character.
_BAD_HEADER_VALUE = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_MONEY_NAME = re.compile(
    r"amount|price|total|balance|cents|fee|tax|tip|limit|cost|discount|credit|debit|salary"
)


def path_segment(value: object, *, name: str, where: str) -> str:
    """The text of one path parameter, refused when a URL normaliser would rewrite it."""
    if isinstance(value, uuid.UUID):
        return str(value)
    text = value if isinstance(value, str) else None
    if isinstance(value, int) and not isinstance(value, bool):
        text = str(value)
    if not text:
        raise InvalidRequestError(
            f"{where}: path parameter {name} must be a non-empty str, got {value!r}"
        )
    if text in _DOT_SEGMENTS:
        raise InvalidRequestError(
            f"{where}: path parameter {name} cannot be {text!r}: a URL resolves it as a path "
            "segment, so the request would reach another endpoint"
        )
    return text


def check_header(name: object, value: object, *, what: str) -> str:
    """A header value that h11 will write as given; `what` says where it came from."""
    if not isinstance(name, str) or not _HEADER_NAME.fullmatch(name):
        raise InvalidRequestError(f"{what}: {name!r} is not a valid header name")
    if not isinstance(value, str):
        raise InvalidRequestError(
            f"{what}: header {name} must be a str, got {type(value).__name__}"
        )
    if _BAD_HEADER_VALUE.search(value):
        raise InvalidRequestError(
            f"{what}: header {name} contains a control character (CR, LF, NUL, ...), "
            "which would end or corrupt the header"
        )
    return value


def check_credential(name: str, value: str | None) -> str | None:
    """A key or token as given, refused (never echoed) when it cannot go into a header intact.

    Surrounding whitespace usually means the value was read from a file with its newline; it
    is refused rather than stripped, because a key that silently differs from what the caller
    passed is harder to debug than an error that says why.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidRequestError(f"{name} must be a str, got {type(value).__name__}")
    if value != value.strip():
        raise InvalidRequestError(
            f"{name} has leading or trailing whitespace (read from a file? strip it first)"
        )
    if _BAD_HEADER_VALUE.search(value) or not value.isascii():
        raise InvalidRequestError(f"{name} contains characters a header cannot carry")
    return value


def float_error(value: float, field: str, *, operation_id: str, location: str) -> Exception:
    """The error for a float in `field` ("body.lines[0].unit_price", or a query name).

    `location` is "body" or "query"; the field's declared type decides the advice.
    """
    kind = _declared_type(operation_id, location, field)
    leaf = re.sub(r"\[\d+\]", "", field.rsplit(".", 1)[-1])
    money = bool(_MONEY_NAME.search(leaf.lower()))
    if kind == "integer":
        advice = f"it takes an int, e.g. {int(value)}" + (
            " (money in minor units: 1999 for 19.99)" if money else ""
        )
    elif money:
        advice = "money must be exact: pass a decimal.Decimal, e.g. Decimal('19.99')"
    else:
        advice = (
            "pass a decimal.Decimal (e.g. Decimal('1.5')) or an int, so the value is sent "
            "exactly as written"
        )
    return InvalidRequestError(f"{field} is a float ({value!r}); {advice}")


# -- the spec, read only to explain an error -------------------------------------------------

_SPEC_PATH = Path(__file__).resolve().parent / "_generated" / "openapi.json"


@cache
def _spec() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(_SPEC_PATH.read_text(encoding="utf-8"))
    return data


@cache
def _operations() -> dict[str, dict[str, Any]]:
    return {
        operation["operationId"]: operation
        for item in _spec()["paths"].values()
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    }


def _deref(node: Any) -> Any:
    return follow(_spec(), node)


def _alternatives(schema: Any) -> Iterator[dict[str, Any]]:
    schema = _deref(schema)
    if not isinstance(schema, dict):
        return
    yield schema
    for key in ("allOf", "oneOf", "anyOf"):
        for part in schema.get(key, ()):
            yield from _alternatives(part)


def _declared_type(operation_id: str, location: str, field: str) -> str | None:
    operation = _operations().get(operation_id)
    if operation is None:
        return None
    if location == "query":
        for parameter in operation.get("parameters", ()):
            parameter = _deref(parameter)
            if parameter.get("name") == field:
                return _type_of(parameter.get("schema"))
        return None
    content = (_deref(operation.get("requestBody")) or {}).get("content", {})
    schemas = [media.get("schema") for media in content.values()]
    steps = [s for s in re.split(r"\.|\[\d+\]", field)[1:] if s]  # drop the leading "body"
    for schema in schemas:
        found = _walk(schema, steps)
        if found is not None:
            return found
    return None


def _walk(schema: Any, steps: list[str]) -> str | None:
    for step in steps:
        schema = next(
            (
                alt["properties"][step]
                for alt in _alternatives(schema)
                if step in alt.get("properties", {})
            ),
            None,
        )
        if schema is None:
            return None
        schema = _unwrap_array(schema)
    return _type_of(schema)


def _unwrap_array(schema: Any) -> Any:
    for alt in _alternatives(schema):
        if alt.get("type") == "array" and "items" in alt:
            return alt["items"]
    return schema


def _type_of(schema: Any) -> str | None:
    for alt in _alternatives(schema):
        kind = alt.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), None)
        if kind in ("integer", "number", "string"):
            return str(kind)
    return None
