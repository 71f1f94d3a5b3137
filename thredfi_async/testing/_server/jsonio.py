"""JSON in and out without ever passing money through a binary float.

The API's ``number`` fields carry decimal amounts; a float round trip would turn ``40.10`` into
``40.1`` or worse, so requests are parsed with :class:`~decimal.Decimal` and responses render
Decimals as the exact digits they hold. Rendering goes through the C encoder (speed matters when
benchmarks page through thousands of invoices): each Decimal is swapped for a marker string that
cannot occur in ordinary output, and the markers are unquoted in one pass afterwards.
"""

from __future__ import annotations

import json
import re
import secrets
from decimal import Decimal
from typing import Any

__all__ = ["dumps", "loads"]

# A per-process nonce keeps the marker unguessable, so client-supplied strings cannot collide.
_NONCE = secrets.token_hex(8)
_MARKER_PREFIX = f"@@decimal-{_NONCE}:"
_MARKER_RE = re.compile('"' + re.escape(_MARKER_PREFIX) + r'([-+0-9.eE]+)"')


def _encode_decimal(value: object) -> str:
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"cannot encode non-finite decimal {value!r} as JSON")
        return _MARKER_PREFIX + str(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def dumps(value: Any) -> bytes:
    """Encode ``value`` as compact UTF-8 JSON, writing Decimals as exact JSON numbers."""
    text = json.dumps(value, default=_encode_decimal, separators=(",", ":"), ensure_ascii=False)
    if _NONCE in text:
        text = _MARKER_RE.sub(lambda m: m.group(1), text)
    return text.encode("utf-8")


def loads(data: bytes | str) -> Any:
    """Decode JSON, keeping every non-integer number as an exact Decimal."""
    return json.loads(data, parse_float=Decimal, parse_constant=_reject_constant)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")
