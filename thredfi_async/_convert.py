"""Value conversion for generated models, tolerant by policy (docs/api-behaviour.md, "Tolerant
parsing").

The published API drifts from its reference: ids that are not UUIDs, enum values nobody listed,
nulls where a value was declared. Each converter below returns the typed value when the raw
JSON value parses and the raw value unchanged when it does not, and never raises, so one odd
field never costs the caller the whole response. None and UNSET pass through untouched.

The encoders go the other way, turning model attributes back into JSON-ready data; money stays
Decimal here and is written exactly by thredfi_async._json.
"""

from __future__ import annotations

import datetime as _dt
import json
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any, Literal, Protocol, Self, TypeVar, overload
from uuid import UUID, SafeUUID

from ._exceptions import DeclaredFieldError, MissingFieldError
from ._types import UNSET, File, Unset

__all__ = [
    "date",
    "datetime",
    "decimal",
    "enum",
    "is_known_member",
    "list_of",
    "model",
    "missing_field",
    "model_list",
    "model_to_dict",
    "model_to_json",
    "model_repr",
    "model_to_multipart",
    "response_model",
    "to_jsonable",
    "unknown_member",
    "uuid",
]

T = TypeVar("T")
E = TypeVar("E", bound=Enum)

_datetime_from_text = _dt.datetime.fromisoformat  # looked up once: converters run per field
_date_from_text = _dt.date.fromisoformat


def uuid(value: Any) -> Any:
    if type(value) is str:
        # 32 characters once the hyphens are gone is what UUID() hands to int(); braces or a
        # "urn:uuid:" prefix fail the length or int() here, and UUID() below handles them.
        digits = value.replace("-", "")
        if len(digits) == 32:
            try:
                return _uuid_from_int(int(digits, 16))
            except ValueError:
                pass
        try:
            return UUID(value)
        except ValueError:
            return value
    return value


_new_object = object.__new__
_set_attribute = object.__setattr__
_SAFETY_UNKNOWN = SafeUUID.unknown


def _uuid_from_int(number: int) -> UUID:
    """UUID(int=number) without UUID.__init__'s argument handling, which is half the cost of
    parsing an id: the two slots are set exactly as __init__ (and unpickling) sets them."""
    value = _new_object(UUID)
    _set_attribute(value, "int", number)
    _set_attribute(value, "is_safe", _SAFETY_UNKNOWN)
    return value


def datetime(value: Any) -> Any:
    if type(value) is str:
        try:
            return _datetime_from_text(value)
        except ValueError:
            return value
    return value


def date(value: Any) -> Any:
    if type(value) is str:
        try:
            return _date_from_text(value)
        except ValueError:
            return value
    return value


def decimal(value: Any) -> Any:
    """JSON numbers become Decimal; responses are decoded with parse_float=Decimal, so a
    fractional number arrives as Decimal already and an integral one as int."""
    kind = type(value)
    if kind is Decimal:
        return value
    if kind is int:
        return Decimal(value)
    if kind is str:
        try:
            number = Decimal(value)
        except InvalidOperation:
            return value
        return number if number.is_finite() else value
    if kind is float:  # only reachable if a caller decoded JSON themselves; repr is exact-shortest
        return Decimal(repr(value))
    return value


def enum(cls: type[E], value: Any) -> Any:
    try:
        member = cls._value2member_map_.get(value)
    except TypeError:  # unhashable raw value
        return value
    if member is None:
        member = unknown_member(cls, value)
    return value if member is None else member


# Members made for values the spec does not list, one per (enum, value): the same unknown
# status on a thousand invoices is one object, not a thousand. Bounded, so a server sending
# endless distinct values cannot grow it without limit; past the bound members are not kept.
_unknown_members: dict[tuple[type[Enum], object], Enum] = {}
_UNKNOWN_MEMBERS_KEPT = 1024


def unknown_member(cls: type[E], value: object) -> E | None:
    """A member of `cls` for a value its spec did not list (an open enum's `_missing_`).

    Only a value of the enum's own JSON type qualifies (a str for a string enum, an int but
    not a bool for an integer one); anything else is not a value of this field, and stays raw.
    """
    base: Any = getattr(cls, "_member_type_", object)  # str or int; not in typeshed
    if type(value) is not base or base is object:
        return None
    key = (cls, value)
    found = _unknown_members.get(key)
    if found is not None:
        return found  # type: ignore[return-value]
    construct: Any = base.__new__  # str.__new__ or int.__new__, making a member of cls
    member: E = construct(cls, value)
    member._name_ = str(value)
    member._value_ = value
    if len(_unknown_members) < _UNKNOWN_MEMBERS_KEPT:
        _unknown_members[key] = member
    return member


def is_known_member(member: Enum) -> bool:
    return type(member)._value2member_map_.get(member._value_) is member


def model(cls: type[T], value: Any) -> Any:
    if type(value) is dict:
        return cls.from_dict(value)  # type: ignore[attr-defined]
    return value


def model_list(cls: type[T], value: Any) -> Any:
    if type(value) is list:
        from_dict = cls.from_dict  # type: ignore[attr-defined]
        return [from_dict(item) if type(item) is dict else item for item in value]
    return value


def list_of(value: Any, convert: Callable[[Any], Any]) -> Any:
    if type(value) is list:
        return [convert(item) for item in value]
    return value


class _Parses(Protocol):
    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self: ...


M = TypeVar("M", bound=_Parses)


@overload
def response_model(cls: type[M], data: Any) -> M: ...
@overload
def response_model(cls: type[M], data: Any, *, optional: Literal[True]) -> M | None: ...
def response_model(cls: type[M], data: Any, *, optional: bool = False) -> M | None:
    """The operation's result from a decoded 2xx body.

    Reports are documented as a one-element array around the object (docs/api-behaviour.md,
    "Reports"); unwrap it. A body that is no object at all is not a model and cannot be made
    one: the caller (the overlay) turns the TypeError into UnexpectedResponseError with the
    response.
    """
    if data is None and optional:
        return None
    if type(data) is list and len(data) == 1 and type(data[0]) is dict:
        data = data[0]
    if type(data) is dict:
        return cls.from_dict(data)
    raise TypeError(f"expected a JSON object for {cls.__name__}, got {type(data).__name__}")


def to_jsonable(value: Any) -> Any:
    """A model attribute as JSON-ready data. Raw values (kept by the tolerant parser) pass
    through, so a model that was parsed from a response can be sent back unchanged."""
    if value is None or isinstance(value, str | int | Decimal | float):
        return value
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, _dt.date):  # datetime is a date too
        return value.isoformat()
    to_dict = getattr(value, "to_dict", None)
    if to_dict is not None:
        return to_dict()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items() if not isinstance(v, Unset)}
    if isinstance(value, list | tuple):
        return [to_jsonable(item) for item in value]
    return value


def model_to_dict(obj: Any, fields: tuple[tuple[str, str], ...]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for attribute, key in fields:
        value = getattr(obj, attribute)
        if value is UNSET:
            continue
        out[key] = to_jsonable(value)
    extra = obj.additional_properties
    if extra:
        for key, value in extra.items():
            out[key] = to_jsonable(value)
    return out


def model_to_json(obj: Any, fields: tuple[tuple[str, str], ...]) -> str:
    from ._json import dumps

    return dumps(model_to_dict(obj, fields)).decode()


def missing_field(obj: Any, field: str) -> MissingFieldError:
    """The error for reading a required field that the response lacked."""
    return MissingFieldError(type(obj).__name__, field)


def extra_item(obj: Any, key: str, fields: tuple[tuple[str, str], ...]) -> Any:
    """`model[key]`: an undeclared field the response carried; a declared one is an attribute."""
    try:
        return obj.additional_properties[key]
    except KeyError:
        for attribute, name in fields:
            if name == key:
                raise DeclaredFieldError(
                    type(obj).__name__, key, attribute.removeprefix("_")
                ) from None
        raise


def model_repr(obj: Any, fields: tuple[tuple[str, str], ...]) -> str:
    """Only the fields that are set, so a 40-field model with three values reads as three.
    A required field is kept as `_name` behind its property; it is shown as `name`.

    A token response's `access_token` is shown masked: reprs end up in logs and tracebacks.
    """
    shown = [
        f"{name}={'****' if name == 'access_token' else value!r}"
        for attribute, _ in fields
        if (value := getattr(obj, attribute)) is not UNSET and (name := attribute.removeprefix("_"))
    ]
    if obj.additional_properties:
        shown.append(f"additional_properties={obj.additional_properties!r}")
    return f"{type(obj).__name__}({', '.join(shown)})"


def model_to_multipart(obj: Any, fields: tuple[tuple[str, str], ...]) -> list[tuple[str, Any]]:
    """httpx `files=` parts: File attributes as file parts, scalars as text fields, anything
    nested as a JSON part: nested multipart fields have no documented form
    (docs/api-behaviour.md, "Multipart bodies")."""
    from ._json import dumps

    parts: list[tuple[str, Any]] = []
    for key, value in model_to_dict(obj, fields).items():
        original = getattr(obj, _attribute_for(fields, key), value)
        if isinstance(original, File):
            parts.append((key, original.to_tuple()))
        elif isinstance(value, dict | list):
            parts.append((key, (None, dumps(value), "application/json")))
        elif isinstance(value, bool):
            parts.append((key, (None, json.dumps(value))))
        elif value is not None:
            # Left as is: the client writes scalars as text, and refuses a float by name.
            parts.append((key, (None, value)))
    return parts


def _attribute_for(fields: tuple[tuple[str, str], ...], key: str) -> str:
    for attribute, json_key in fields:
        if json_key == key:
            return attribute
    return key
