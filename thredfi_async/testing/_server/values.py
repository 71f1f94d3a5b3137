"""Values as the wire carries them: ISO timestamps and dates, text fields, minor units.

Parsing refuses a malformed value with the 400 the API gives for it, naming the field.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from .errors import field_error


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def iso_date(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def parse_datetime(value: Any, field_name: str = "") -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    text = str(value).replace("Z", "+00:00").replace("z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise field_error(field_name, "Datetime has wrong format.") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def parse_date(value: Any, field_name: str = "") -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise field_error(field_name, "Date has wrong format. Use YYYY-MM-DD.") from None


def start_of(day: date) -> datetime:
    return datetime.combine(day, time(), tzinfo=UTC)


def text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    return str(value)


def set_texts(record: Any, body: dict[str, Any], keys: tuple[str, ...]) -> None:
    """Copy the ``keys`` the body sends onto ``record`` as text (``None`` stays ``None``)."""
    for key in keys:
        if key in body:
            setattr(record, key, text(body, key))


def minor_units(value: Any, field_name: str) -> int:
    """An amount in minor units; a ``number`` field may carry a decimal, rounded half up."""
    if isinstance(value, bool) or value is None:
        raise field_error(field_name, "A valid number is required.")
    if isinstance(value, int):
        return value
    if isinstance(value, Decimal):
        from .._books.money import round_minor

        return round_minor(value)
    raise field_error(field_name, "A valid number is required.")
