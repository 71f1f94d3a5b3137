"""Records from files: JSON Lines (any kind) and CSV (flat kinds: one column per field).

Numbers with a fraction are read as Decimal, never float, so `"unit_price": 10.5` reaches the
checks as what it is (a fractional amount of minor units, refused) instead of a rounded float.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from ._kinds import KINDS
from ._records import Record, field_shapes

__all__ = ["read_records"]


def _jsonl(path: Path) -> Iterator[Record]:
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            where = f"{path.name}:{number}"
            try:
                item: Any = json.loads(line, parse_float=Decimal)
            except json.JSONDecodeError as error:
                yield Record("", "(unreadable)", {}, source=f"{where} ({error.msg})")
                continue
            if not isinstance(item, dict):
                yield Record("", "(not an object)", {}, source=where)
                continue
            data = item.get("data")
            yield Record(
                str(item.get("business_id") or ""),
                str(item.get("kind") or ""),
                data if isinstance(data, dict) else {},
                source=where,
            )


def _cell(kind: str, name: str, text: str) -> Any:
    shapes = field_shapes(KINDS[kind].body) if kind in KINDS else {}
    if shapes.get(name, ("any", None))[0] == "int":
        try:
            return int(text)
        except ValueError:
            return Decimal(text) if _is_number(text) else text
    return text


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def _csv(path: Path) -> Iterator[Record]:
    with path.open(encoding="utf-8", newline="") as rows:
        for number, row in enumerate(csv.DictReader(rows), start=2):
            kind = (row.pop("kind", "") or "").strip()
            business_id = (row.pop("business_id", "") or "").strip()
            data = {k: _cell(kind, k, v) for k, v in row.items() if k and v not in (None, "")}
            yield Record(business_id, kind, data, source=f"{path.name}:{number}")


def read_records(path: str | Path) -> Iterator[Record]:
    """`.csv` files by column; anything else as JSON Lines (one record per line)."""
    path = Path(path)
    return _csv(path) if path.suffix.lower() == ".csv" else _jsonl(path)
