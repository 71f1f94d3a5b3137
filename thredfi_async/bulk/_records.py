"""A record to import, and the local checks that refuse a bad one before anything is sent.

Every record must carry its own `external_id`: it is what makes a create safe to repeat (the
API's deduplication, the deterministic Idempotency-Key, the checkpoint's key). A caller whose
source has no such id passes `external_id=` (a function of the record) to derive one; it must
be deterministic (the same record gives the same id on every run), or a rerun creates twice.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from .._exceptions import InvalidRequestError
from .._generated import bodies as _bodies
from ._kinds import KINDS

__all__ = ["ExternalIdFunction", "Record", "as_record", "field_shapes", "problems"]

ExternalIdFunction = Callable[["Record"], str]


@dataclass(frozen=True, slots=True)
class Record:
    """One create: `data` is the body of `kind`'s create, with references by id or external id.

    `source` says where it came from (a file's line) for messages; it takes no part in the import.
    """

    business_id: str
    kind: str
    data: Mapping[str, Any]
    source: str | None = field(default=None, compare=False)

    @property
    def external_id(self) -> str | None:
        value = self.data.get("external_id")
        return value if isinstance(value, str) and value else None

    def label(self) -> str:
        where = f"{self.source}: " if self.source else ""
        return f"{where}{self.kind} {self.external_id or '(no external_id)'} of {self.business_id}"


def as_record(item: Record | Mapping[str, Any], external_id: ExternalIdFunction | None) -> Record:
    """Accept a Record or a `{"business_id", "kind", "data"}` dict, and fill in a derived id."""
    if isinstance(item, Record):
        record = item
    elif isinstance(item, Mapping):
        data = item.get("data")
        if data is not None and hasattr(data, "to_dict"):
            data = data.to_dict()
        record = Record(
            str(item.get("business_id", "")),
            str(item.get("kind", "")),
            data if isinstance(data, Mapping) else {},
            source=item.get("source"),
        )
    else:
        raise InvalidRequestError(f"a record is a Record or a dict, got {type(item).__name__}")
    if hasattr(record.data, "to_dict"):  # a generated model given as data
        record = Record(record.business_id, record.kind, record.data.to_dict(), record.source)
    if record.external_id is None and external_id is not None and record.kind in KINDS:
        derived = external_id(record)
        record = Record(
            record.business_id, record.kind, {**record.data, "external_id": derived}, record.source
        )
    return record


# -- what the TypedDicts say about each field -------------------------------------------------

_DICT_NAME = re.compile(r"\b(\w+Dict)\b")


def field_shapes(typed_dict: type[Any]) -> dict[str, tuple[str, type[Any] | None]]:
    return _fields_of(typed_dict.__name__)


@cache
def _fields_of(name: str) -> dict[str, tuple[str, type[Any] | None]]:
    typed_dict: type[Any] = getattr(_bodies, name)
    return _read_fields(typed_dict)


def _read_fields(typed_dict: type[Any]) -> dict[str, tuple[str, type[Any] | None]]:
    """field -> (shape, nested TypedDict): shape is "int" (minor units, counts) or "any".

    The nested bodies are named in string annotations (they refer to models imported for type
    checkers only), so they are found by name in the generated bodies module.
    """
    found: dict[str, tuple[str, type[Any] | None]] = {}
    for name, annotation in typed_dict.__annotations__.items():
        inner = annotation
        wrappers: tuple[Any, ...] = (typing.Required, typing.NotRequired)
        while typing.get_origin(inner) in wrappers:
            inner = typing.get_args(inner)[0]
        text = inner.__forward_arg__ if isinstance(inner, typing.ForwardRef) else repr(inner)
        nested = next(
            (
                getattr(_bodies, m)
                for m in _DICT_NAME.findall(text)
                if isinstance(getattr(_bodies, m, None), type)
            ),
            None,
        )
        found[name] = ("int" if inner is int else "any", nested)
    return found


def _required(typed_dict: type[Any]) -> frozenset[str]:
    keys: frozenset[str] = typed_dict.__required_keys__
    return keys


def _floats(value: Any, where: str) -> Iterator[str]:
    if isinstance(value, float):
        yield f"{where} is a float ({value!r}); money must be exact (Decimal or int)"
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _floats(item, f"{where}.{key}" if where else str(key))
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        for index, item in enumerate(value):
            yield from _floats(item, f"{where}[{index}]")


def _shapes(value: Any, typed_dict: type[Any], where: str, references: set[str]) -> Iterator[str]:
    if not isinstance(value, Mapping):
        yield f"{where or 'data'} must be an object"
        return
    fields = field_shapes(typed_dict)
    for key in sorted(_required(typed_dict) - set(value)):
        if f"{key.removesuffix('_id')}_external_id" not in value:
            yield f"{where}{key} is required"
    for key, item in value.items():
        if key not in fields:
            if key not in references:
                yield f"{where}{key} is not a field of {typed_dict.__name__.removesuffix('Dict')}"
            continue
        shape, nested = fields[key]
        if shape == "int" and (isinstance(item, bool) or not isinstance(item, int)):
            if not isinstance(item, float):  # reported once, as a float
                yield f"{where}{key} must be an integer (minor units), got {item!r}"
        elif nested is not None and isinstance(item, Mapping):
            yield from _shapes(item, nested, f"{where}{key}.", references)
        elif nested is not None and isinstance(item, Sequence) and not isinstance(item, str):
            for index, element in enumerate(item):
                yield from _shapes(element, nested, f"{where}{key}[{index}].", references)


def problems(record: Record) -> list[str]:
    """What is wrong with one record on its own (references to others are checked by the plan)."""
    if record.kind not in KINDS:
        return [f"unknown kind {record.kind!r} (one of {', '.join(KINDS)})"]
    kind = KINDS[record.kind]
    found: list[str] = []
    if not record.business_id:
        found.append("business_id is missing")
    if record.external_id is None:
        found.append(
            "external_id is missing: every record needs one, so a rerun cannot create it twice"
        )
    found.extend(_floats(record.data, ""))
    path_refs = {r.field for r in kind.references if r.in_path}
    names = {r.external_name for r in kind.references} | path_refs
    names |= {f"{n}_external_id" for n in path_refs}
    data = {k: v for k, v in record.data.items() if k not in path_refs}
    found.extend(_shapes(data, kind.body, "", names))
    for ref in kind.references:
        if ref.in_path and ref.field not in record.data and ref.external_name not in record.data:
            found.append(f"{ref.field} or {ref.external_name} is required")
    return found
