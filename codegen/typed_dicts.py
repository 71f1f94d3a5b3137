"""The TypedDict form of every request body: what `body=` accepts besides the model.

A dict body is sent as given (thredfi_async._operation.encode_body), so without these types a
misspelt key or a float amount was found only by the server. Each request-body schema, and each
object schema nested in one, gets a `<Model>Dict` whose keys are the JSON names, `Required`
where the schema requires them. Values are typed for a caller as the request models are, except
that they follow the spec exactly: `| None` only where the schema is nullable, and an enum
takes its known values only (`<Enum> | Literal[...]`). A JSON number is `Decimal | int`: the SDK
refuses floats (thredfi_async/_json.py), so a float is a type error here already. An object
schema without declared properties (free-form) is a `Mapping`: it has no keys to check.

`register` hands templates/bodies.py.jinja its `body_dicts` and the facade its `body_dict`
filter; generate.py calls it once.
"""

from __future__ import annotations

import keyword
from dataclasses import dataclass, field
from typing import Any

import emit

MULTIPART = "multipart/form-data"
SIMPLE = {
    "String": "str",
    "Int": "int",
    "Float": "Decimal | int",
    "Boolean": "bool",
    "Uuid": "UUID | str",
    "Date": "datetime.date | str",
    "DateTime": "datetime.datetime | str",
    "File": "File",
}


@dataclass
class DictField:
    key: str  # the JSON name
    annotation: str  # the value type, quoted where it names a model
    required: bool
    doc: str
    refs: set[str]  # generated model and enum classes the annotation names


@dataclass
class BodyDict:
    name: str  # `<Model>Dict`
    model: str
    doc: str
    alias: str | None = None  # a free-form body: the Mapping it stands for
    fields: list[DictField] = field(default_factory=list)

    @property
    def functional(self) -> bool:
        """Keys that are no Python identifier need the `TypedDict("Name", {...})` form."""
        return any(not f.key.isidentifier() or keyword.iskeyword(f.key) for f in self.fields)


def dict_name(model_name: str) -> str:
    return f"{model_name}Dict"


def _props(model: Any) -> list[Any]:
    return list(model.required_properties or []) + list(model.optional_properties or [])


def _literal(values: Any) -> str:
    return "Literal[" + ", ".join(repr(v) for v in values) + "]"


def _json_body(endpoint: Any) -> Any:
    """The body a dict stands for: a dict is sent as JSON or form, never as multipart."""
    return next((b for b in endpoint.bodies if emit.raw(b.content_type) != MULTIPART), None)


class Schemas:
    """The parsed models and enums, and the caller-side type of each property."""

    def __init__(self, data: Any) -> None:
        self.models = {str(m.class_info.name): m for m in data.models}
        # Enums are imported at runtime (small StrEnum modules), so they need no quotes.
        self.enums = {str(e.class_info.name) for e in data.enums}

    def free_form(self, model: Any) -> str | None:
        """The Mapping type of an object schema without declared properties, else None."""
        if _props(model):
            return None
        extra = model.additional_properties
        return f"Mapping[str, {'Any' if extra is None else self.value_type(extra)[0]}]"

    def value_type(self, prop: Any) -> tuple[str, set[str]]:
        """A value's type for a caller, without `| None`, and the generated classes it names."""
        k = emit.kind(prop)
        if k in SIMPLE:
            return SIMPLE[k], set()
        if k == "Enum":
            name = str(prop.class_info.name)
            return f"{name} | {_literal(prop.values.values())}", {name}
        if k == "LiteralEnum":  # values are a set: sorted, so the output is stable
            return _literal(sorted(prop.values, key=repr)), set()
        if k == "Const":
            return _literal([prop.value.raw_value]), set()
        if k == "Model":
            name = str(prop.class_info.name)
            free = self.free_form(self.models.get(name, prop))
            if free is not None:
                return f"{name} | {free}", {name}
            return f"{name} | {dict_name(name)}", {name, dict_name(name)}
        if k == "List":
            inner, refs = self.value_type(prop.inner_property)
            return f"Sequence[{inner}]", refs
        if k == "Union":
            typed = [self.value_type(p) for p in prop.inner_properties if emit.kind(p) != "None"]
            if not typed or any(text == "Any" for text, _ in typed):
                return "Any", set()
            texts = dict.fromkeys(text for text, _ in typed)
            return " | ".join(texts), set().union(*(refs for _, refs in typed))
        return "Any", set()  # an untyped schema, or a bare null

    def annotation(self, prop: Any) -> tuple[str, set[str]]:
        """The value type, `| None` where nullable, quoted where it names a model (models are
        imported for type checkers only, and a Dict may name one defined further down)."""
        text, refs = self.value_type(prop)
        if text != "Any" and emit.is_nullable(prop):
            text += " | None"
        return (f'"{text}"' if refs - self.enums else text), refs


def collect(data: Any, schemas: Schemas) -> list[BodyDict]:
    """One BodyDict per request-body model and per model nested in one, sorted by name."""
    found: dict[str, BodyDict] = {}

    def visit(prop: Any, body: bool = False) -> None:
        k = emit.kind(prop)
        if k == "Model":
            name = str(prop.class_info.name)
            model = schemas.models.get(name, prop)
            free = schemas.free_form(model)
            # A nested free-form object is typed in place; only a body needs a named alias.
            if dict_name(name) in found or (free is not None and not body):
                return
            doc = emit.raw(model.description) if model.description else ""
            entry = found[dict_name(name)] = BodyDict(dict_name(name), name, doc, alias=free)
            for inner in _props(model):
                annotation, refs = schemas.annotation(inner)
                doc = emit.raw(inner.description) if inner.description else ""
                key = emit.raw(inner.name)
                entry.fields.append(DictField(key, annotation, bool(inner.required), doc, refs))
                visit(inner)
        elif k == "List":
            visit(prop.inner_property)
        elif k == "Union":
            for inner in prop.inner_properties:
                visit(inner)

    for collection in data.endpoint_collections_by_tag.values():
        for endpoint in collection.endpoints:
            json_body = _json_body(endpoint)
            if json_body is not None:
                visit(json_body.prop, body=True)
    return [found[name] for name in sorted(found)]


def body_dict(endpoint: Any) -> str:
    """The TypedDict `body=` takes on this operation (a jinja filter)."""
    return dict_name(str(_json_body(endpoint).prop.class_info.name))


def register(env: Any, data: Any) -> None:
    """Make the bodies available to the templates."""
    schemas = Schemas(data)
    bodies = collect(data, schemas)
    named = {ref for b in bodies for f in b.fields for ref in f.refs} - {b.name for b in bodies}
    env.filters["body_dict"] = body_dict
    env.globals.update(
        body_dicts=bodies,
        body_dict_enums=sorted(named & schemas.enums),
        body_dict_models=sorted(named - schemas.enums),
    )
