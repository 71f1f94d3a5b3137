"""The pre-step: per-operation facts the generator cannot see, computed from the patched spec.

openapi-python-client parses schemas and parameters well, but it does not expose the things the
overlay keys its behaviour on: which resource and method an operation becomes, which token its
`security` asks for, whether it is a paginated list, whether the spec declares an
`Idempotency-Key` header, and which body encoding to use when the spec offers several. This
module derives all of that once, from the spec alone, and `prepare_generator_input` rewrites a
copy of the spec so the generator groups and renders operations the way the facade needs.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass, field
from typing import Any

from thredfi_async._refs import follow

HTTP_METHODS = ("get", "post", "put", "patch", "delete")
SCOPE_BY_SCHEME = {"BasicAuth": "basic", "BearerUnscoped": "partner", "BearerScoped": "business"}
JSON, FORM, MULTIPART = (
    "application/json",
    "application/x-www-form-urlencoded",
    "multipart/form-data",
)


class PlanError(Exception):
    """The spec and names.yaml disagree; generation stops rather than guess."""


@dataclass
class OperationPlan:
    operation_id: str
    http_method: str  # upper case
    path: str
    summary: str
    resource: str
    method_name: str
    scope: str  # "basic" | "partner" | "business"
    tags: list[str]
    path_params: list[str]
    success_statuses: list[int]
    body_encoding: str | None  # "json" | "form" | None
    body_required: bool
    upload_encoding: bool  # a multipart alternative carrying a file exists
    idempotency_header: bool  # the API honours an Idempotency-Key on this operation
    deduplicates_on: str | None  # a body field the API deduplicates creates on (x-idempotent-on)
    paginated: bool
    param_docs: dict[str, str] = field(default_factory=dict)

    @property
    def business_scoped_path(self) -> bool:
        return "business_id" in self.path_params

    def operation_values(self, fields: list[str]) -> dict[str, Any]:
        """This operation's value for each field of thredfi_async._operation.Operation.

        The fields of that dataclass are the one list of per-operation facts: each is read
        from the attribute of the same name here (`method` from `http_method`), and the
        endpoint template writes them all. A field this plan has no attribute for stops
        generation rather than being left at a default.
        """
        values = {}
        for name in fields:
            attribute = _PLAN_ATTRIBUTE.get(name, name)
            if not hasattr(self, attribute):
                raise PlanError(
                    f"Operation.{name} has no value: give OperationPlan a `{attribute}` "
                    "(codegen/plan.py)"
                )
            value = getattr(self, attribute)
            values[name] = tuple(value) if isinstance(value, list) else value
        return values


_PLAN_ATTRIBUTE = {"method": "http_method"}
"""Operation fields whose OperationPlan attribute has another name."""


def _deref(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    try:
        followed: dict[str, Any] = follow(spec, node)
    except ValueError as exc:
        raise PlanError(str(exc)) from None
    return followed


def _method_name(operation_id: str, nouns: list[str], overrides: dict[str, str]) -> str:
    if operation_id in overrides:
        return overrides[operation_id]
    for noun in sorted(nouns, key=len, reverse=True):
        if operation_id.endswith("_" + noun):
            return operation_id[: -len(noun) - 1]
    return operation_id


def _resource_for(
    operation_id: str, tags: list[str], path: str, resources: dict[str, Any]
) -> tuple[str, dict[str, Any]]:
    for name, rule in resources.items():
        if not set(rule.get("tags", [])) & set(tags):
            continue
        if "path_contains" in rule and rule["path_contains"] not in path:
            continue
        return name, rule
    # An operation under a tag names.yaml does not know yet (the API grew): it still gets a
    # resource, named after its tag, so `make generate` alone picks it up. names.yaml can
    # rename or regroup it later.
    tag = tags[0] if tags else "other"
    name = re.sub(r"[^0-9a-z]+", "_", tag.lower()).strip("_") or "other"
    return name, {"tags": [tag], "doc": f"Operations tagged {tag!r} in the spec."}


def _body_plan(spec: dict[str, Any], operation: dict[str, Any]) -> tuple[str | None, bool]:
    body = operation.get("requestBody")
    if not body:
        return None, False
    content: dict[str, Any] = body.get("content", {})
    schema_of = {ctype: media.get("schema") for ctype, media in content.items()}
    primary = JSON if JSON in content else FORM if FORM in content else None
    if primary is None:
        raise PlanError(f"{operation['operationId']}: no JSON or form body among {list(content)}")
    # A multipart variant earns its own entry point only when it differs from the primary
    # schema (in practice: it adds a binary `file`). One schema offered in several content
    # types is sent as JSON (docs/api-behaviour.md, "Multipart bodies": nested fields have no
    # documented multipart form).
    upload = MULTIPART in content and schema_of[MULTIPART] != schema_of[primary]
    return ("json" if primary == JSON else "form"), upload


def _paginated(spec: dict[str, Any], schema: dict[str, Any] | None) -> bool:
    """A list envelope: `results` beside `page_info` or `next` (docs/api-behaviour.md, "List
    envelopes and pagination")."""
    if schema is None:
        return False
    props = _deref(spec, schema).get("properties", {})
    return "results" in props and ("page_info" in props or "next" in props)


def plan_operations(spec: dict[str, Any], names: dict[str, Any]) -> list[OperationPlan]:
    """One OperationPlan per operation of the spec, in spec order."""
    resources: dict[str, Any] = names["resources"]
    overrides: dict[str, str] = names.get("methods", {}) or {}
    global_security = spec.get("security") or []
    plans: list[OperationPlan] = []
    seen: dict[tuple[str, str], str] = {}

    for path, item in spec["paths"].items():
        for http_method in HTTP_METHODS:
            operation = item.get(http_method)
            if operation is None:
                continue
            operation_id = operation["operationId"]
            tags = list(operation.get("tags") or [])
            resource, rule = _resource_for(operation_id, tags, path, resources)
            method_name = _method_name(operation_id, rule.get("nouns", []), overrides)
            key = (resource, method_name)
            if key in seen:
                raise PlanError(
                    f"{operation_id} and {seen[key]} both map to {resource}.{method_name}"
                )
            seen[key] = operation_id

            security = operation.get("security", global_security)
            schemes = [name for requirement in security for name in requirement]
            scopes = {SCOPE_BY_SCHEME[s] for s in schemes if s in SCOPE_BY_SCHEME}
            if len(scopes) != 1:
                raise PlanError(f"{operation_id}: expected one security scheme, got {schemes}")

            params = [_deref(spec, p) for p in item.get("parameters", [])]
            params += [_deref(spec, p) for p in operation.get("parameters", [])]
            success = sorted(int(code) for code in operation["responses"] if code.startswith("2"))
            success_schema = None
            for code in map(str, success):
                media = (operation["responses"][code].get("content") or {}).get(JSON)
                if media and "schema" in media:
                    success_schema = media["schema"]
                    break
            encoding, upload = _body_plan(spec, operation)
            plans.append(
                OperationPlan(
                    operation_id=operation_id,
                    http_method=http_method.upper(),
                    path=path,
                    summary=str(operation.get("summary", "")).strip(),
                    resource=resource,
                    method_name=method_name,
                    scope=scopes.pop(),
                    tags=tags,
                    path_params=[p["name"] for p in params if p.get("in") == "path"],
                    success_statuses=success,
                    body_encoding=encoding,
                    body_required=bool((operation.get("requestBody") or {}).get("required")),
                    upload_encoding=upload,
                    idempotency_header=any(
                        p.get("in") == "header" and p["name"].lower() == "idempotency-key"
                        for p in params
                    ),
                    deduplicates_on=operation.get("x-idempotent-on"),
                    param_docs={
                        p["name"]: " ".join(str(p.get("description", "")).split()) for p in params
                    },
                    paginated=_paginated(spec, success_schema),
                )
            )
    return plans


def prepare_generator_input(spec: dict[str, Any], plans: list[OperationPlan]) -> dict[str, Any]:
    """A copy of the patched spec shaped for openapi-python-client.

    These are generation choices, not corrections of the API (those are patches.yaml):
    * each operation's tags become its one resource, so endpoint modules group by resource;
    * the `Idempotency-Key` header parameter is dropped, because the overlay sends that header
      on every POST and PATCH and fills it from the one `idempotency_key=` argument;
    * a body keeps only the content types the client sends (see `_body_plan`).
    """
    out = copy.deepcopy(spec)
    by_id = {plan.operation_id: plan for plan in plans}
    for item in out["paths"].values():
        for http_method in HTTP_METHODS:
            operation = item.get(http_method)
            if operation is None:
                continue
            plan = by_id[operation["operationId"]]
            operation["tags"] = [plan.resource]
            if "parameters" in operation:
                operation["parameters"] = [
                    p
                    for p in operation["parameters"]
                    if not (
                        p.get("in") == "header" and p.get("name", "").lower() == "idempotency-key"
                    )
                ]
            body = operation.get("requestBody")
            if body:
                keep = {JSON if plan.body_encoding == "json" else FORM}
                if plan.upload_encoding:
                    keep.add(MULTIPART)
                body["content"] = {k: v for k, v in body["content"].items() if k in keep}
    out["tags"] = [{"name": name} for name in dict.fromkeys(plan.resource for plan in plans)]
    return out
