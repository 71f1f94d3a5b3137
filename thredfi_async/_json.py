"""JSON in and out without floats: this is an accounting API, a float in a balance is a defect.

Decoding hands every fractional literal's text to Decimal (`FLOAT_HOOK`), so
`12345678901234.56` arrives with every digit; msgspec's decoder does it at twice the speed of
`json.loads(parse_float=Decimal)`, which is what keeps parsing a page on par with pydantic.
Encoding writes a Decimal with exactly its digits and refuses a float outright, naming the
field, instead of guessing which decimal the caller meant by `0.1 + 0.2`. Ids, dates and times
are written as the models write them (the typed bodies take `UUID`, `date` and `datetime`).
The standard library cannot write a Decimal as a JSON number, hence this small recursive
encoder; strings still go through the C-accelerated escaper.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from uuid import UUID

import msgspec

from ._exceptions import InvalidRequestError

__all__ = ["FLOAT_HOOK", "FloatInBody", "dumps", "dumps_exact", "loads"]

FLOAT_HOOK = Decimal  # called with the literal's text: the digits are never a float
_decoder = msgspec.json.Decoder(float_hook=FLOAT_HOOK)
_escape = json.encoder.encode_basestring_ascii
_exact_encoder = msgspec.json.Encoder(decimal_format="number")


def loads(content: bytes | str) -> Any:
    """Decode a response body; fractional numbers become Decimal, integers stay int.

    Malformed JSON raises ValueError (msgspec.DecodeError is one), as json.loads would, and so
    does JSON nested deeper than the decoder's recursion limit (about 1,000 levels).
    """
    try:
        return _decoder.decode(content)
    except RecursionError:
        raise ValueError("JSON nested too deeply to decode") from None


class FloatInBody(InvalidRequestError):
    """A float in a request body; `path` locates it ("body.line_items[0].quantity").

    The overlay replaces this with advice for the field's declared type (thredfi_async._guards).
    """

    def __init__(self, path: str, value: float) -> None:
        super().__init__(
            f"{path} is a float ({value!r}); pass a decimal.Decimal or an int so the value is "
            "sent exactly"
        )
        self.path = path
        self.value = value


def dumps(value: Any) -> bytes:
    """Encode a request body. Decimals keep their digits; a float raises FloatInBody."""
    chunks: list[str] = []
    try:
        _encode(value, chunks)
    except _FloatFound as found:
        path = _find_float(value, "body") or "body"
        raise FloatInBody(path, found.value) from None
    except RecursionError:
        raise InvalidRequestError("body is nested too deeply to encode as JSON") from None
    return "".join(chunks).encode("ascii")


def dumps_exact(value: Any) -> bytes:
    """Encode data built in process (the fake's responses) as compact UTF-8, Decimals exact.

    No float check and no per-value Python: msgspec writes the whole page in C. A non-finite
    Decimal is a ValueError, as a NaN is to ``json.dumps(allow_nan=False)``.
    """
    try:
        return _exact_encoder.encode(value)
    except msgspec.EncodeError as exc:
        raise ValueError(str(exc)) from None


class _FloatFound(Exception):
    def __init__(self, value: float) -> None:
        self.value = value


def _encode(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_escape(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, Decimal):
        if not value.is_finite():
            raise InvalidRequestError(f"{value} is not a JSON number")
        out.append(str(value))  # its own digits; an exponent ("1E+2") is valid JSON too
    elif isinstance(value, float):
        raise _FloatFound(value)
    elif isinstance(value, Mapping):
        out.append("{")
        first = True
        for key, item in value.items():
            if not first:
                out.append(",")
            first = False
            out.append(_escape(str(key)))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, UUID):
        out.append(f'"{value}"')
    elif isinstance(value, datetime.date):  # datetime too: both as the models write them
        out.append(_escape(value.isoformat()))
    elif isinstance(value, list | tuple):
        out.append("[")
        for index, item in enumerate(value):
            if index:
                out.append(",")
            _encode(item, out)
        out.append("]")
    else:
        to_dict = getattr(value, "to_dict", None)
        if to_dict is None:
            raise InvalidRequestError(f"cannot send a {type(value).__name__} as JSON")
        _encode(to_dict(), out)


def _find_float(value: Any, path: str) -> str | None:
    if isinstance(value, float):
        return path
    if not isinstance(value, Mapping | list | tuple | str) and hasattr(value, "to_dict"):
        value = value.to_dict()
    if isinstance(value, Mapping):
        for key, item in value.items():
            found = _find_float(item, f"{path}.{key}")
            if found:
                return found
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            found = _find_float(item, f"{path}[{index}]")
            if found:
                return found
    return None
