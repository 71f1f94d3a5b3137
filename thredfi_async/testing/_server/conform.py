"""Make a rendered response honour the loaded spec's nullability.

Views render a value the fake does not have (an unpaid invoice's ``paid_at``) as ``None``. Where the
spec declares the property ``nullable`` that ``null`` is sent (docs/api-behaviour.md, "Ledger and
reports"); where it does not, the key is left out, so every response validates against whichever
spec the fake loaded, including one the SDK later patches to mark more fields nullable. Following
OAS 3.0.3, ``nullable`` only counts next to a ``type`` in the same schema object.

Each schema is compiled once into a small plan that only visits the parts of a response where a
``null`` could need dropping; list pages are shaped on every request, so this stays cheap.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Conformer", "Plan"]


@dataclass(frozen=True, slots=True)
class Plan:
    not_nullable: frozenset[str]
    children: tuple[tuple[str, Plan], ...]
    items: Plan | None


class Conformer:
    """Compiled plans per schema object; owned by the operation table that holds the schemas."""

    def __init__(self) -> None:
        self._plans: dict[int, Plan | None] = {}
        self._keep_alive: list[dict[str, Any]] = []

    def conform(self, value: Any, schema: dict[str, Any] | None) -> Any:
        """Drop ``None`` values the schema does not allow, in place, and return ``value``."""
        if schema is not None and value is not None:
            plan = self.plan(schema)
            if plan is not None:
                _apply(value, plan)
        return value

    def plan(self, schema: dict[str, Any]) -> Plan | None:
        key = id(schema)
        if key in self._plans:
            return self._plans[key]
        self._plans[key] = None  # guards against (absent, but possible) cycles
        self._keep_alive.append(schema)
        properties = _properties(schema)
        not_nullable = frozenset(k for k, sub in properties.items() if not _allows_null(sub))
        children = []
        for name, sub in properties.items():
            child = self.plan(sub)
            if child is not None:
                children.append((name, child))
        items_schema = schema.get("items")
        items = self.plan(items_schema) if isinstance(items_schema, dict) else None
        plan = (
            Plan(not_nullable, tuple(children), items)
            if (not_nullable or children or items)
            else None
        )
        self._plans[key] = plan
        return plan


def _apply(value: Any, plan: Plan) -> None:
    if isinstance(value, dict):
        for key in plan.not_nullable:
            if key in value and value[key] is None:
                del value[key]
        for key, child in plan.children:
            item = value.get(key)
            if item is not None:
                _apply(item, child)
    elif isinstance(value, list) and plan.items is not None:
        for element in value:
            _apply(element, plan.items)


def _properties(schema: dict[str, Any]) -> dict[str, Any]:
    props = schema.get("properties")
    if "allOf" not in schema:
        return props if isinstance(props, dict) else {}
    merged: dict[str, Any] = {}
    for sub in schema["allOf"]:
        if isinstance(sub, dict):
            merged.update(_properties(sub))
    if isinstance(props, dict):
        merged.update(props)
    return merged


def _allows_null(schema: dict[str, Any]) -> bool:
    if "type" in schema:
        return schema.get("nullable") is True
    # An untyped schema ({} or one with only a description) constrains nothing, null included;
    # allOf/oneOf/anyOf wrappers without a type cannot make their subschemas nullable.
    return not any(k in schema for k in ("allOf", "oneOf", "anyOf", "properties", "enum"))
