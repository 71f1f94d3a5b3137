"""Request checking against the spec, so a client mistake comes back as a 400 with field details.

Path parameters, declared query parameters and bodies are validated with
``openapi-schema-validator``'s OAS 3.0 write validator. Query strings and form bodies arrive as
text, so values are first coerced to the declared type (integers, exact decimals, booleans,
repeated keys as arrays). Undeclared query parameters are passed through untouched: the API has
more filters than the spec names, and clients send them through ``extra_query``. A handler that
compares one as a number reads it with ``Context.typed_filter``, which coerces it here.

Values the fake cannot represent are refused like any other invalid value, with the field named:
an integer outside the 64-bit range (the API's amounts are Django ``BigIntegerField``-sized), a
number beyond ``MAX_NUMBER`` in magnitude (a quantity of 1e300 would make every later render of
the invoice fail), and a timestamp whose UTC time falls outside years 1 to 9999. The bounds are
added to each schema before it is compiled, so they never loosen a bound the spec declares.

Where the docs contradict a declared format the prose wins: ``account_id`` takes a UUID, an
account code or an ``external_id`` on every chart-of-accounts path, so it is not format-checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl
from uuid import UUID

from jsonschema import FormatChecker  # type: ignore[import-untyped]
from openapi_schema_validator import OAS30WriteValidator

from ..._pagination import MAX_PAGE_SIZE  # the API's clamp, as the SDK knows it
from .errors import ApiError, validation_error
from .spec import Operation

__all__ = [
    "MAX_INTEGER",
    "MAX_NUMBER",
    "RequestValidator",
    "bounded",
    "coerce_query_value",
    "loads",
    "parse_body",
]

MAX_INTEGER = 2**63 - 1
MIN_INTEGER = -(2**63)
MAX_NUMBER = 10**15
_UNCHECKED_PATH_FORMATS = frozenset({"account_id"})
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})


def _format_checker() -> Any:
    checker = FormatChecker(formats=())

    def _uuid(value: object) -> bool:
        if not isinstance(value, str):
            return True
        UUID(value)
        return len(value) == 36 and all(value[i] == "-" for i in (8, 13, 18, 23))

    def _date(value: object) -> bool:
        if not isinstance(value, str):
            return True
        return bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", value)) and bool(date.fromisoformat(value))

    def _date_time(value: object) -> bool:
        # Lenient like Django: a naive timestamp (read as UTC) or a bare date is accepted; one
        # whose UTC time is past year 9999 cannot be stored (OverflowError).
        if not isinstance(value, str):
            return True
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        if parsed.tzinfo is not None:
            parsed.astimezone(UTC)
        return True

    def _email(value: object) -> bool:
        if not isinstance(value, str):
            return True
        return bool(re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value))

    checker.checks("uuid", raises=(ValueError, TypeError, AttributeError))(_uuid)
    checker.checks("date", raises=ValueError)(_date)
    checker.checks("date-time", raises=(ValueError, OverflowError))(_date_time)
    checker.checks("email")(_email)
    return checker


_FORMATS = _format_checker()

_MESSAGES = {
    "required": "This field is required.",
    "integer": "A valid integer is required.",
    "number": "A valid number is required.",
    "boolean": "Must be a valid boolean.",
    "string": "Not a valid string.",
    "array": "Expected a list of items.",
    "object": "Expected a dictionary of items.",
    "uuid": "Must be a valid UUID.",
    "date": "Date has wrong format. Use one of these formats instead: YYYY-MM-DD.",
    "date-time": "Datetime has wrong format. Use one of these formats instead: "
    "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z].",
    "email": "Enter a valid email address.",
}


class RequestValidator:
    """Validators per operation, built on first use and kept (building one is the slow part)."""

    def __init__(self) -> None:
        self._cache: dict[tuple[str, str], Any] = {}

    def _validator(self, op: Operation, key: str, schema: dict[str, Any]) -> Any:
        cache_key = (op.operation_id, key)
        validator = self._cache.get(cache_key)
        if validator is None:
            validator = OAS30WriteValidator(bounded(schema), format_checker=_FORMATS)
            self._cache[cache_key] = validator
        return validator

    def path(self, op: Operation, values: dict[str, str]) -> None:
        details: dict[str, list[str]] = {}
        for param in op.path_params:
            schema = param.schema
            if param.name in _UNCHECKED_PATH_FORMATS:
                schema = {k: v for k, v in schema.items() if k != "format"}
            value = values.get(param.name)
            if value is None:
                continue
            for error in self._validator(op, f"path:{param.name}", schema).iter_errors(value):
                details.setdefault(param.name, []).append(_message(error))
        if details:
            raise validation_error(details, "Invalid path parameters")

    def query(
        self, op: Operation, pairs: Iterable[tuple[str, str]]
    ) -> tuple[dict[str, Any], dict[str, str]]:
        """Declared parameters coerced and validated, plus the undeclared ones as raw strings."""
        multi: dict[str, list[str]] = {}
        for key, text in pairs:
            multi.setdefault(key, []).append(text)
        declared = {p.name: p for p in op.query_params}
        values: dict[str, Any] = {}
        extra: dict[str, str] = {}
        details: dict[str, list[str]] = {}
        for name, raw in multi.items():
            param = declared.get(name)
            if param is None:
                extra[name] = raw[-1]
                continue
            try:
                value = _coerce(raw, param.schema)
            except ValueError as exc:
                details.setdefault(name, []).append(str(exc))
                continue
            if name == "page_size" and isinstance(value, int) and value > MAX_PAGE_SIZE:
                value = MAX_PAGE_SIZE  # clamped, as Django REST framework does; page_info says so
            values[name] = value
            for error in self._validator(op, f"query:{name}", param.schema).iter_errors(value):
                if _message(error) not in details.setdefault(name, []):
                    details[name].append(_message(error))
        for name, param in declared.items():
            if param.required and name not in multi:
                details.setdefault(name, []).append(_MESSAGES["required"])
        for name in ("page", "page_size"):
            if isinstance(values.get(name), int) and values[name] < 1 and name not in details:
                details[name] = ["Ensure this value is greater than or equal to 1."]
        if details:
            raise validation_error(details, "Invalid query parameters")
        return values, extra

    def body(self, op: Operation, body: Any) -> None:
        if op.body_schema is None:
            return
        validator = self._validator(op, "body", op.body_schema)
        details: dict[str, list[str]] = {}
        for error in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.path))):
            field = ".".join(str(part) for part in error.absolute_path)
            if error.validator == "required":
                missing = re.match(r"'([^']+)'", error.message)
                name = missing.group(1) if missing else ""
                field = f"{field}.{name}" if field else name
            messages = details.setdefault(field or "non_field_errors", [])
            if _message(error) not in messages:  # a null trips both "nullable" and "type"
                messages.append(_message(error))
        if details:
            raise validation_error(details)


def bounded(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with the fake's representable range added to every integer and number.

    A copy: the loaded spec stays as published. Shared subschemas stay shared (and cycles end),
    as the copy is memoised by identity.
    """
    memo: dict[int, Any] = {}

    def copy(node: Any) -> Any:
        if isinstance(node, list):
            return [copy(item) for item in node]
        if not isinstance(node, dict):
            return node
        if id(node) in memo:
            return memo[id(node)]
        result: dict[str, Any] = {}
        memo[id(node)] = result
        for key, value in node.items():
            result[key] = copy(value)
        kind = node.get("type")
        if kind in ("integer", "number"):
            high, low = (
                (MAX_INTEGER, MIN_INTEGER) if kind == "integer" else (MAX_NUMBER, -MAX_NUMBER)
            )
            result["maximum"] = min(node.get("maximum", high), high)
            result["minimum"] = max(node.get("minimum", low), low)
        return result

    copied: dict[str, Any] = copy(schema)
    return copied


def _message(error: Any) -> str:
    kind = error.validator
    if kind == "required":
        return _MESSAGES["required"]
    if kind == "type":
        if error.instance is None:
            return "This field may not be null."
        return _MESSAGES.get(str(error.validator_value), str(error.message))
    if kind == "format" and isinstance(error.cause, OverflowError):
        return "Datetime is out of range: its UTC time must fall in years 1 to 9999."
    if kind == "format":
        return _MESSAGES.get(str(error.validator_value), f"Enter a valid {error.validator_value}.")
    if kind == "minimum":
        return f"Ensure this value is greater than or equal to {error.validator_value}."
    if kind == "maximum":
        return f"Ensure this value is less than or equal to {error.validator_value}."
    if kind == "minLength":
        if error.validator_value == 1:
            return "This field may not be blank."
        return f"Ensure this field has at least {error.validator_value} characters."
    if kind == "maxLength":
        return f"Ensure this field has no more than {error.validator_value} characters."
    if kind == "enum":
        return f'"{error.instance}" is not a valid choice.'
    if kind == "pattern":
        return f"This value does not match the required pattern {error.validator_value}."
    return str(error.message)


def coerce_query_value(name: str, value: str, schema: dict[str, Any]) -> Any:
    """An undeclared query parameter read as ``schema`` says; a bad value is refused with the
    400 a declared parameter of that type gets, so an undeclared filter never crashes a list."""
    try:
        return _coerce_one(value, schema)
    except ValueError as exc:
        raise validation_error({name: [str(exc)]}, "Invalid query parameters") from None


def _coerce(raw: list[str], schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "array":
        item_schema = schema.get("items") or {}
        return [_coerce_one(v, item_schema) for v in raw]
    return _coerce_one(raw[-1], schema)


def _coerce_one(value: str, schema: dict[str, Any]) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        try:
            return int(value)
        except ValueError:
            raise ValueError(_MESSAGES["integer"]) from None
    if kind == "number":
        try:
            number = Decimal(value)
        except InvalidOperation:
            raise ValueError(_MESSAGES["number"]) from None
        if not number.is_finite():
            raise ValueError(_MESSAGES["number"])
        return number
    if kind == "boolean":
        lowered = value.lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ValueError(_MESSAGES["boolean"])
    if kind in ("object", "array"):
        try:
            return loads(value)
        except ValueError:
            raise ValueError(_MESSAGES[kind]) from None
    return value


def loads(data: bytes | str) -> Any:
    """Decode a request body, keeping every non-integer number as an exact Decimal.

    The standard parser, not the SDK's, because its errors are the text DRF puts in a 400
    ("JSON parse error - ...") and it names a ``NaN`` or ``Infinity`` it refuses.
    """
    return json.loads(data, parse_float=Decimal, parse_constant=_reject_constant)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_body(content_type: str, raw: bytes, op: Operation) -> Any:
    """The request body as Python data, whatever encoding the client chose.

    JSON is always accepted; form and multipart bodies only where the spec offers them (and on the
    credentials exchange, which takes anything). Form values are coerced with the operation's body
    schema; a nested object or list may be sent in a form field as JSON text.
    """
    media = content_type.split(";", 1)[0].strip().lower()
    if not raw.strip():
        return None
    if media == "application/json" or media.endswith("+json") or not media:
        try:
            return loads(raw)
        except ValueError as exc:
            raise ApiError(
                400,
                "parse_error",
                "Malformed request body",
                details={"non_field_errors": [f"JSON parse error - {exc}"]},
            ) from None
    accepts_forms = op.any_body_encoding or any(
        t in op.body_content_types
        for t in ("application/x-www-form-urlencoded", "multipart/form-data")
    )
    if media == "application/x-www-form-urlencoded" and accepts_forms:
        pairs = parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
        return _coerce_form(pairs, op.body_schema)
    if media == "multipart/form-data" and accepts_forms:
        return _coerce_form(_multipart_pairs(content_type, raw), op.body_schema)
    raise ApiError(
        415,
        "unsupported_media_type",
        f'Unsupported media type "{media}" in request.',
    )


def _multipart_pairs(content_type: str, raw: bytes) -> list[tuple[str, str]]:
    header = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(header + raw)
    pairs: list[tuple[str, str]] = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            continue
        filename = part.get_filename()
        if filename:
            pairs.append((name, filename))  # files are not stored; their name stands in
            continue
        payload = part.get_payload(decode=True)
        text = payload.decode("utf-8", errors="replace") if isinstance(payload, bytes) else ""
        pairs.append((name, text))
    return pairs


def _coerce_form(pairs: list[tuple[str, str]], schema: dict[str, Any] | None) -> dict[str, Any]:
    properties = (schema or {}).get("properties", {})
    multi: dict[str, list[str]] = {}
    for key, value in pairs:
        multi.setdefault(key.removesuffix("[]"), []).append(value)
    result: dict[str, Any] = {}
    for key, values in multi.items():
        prop = properties.get(key)
        if prop is None:
            result[key] = values[-1]
            continue
        try:
            if prop.get("type") == "array" and len(values) == 1 and values[0].startswith("["):
                result[key] = loads(values[0])
            else:
                result[key] = _coerce(values, prop)
        except ValueError:
            result[key] = values[-1]  # left as text; schema validation reports it
    return result
