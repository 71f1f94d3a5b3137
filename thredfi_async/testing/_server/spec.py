"""The operation table the fake serves, read from the same spec the SDK is generated from.

The fake must agree with the SDK, so it reads the SDK's own spec,
``thredfi_async/_generated/openapi.json``: the vendor ``openapi.yaml`` with the corrections of
``codegen/patches.yaml`` applied (reports answer one object, ``list_bank_accounts`` has no
duplicate ``business_id`` query parameter, the partner token is a form post). It is generated
with the code and shipped in the package, so the fake never re-implements a patch.

``$ref`` pointers are inlined once at load (the spec has no cycles), so validation and response
shaping walk plain dictionaries.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from ..._refs import inline

__all__ = [
    "MethodNotAllowed",
    "Operation",
    "OperationTable",
    "Param",
    "load_spec",
]

PACKAGED_SPEC = Path(__file__).resolve().parents[2] / "_generated" / "openapi.json"
_METHODS = ("get", "post", "put", "patch", "delete")


def load_spec(source: str | Path | Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Read the spec: a mapping or a path given by the caller, else the packaged one."""
    if isinstance(source, Mapping):
        return copy.deepcopy(dict(source))
    path = Path(source) if source is not None else PACKAGED_SPEC
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        data = json.loads(text)
    else:
        import yaml

        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ~8x faster
        data = yaml.load(text, Loader=loader)
    if not isinstance(data, dict):
        raise ValueError(f"{path} does not hold an OpenAPI document")
    return data


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    location: str
    required: bool
    schema: dict[str, Any]


Security = Literal["none", "basic", "partner", "business"]
_SECURITY_BY_SCHEME: dict[str, Security] = {
    "BasicAuth": "basic",
    "BearerUnscoped": "partner",
    "BearerScoped": "business",
}


@dataclass(slots=True)
class Operation:
    """One spec operation plus what the fake derives from it, read from the spec and nowhere else.

    The pipeline branches on these facts, never on an operationId: ``security`` says which
    credentials it takes (``"business"``: a business token, or the partner token of the partner
    owning the business), ``idempotency_header`` whether an ``Idempotency-Key`` is honoured and
    replayed, ``token_exchange`` whether it mints a token.
    """

    operation_id: str
    method: str
    path: str
    segments: tuple[str | None, ...]
    param_names: tuple[str, ...]
    params: tuple[Param, ...]
    body_schema: dict[str, Any] | None
    body_content_types: tuple[str, ...]
    responses: dict[int, dict[str, Any] | None]
    security: Security
    paginated: bool
    idempotency_header: bool
    token_exchange: bool
    body_required: bool = False

    @property
    def any_body_encoding(self) -> bool:
        """The credentials exchange takes its body as JSON, a form, multipart or not at all:
        the docs show each (docs/api-behaviour.md, "Token exchange")."""
        return self.security == "basic"

    def response_schema(self, status: int) -> dict[str, Any] | None:
        if status in self.responses:
            return self.responses[status]
        for code in sorted(self.responses):
            if 200 <= code < 300 and self.responses[code] is not None:
                return self.responses[code]
        return None

    @property
    def query_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.location == "query")

    @property
    def path_params(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.location == "path")


class MethodNotAllowed(Exception):
    def __init__(self, allowed: list[str]) -> None:
        super().__init__(", ".join(allowed))
        self.allowed = allowed


class OperationTable:
    """Routes a method and path to its operation, literal segments winning over parameters."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.operations: dict[str, Operation] = {}
        by_length: dict[int, list[tuple[tuple[int, ...], Operation]]] = {}
        for path, item in inline(spec).get("paths", {}).items():
            common = item.get("parameters", [])
            for method in _METHODS:
                op = item.get(method)
                if not isinstance(op, dict):
                    continue
                operation = _build_operation(path, method, op, common)
                self.operations[operation.operation_id] = operation
                rank = tuple(1 if seg is not None else 0 for seg in operation.segments)
                by_length.setdefault(len(operation.segments), []).append((rank, operation))
        self._by_length = {
            n: [op for _, op in sorted(ops, key=lambda pair: pair[0], reverse=True)]
            for n, ops in by_length.items()
        }

    def match(self, method: str, path: str) -> tuple[Operation, dict[str, str]] | None:
        """The operation for ``method path``; None if no path matches; MethodNotAllowed if only
        another method does."""
        parts = path.split("/")
        allowed: list[str] = []
        best_rank: tuple[int, ...] | None = None
        for op in self._by_length.get(len(parts), ()):
            params = _match_segments(op, parts)
            if params is None:
                continue
            rank = tuple(1 if seg is not None else 0 for seg in op.segments)
            if best_rank is not None and rank != best_rank:
                break  # a more specific template already matched the path
            best_rank = rank
            if op.method == method:
                return op, params
            allowed.append(op.method)
        if allowed:
            raise MethodNotAllowed(allowed)
        return None


def _match_segments(op: Operation, parts: list[str]) -> dict[str, str] | None:
    params: dict[str, str] = {}
    names = iter(op.param_names)
    for template, actual in zip(op.segments, parts, strict=True):
        if template is None:
            if not actual:
                return None
            params[next(names)] = actual
        elif template != actual:
            return None
    return params


def _build_operation(
    path: str, method: str, op: dict[str, Any], common: list[dict[str, Any]]
) -> Operation:
    segments: list[str | None] = []
    names: list[str] = []
    for part in path.split("/"):
        if part.startswith("{") and part.endswith("}"):
            segments.append(None)
            names.append(part[1:-1])
        else:
            segments.append(part)
    merged: dict[tuple[str, str], Param] = {}
    for raw in [*common, *op.get("parameters", [])]:
        param = Param(
            name=raw["name"],
            location=raw["in"],
            required=bool(raw.get("required", raw["in"] == "path")),
            schema=raw.get("schema") or {},
        )
        merged[(param.location, param.name)] = param
    body = op.get("requestBody") or {}
    content = body.get("content") or {}
    body_schema = None
    for media in content.values():
        if isinstance(media, dict) and "schema" in media:
            body_schema = media["schema"]
            break
    responses: dict[int, dict[str, Any] | None] = {}
    for code, response in (op.get("responses") or {}).items():
        if not str(code).isdigit():
            continue
        media_types = (response or {}).get("content") or {}
        schema = None
        for media in media_types.values():
            schema = media.get("schema")
            break
        responses[int(code)] = schema
    security: Security = "none"
    for requirement in op.get("security") or []:
        for scheme in requirement:
            security = _SECURITY_BY_SCHEME.get(scheme, security)
    success = [s for c, s in responses.items() if 200 <= c < 300 and s is not None]
    paginated = any(
        isinstance(s, dict)
        and "results" in s.get("properties", {})
        and ("page_info" in s["properties"] or "next" in s["properties"])
        for s in success
    )
    return Operation(
        operation_id=op["operationId"],
        method=method.upper(),
        path=path,
        segments=tuple(segments),
        param_names=tuple(names),
        params=tuple(merged.values()),
        body_schema=body_schema,
        body_content_types=tuple(content),
        responses=responses,
        security=security,
        paginated=paginated,
        idempotency_header=("header", "Idempotency-Key") in merged,
        token_exchange=any(
            isinstance(s, dict) and "access_token" in s.get("properties", {}) for s in success
        ),
        body_required=bool(body.get("required")),
    )
