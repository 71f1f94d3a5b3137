"""Spec-driven test data: every operation of the (patched) spec, and values shaped by its schemas.

Tests walk the spec itself rather than a hand-kept list, so an operation added to openapi.yaml
is covered the moment it is generated.
"""

from __future__ import annotations

import copy
import json
import uuid
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import thredfi_async
from thredfi_async._refs import follow

SPEC_PATH = Path(thredfi_async.__file__).parent / "_generated" / "openapi.json"
METHODS = ("get", "post", "put", "patch", "delete")


@cache
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    return loaded


def deref(node: dict[str, Any]) -> dict[str, Any]:
    followed: dict[str, Any] = follow(spec(), node)
    return followed


@dataclass(frozen=True)
class SpecOperation:
    operation_id: str
    method: str
    path: str
    operation: dict[str, Any]

    @property
    def parameters(self) -> list[dict[str, Any]]:
        return [deref(p) for p in self.operation.get("parameters", [])]

    def success_schema(self) -> dict[str, Any] | None:
        for code, response in sorted(self.operation["responses"].items()):
            if code.startswith("2"):
                media = (response.get("content") or {}).get("application/json")
                if media and "schema" in media:
                    return deref(media["schema"])
        return None

    def body_schema(self, content_type: str) -> dict[str, Any] | None:
        body = self.operation.get("requestBody")
        media = (body or {}).get("content", {}).get(content_type)
        return deref(media["schema"]) if media else None


@cache
def operations() -> tuple[SpecOperation, ...]:
    found = []
    for path, item in spec()["paths"].items():
        for method in METHODS:
            if method in item:
                op = item[method]
                found.append(SpecOperation(op["operationId"], method.upper(), path, op))
    return tuple(found)


def sample_id(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"thredfi-test/{name}"))


def _merge_all_of(schema: dict[str, Any]) -> dict[str, Any]:
    if "allOf" not in schema:
        return schema
    merged: dict[str, Any] = {"type": "object", "properties": {}, "required": []}
    for part in schema["allOf"]:
        part = _merge_all_of(deref(part))
        merged["properties"].update(part.get("properties", {}))
        merged["required"] += part.get("required", [])
    for key, value in schema.items():
        if key != "allOf":
            merged.setdefault(key, value)
    return merged


def sample(
    schema: dict[str, Any], name: str = "value", *, full: bool = True, depth: int = 0
) -> Any:
    """A valid value for `schema`: every property when `full`, else only the required ones."""
    schema = _merge_all_of(deref(schema))
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    fmt = schema.get("format")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        out = {}
        for key, sub in props.items():
            if (full or key in required) and depth < 6:
                sub_schema = deref(sub)
                if sub_schema.get("format") == "binary":
                    continue
                out[key] = sample(sub_schema, key, full=full, depth=depth + 1)
        return out
    if kind == "array":
        return [sample(schema.get("items", {}), name, full=full, depth=depth + 1)]
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return Decimal("12.50")
    if kind == "boolean":
        return True
    if kind == "string":
        if fmt == "uuid" or schema.get("pattern") == "^[0-9a-f-]+$":
            return sample_id(name)
        if fmt == "date":
            return "2024-01-15"
        if fmt == "date-time":
            return "2024-01-15T10:30:00+00:00"
        if fmt == "email":
            return "owner@example.com"
        min_length = int(schema.get("minLength", 1))
        max_length = int(schema.get("maxLength", 40))
        text = f"{name}-x"
        text = text * (min_length // len(text) + 1)
        return text[: max(min_length, min(len(text), max_length))]
    return {"free": "form"}  # untyped: any JSON


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema` with its $ref followed and its allOf merged: the shape a value must have."""
    return _merge_all_of(deref(schema))


def binary_properties(schema: dict[str, Any]) -> list[str]:
    """The file fields of a (multipart) body schema, which `sample` leaves out."""
    return [
        key
        for key, sub in resolve(schema).get("properties", {}).items()
        if deref(sub).get("format") == "binary"
    ]


# -- mutations for the tolerance test ------------------------------------------------------------


def walk(value: Any, schema: dict[str, Any], visit: Any, depth: int = 0) -> Any:
    """Rebuild `value` bottom-up, calling visit(value, schema) on every node."""
    schema = _merge_all_of(deref(schema))
    if isinstance(value, dict) and ("properties" in schema or schema.get("type") == "object"):
        props = schema.get("properties", {})
        value = {k: walk(v, props.get(k, {}), visit, depth + 1) for k, v in value.items()}
    elif isinstance(value, list) and schema.get("type") == "array":
        value = [walk(v, schema.get("items", {}), visit, depth + 1) for v in value]
    return visit(value, schema)


def mutate_enums(value: Any, schema: dict[str, Any]) -> Any:
    return walk(value, schema, lambda v, s: "SOMETHING_NEW" if "enum" in s else v)


def mutate_uuids(value: Any, schema: dict[str, Any]) -> Any:
    return walk(value, schema, lambda v, s: "not-a-uuid-1" if s.get("format") == "uuid" else v)


def mutate_nulls(value: Any, schema: dict[str, Any]) -> Any:
    def visit(v: Any, s: dict[str, Any]) -> Any:
        if isinstance(v, dict) and "properties" in s:
            return {k: None for k in v}
        return v

    return walk(value, schema, visit)


def mutate_required(value: Any, schema: dict[str, Any]) -> Any:
    def visit(v: Any, s: dict[str, Any]) -> Any:
        if isinstance(v, dict):
            return {k: x for k, x in v.items() if k not in set(s.get("required", []))}
        return v

    return walk(value, schema, visit)


def mutate_extras(value: Any, schema: dict[str, Any]) -> Any:
    def visit(v: Any, s: dict[str, Any]) -> Any:
        if isinstance(v, dict):
            return {**v, "zz_extra_field": {"nested": [1, "two"]}}
        return v

    return walk(value, schema, visit)


MUTATIONS = {
    "unknown_enum": mutate_enums,
    "non_uuid": mutate_uuids,
    "null_everywhere": mutate_nulls,
    "required_removed": mutate_required,
    "extra_fields": mutate_extras,
}


def deep_copy(value: Any) -> Any:
    return copy.deepcopy(value)
