"""Every operation, through the public SDK, against Prism: an implementation of the spec that
shares none of our code, so it cannot share our mistakes.

Each call must be accepted by Prism without a request violation (Prism reports one in an
`sl-violations` header next to the spec's own 4xx example, or as its own problem+json answer
when the spec has none), the token exchanges it needs must run against Prism's token endpoints,
and the response must parse into the operation's model, field by field as the spec describes
it. The walk runs twice: Prism's static examples, then generated responses (dynamic mode with
a fixed seed, so a failure reproduces).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import sys
import typing
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from enum import Enum
from io import BytesIO
from typing import Any
from uuid import UUID

import httpx
import pytest

from thredfi_async import AsyncPaginator, AsyncThredfi, File, Page, ThredfiError, models
from thredfi_async._generated.api.oauth import get_business_token, get_partner_token
from thredfi_async._json import loads

from ..conftest import API_KEY, PARTNER_UUID
from ..spec_samples import (
    SpecOperation,
    binary_properties,
    deref,
    operations,
    resolve,
    sample,
    sample_id,
)
from ..test_operations import BUSINESS_ID, call_arguments, endpoint_module, facade_method
from .conftest import CONFORMING, MODES, WALKED, PrismFactory, PrismServer

pytestmark = pytest.mark.contract

OPERATIONS = operations()
PRISM_ERROR = "https://stoplight.io/prism/errors#"
PARTNER_TOKEN_PATH = get_partner_token.OPERATION.path
BUSINESS_TOKEN_PATH = get_business_token.OPERATION.path.format(business_id=BUSINESS_ID)


# -- what Prism says about a request ----------------------------------------------------------


class Recorder:
    """An httpx response hook: every response the client received, token exchanges included,
    read in full so a failure can show Prism's answer."""

    def __init__(self) -> None:
        self.responses: list[httpx.Response] = []

    async def __call__(self, response: httpx.Response) -> None:
        await response.aread()
        self.responses.append(response)


def violations(response: httpx.Response) -> list[str]:
    """Prism's objections to the request behind `response`, one line each."""
    where = f"{response.request.method} {response.request.url.path}"

    def line(entry: dict[str, Any]) -> str:
        return f"{where}: {'.'.join(map(str, entry.get('location', [])))}: {entry.get('message')}"

    found = [line(entry) for entry in json.loads(response.headers.get("sl-violations") or "[]")]
    if response.headers.get("content-type", "").startswith("application/problem+json"):
        problem = response.json()
        if str(problem.get("type", "")).startswith(PRISM_ERROR):  # Prism's own answer
            summary = f"{where}: {response.status_code} {problem.get('title')}"
            found += [line(entry) for entry in problem.get("validation") or []] or [summary]
    return found


def assert_no_violations(responses: list[httpx.Response]) -> None:
    found = [line for response in responses for line in violations(response)]
    assert not found, "Prism reports request violations:\n" + "\n".join(found)


@asynccontextmanager
async def recording_client(server: PrismServer) -> AsyncIterator[tuple[AsyncThredfi, Recorder]]:
    recorder = Recorder()
    http_client = httpx.AsyncClient(event_hooks={"response": [recorder]}, trust_env=False)
    async with AsyncThredfi(
        PARTNER_UUID, API_KEY, base_url=server.url, http_client=http_client, max_retries=0
    ) as client:
        yield client, recorder


# -- what the SDK made of the response --------------------------------------------------------

_FORMATS: dict[str, type] = {"uuid": UUID, "date-time": dt.datetime, "date": dt.date}


def shape_problems(parsed: Any, raw: Any, schema: dict[str, Any], where: str) -> list[str]:
    """Where `parsed` is not the typed form of the JSON value `raw` that `schema` describes.

    The models are tolerant (a value that does not parse is kept raw), so an isinstance check
    on the top-level model alone would miss a converter that gave up on a valid value.
    """
    schema = resolve(schema)
    if raw is None:
        return [] if parsed is None else [f"{where}: null parsed as {parsed!r}"]
    if "enum" in schema:
        ok = isinstance(parsed, Enum) and parsed.value == raw
        return [] if ok else [f"{where}: enum value {raw!r} parsed as {parsed!r}"]
    if "properties" in schema:
        fields = getattr(sys.modules[type(parsed).__module__], "_FIELDS", None)
        if fields is None or not isinstance(raw, dict):
            return [f"{where}: object parsed as {type(parsed).__name__}"]
        attribute = {key: name for name, key in fields}
        found: list[str] = []
        for key, value in raw.items():
            if key in schema["properties"]:
                found += shape_problems(
                    getattr(parsed, attribute[key]),
                    value,
                    schema["properties"][key],
                    f"{where}.{key}",
                )
            elif parsed.additional_properties.get(key, object()) != value:
                found.append(f"{where}.{key}: undeclared field not kept")
        return found
    kind = schema.get("type")
    if kind == "object":  # free-form: a model of only additional_properties, or a dict
        kept = getattr(parsed, "additional_properties", parsed)
        return [] if kept == raw else [f"{where}: {raw!r} parsed as {parsed!r}"]
    if kind == "array":
        if type(parsed) is not list or len(parsed) != len(raw):
            return [f"{where}: array parsed as {parsed!r}"]
        item_schema = schema.get("items", {})
        return [
            problem
            for index, (item, raw_item) in enumerate(zip(parsed, raw, strict=True))
            for problem in shape_problems(item, raw_item, item_schema, f"{where}[{index}]")
        ]
    typed: type | None = Decimal if kind == "number" else None
    if kind == "string":
        typed = _FORMATS.get(schema.get("format", ""))
    if typed is not None:
        ok = isinstance(parsed, typed)
        return [] if ok else [f"{where}: {schema.get('format', kind)} {raw!r} kept as {parsed!r}"]
    return [] if parsed == raw else [f"{where}: {raw!r} parsed as {parsed!r}"]


def declared_result(op: SpecOperation) -> tuple[type | None, bool]:
    """The model parse_response is annotated to return, and whether None is allowed."""
    declared = typing.get_type_hints(endpoint_module(op).parse_response)["return"]
    options = typing.get_args(declared) or (declared,)
    models_ = [t for t in options if t is not type(None)]
    assert len(models_) <= 1, declared
    return (models_[0] if models_ else None), type(None) in options


def assert_parsed(
    op: SpecOperation, result: Any, paginator: AsyncPaginator[Any] | None, response: httpx.Response
) -> None:
    model, optional = declared_result(op)
    if paginator is not None:
        assert isinstance(result, Page), result
        assert all(isinstance(item, paginator.item_type) for item in result.results), (
            f"items should be {paginator.item_type.__name__}: {result.results!r}"
        )
        result = result.envelope
    if not response.content:
        assert result is None, result
        assert optional or model is None, f"{op.operation_id}: empty body, result {model}"
        return
    assert model is not None, f"{op.operation_id} declares no result, got {response.text!r}"
    assert isinstance(result, model), f"expected {model.__name__}, got {result!r}"
    content = op.operation["responses"][str(response.status_code)]["content"]
    problems = shape_problems(
        result, loads(response.content), content["application/json"]["schema"], op.operation_id
    )
    assert not problems, "response not parsed as the spec describes:\n" + "\n".join(problems)


# -- the walk ---------------------------------------------------------------------------------


def upload_model(op: SpecOperation) -> type | None:
    """The generated model an operation takes to send a file (multipart), if it has one."""
    module = endpoint_module(op)
    uploads = [v for k, v in vars(module).items() if k.endswith("Upload") and isinstance(v, type)]
    return uploads[0] if uploads else None


def multipart_body(op: SpecOperation, upload: type) -> Any:
    """The upload model with every scalar field of a full sample, and a small file.

    Nested fields are left out: the SDK sends them as application/json parts (the OpenAPI
    default for objects in multipart), which Prism 5.16 cannot parse and reports as type
    violations (stoplightio/prism#2380); the API documents no encoding for them either
    (docs/api-behaviour.md, "Multipart bodies").
    """
    schema = op.body_schema("multipart/form-data")
    assert schema is not None, op.operation_id
    scalars = {
        key: value
        for key, value in sample(schema, "body").items()
        if not isinstance(value, dict | list)
    }
    body = upload.from_dict(scalars)  # type: ignore[attr-defined]
    for name in binary_properties(schema):
        payload = BytesIO(b"%PDF-1.4 contract test")
        setattr(body, name, File(payload=payload, file_name="doc.pdf", mime_type="application/pdf"))
    return body


def expected_paths(op: SpecOperation, path_values: dict[str, str]) -> list[str]:
    """The token exchanges the operation's scope needs, then the call itself."""
    scope = endpoint_module(op).OPERATION.scope
    tokens = {
        "basic": [],
        "partner": [PARTNER_TOKEN_PATH],
        "business": [PARTNER_TOKEN_PATH, BUSINESS_TOKEN_PATH],
    }[scope]
    return [*tokens, op.path.format(**path_values)]


def expected_authorization(op: SpecOperation, responses: list[httpx.Response]) -> str:
    """Basic for basic-scoped calls, else the token Prism's token endpoint just issued."""
    scope = endpoint_module(op).OPERATION.scope
    if scope == "basic":
        return "Basic " + base64.b64encode(f"{PARTNER_UUID}:{API_KEY}".encode()).decode()
    issued = responses[0 if scope == "partner" else 1].json()["access_token"]
    return f"Bearer {issued}"


def test_the_walk_covers_the_93_operations_of_the_spec() -> None:
    assert len(OPERATIONS) == 93
    assert len({op.operation_id for op in OPERATIONS}) == 93


@pytest.mark.asyncio
@pytest.mark.parametrize("op", OPERATIONS, ids=lambda op: op.operation_id)
@pytest.mark.parametrize("mode", list(MODES))
async def test_every_operation_conforms_to_prism(
    op: SpecOperation, mode: str, prism: PrismFactory
) -> None:
    WALKED[mode] += 1
    server = prism(mode)
    async with recording_client(server) as (client, recorder):
        method = facade_method(client, op)
        args, kwargs, path_values, _ = call_arguments(method, op)
        upload = upload_model(op)
        if upload is not None:
            kwargs["body"] = multipart_body(op, upload)
        call = method(*args, **kwargs)
        paginator = call if isinstance(call, AsyncPaginator) else None
        try:
            result = await call
        except ThredfiError:
            assert_no_violations(recorder.responses)  # the violation explains the error best
            raise

    responses = recorder.responses
    assert_no_violations(responses)
    assert [r.request.url.path for r in responses] == expected_paths(op, path_values)
    assert all(r.is_success for r in responses), [(r.status_code, r.text) for r in responses]
    request = responses[-1].request
    assert request.method == op.method
    assert request.headers["authorization"] == expected_authorization(op, responses)
    if upload is not None:
        assert request.headers["content-type"].startswith("multipart/form-data; boundary=")
    assert_parsed(op, result, paginator, responses[-1])
    CONFORMING[mode] += 1


@pytest.mark.asyncio
async def test_create_invoice_as_json_conforms_too(prism: PrismFactory) -> None:
    """The walk sends create_invoice as multipart; the dict body takes the JSON path."""
    async with recording_client(prism("static")) as (client, recorder):
        invoice = await client.business(BUSINESS_ID).invoices.create(
            body={"customer_id": sample_id("customer"), "memo": "json, no file"}
        )
    assert_no_violations(recorder.responses)
    assert recorder.responses[-1].request.headers["content-type"] == "application/json"
    assert isinstance(invoice, models.Invoice)


# -- the checks can fail ----------------------------------------------------------------------

CREATE_BUSINESS = next(op for op in OPERATIONS if op.operation_id == "create_business")


@pytest.mark.asyncio
async def test_a_malformed_body_is_reported_by_prism_and_fails_the_check(
    prism: PrismFactory,
) -> None:
    """create_business without legal_name and with a number for external_id; the spec has no
    4xx example for it, so Prism answers with its own problem document."""
    schema = CREATE_BUSINESS.body_schema("application/json")
    assert schema is not None
    body = sample(schema, "body", full=False)
    del body["legal_name"]
    body["external_id"] = 42
    async with recording_client(prism("static")) as (client, recorder):
        with pytest.raises(ThredfiError):
            await client.businesses.create(body=body)

    found = [line for response in recorder.responses for line in violations(response)]
    assert any("legal_name" in line for line in found), found
    assert any("body.external_id" in line for line in found), found
    with pytest.raises(AssertionError, match="legal_name"):
        assert_no_violations(recorder.responses)


@pytest.mark.asyncio
async def test_a_violation_reported_in_the_sl_violations_header_fails_the_check(
    prism: PrismFactory,
) -> None:
    """create_invoice documents a 400: Prism answers with it and puts the violation in the
    `sl-violations` header instead of a problem document."""
    async with recording_client(prism("static")) as (client, recorder):
        with pytest.raises(ThredfiError):
            await client.business(BUSINESS_ID).invoices.create(body={"customer_id": "nope"})

    last = recorder.responses[-1]
    assert "sl-violations" in last.headers
    assert not last.headers["content-type"].startswith("application/problem+json")
    with pytest.raises(AssertionError, match=r"body\.customer_id: .*uuid"):
        assert_no_violations(recorder.responses)


def test_the_parse_check_flags_a_value_the_model_kept_raw() -> None:
    """A uuid, a date-time and a nested object that did not parse are each reported."""
    schema = deref({"$ref": "#/components/schemas/Invoice"})
    raw = {
        "id": "not-a-uuid",
        "sent_at": "yesterday",
        "customer": "not an object",
        "invoice_number": "fine",
    }
    parsed = models.Invoice.from_dict(raw)
    problems = shape_problems(parsed, raw, schema, "invoice")
    assert [p.split(":")[0] for p in problems] == [
        "invoice.id",
        "invoice.sent_at",
        "invoice.customer",
    ]
    good = sample(schema, "invoice")
    assert shape_problems(models.Invoice.from_dict(good), good, schema, "invoice") == []
