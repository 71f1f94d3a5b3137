"""Python-side helpers the templates call: type annotations and parse expressions per property.

Jinja is good at layout and bad at recursion over types, so the per-property decisions live here
as plain functions over openapi-python-client's parsed properties (pinned version, see
pyproject.toml). Two policies are encoded here and nowhere else:

* Tolerance (docs/api-behaviour.md, "Tolerant parsing"): a value that parses becomes its Python
  type (UUID, datetime, enum member, Decimal, nested model); a value that does not is kept as it
  came. Annotations say so (`UUID | str`, `InvoiceStatus | str`), so the type checker tells the
  truth about what a response can hold.
* Exact money (docs/api-behaviour.md, "Money"): every JSON `number` is a `Decimal`, never a
  float.
"""

from __future__ import annotations

import builtins
import keyword
from typing import Any

# openapi-python-client suffixes names that shadow builtins (`type` -> `type_`). On an attrs
# attribute or a keyword-only argument nothing is shadowed, so the API's own name is kept.
_SHADOW_SAFE = {name for name in dir(builtins) if not keyword.iskeyword(name)}


def raw(text: Any) -> str:
    """The plain string behind openapi-python-client's UntrustedString (or any value)."""
    return str(text.get_untrusted_value()) if hasattr(text, "get_untrusted_value") else str(text)


def kind(prop: Any) -> str:
    """The property's class name without the `Property` suffix (`Uuid`, `Model`, `List`...)."""
    return type(prop).__name__.removesuffix("Property")


def field_name(prop: Any) -> str:
    """The Python name of a property: the generator's, minus needless builtin-shadow suffixes."""
    name = str(prop.python_name)
    if name.endswith("_") and name[:-1] in _SHADOW_SAFE and name[:-1] == raw(prop.name):
        return name[:-1]
    return name


def _non_null(prop: Any) -> list[Any]:
    return [inner for inner in prop.inner_properties if kind(inner) != "None"]


def is_nullable(prop: Any) -> bool:
    if kind(prop) == "Union":
        return any(kind(inner) == "None" for inner in prop.inner_properties)
    return kind(prop) in {"None", "Any"}


def base_type(prop: Any, role: str = "model") -> str:
    """The annotation of a value, without `| None` / `| Unset`.

    role "model": an attribute of a model that responses can hold (money parses to Decimal).
    role "input": an attribute of a request-only model (a caller may give money as int too).
    role "param": an argument of a facade method (what a caller may pass).
    """
    k = kind(prop)
    if k == "String":
        # An id filter takes what the SDK returns for ids (`customer.id`) as well as text.
        if role == "param" and _names_an_id(prop):
            return "UUID | str"
        return "str"
    if k == "Int":
        return "int"
    if k == "Float":
        return "Decimal" if role == "model" else "Decimal | int"
    if k == "Boolean":
        return "bool"
    if k == "Uuid":
        return "UUID | str"
    if k == "Date":
        return "datetime.date | str"
    if k == "DateTime":
        return "datetime.datetime | str"
    if k == "Enum":
        # A response's enum is the enum alone: an unknown value parses to a member made for it.
        # A caller may give the plain value instead.
        if role == "model":
            return str(prop.class_info.name)
        raw_type = "str" if prop.value_type is str else "int"
        return f"{prop.class_info.name} | {raw_type}"
    if k == "LiteralEnum":
        return "str"
    if k == "Const":
        return "Any"
    if k == "Model":
        return str(prop.class_info.name)
    if k == "List":
        inner = base_type(prop.inner_property, role)
        return f"list[{inner}]"
    if k == "Union":
        parts = _non_null(prop)
        if len(parts) == 1:
            return base_type(parts[0], role)
        return "Any"
    if k == "File":
        return "File"
    return "Any"  # Any, None


def _names_an_id(prop: Any) -> bool:
    name = raw(prop.name)
    return name == "id" or name.endswith("_id")


def annotation(prop: Any, role: str = "model") -> str:
    """Full annotation of a model attribute (role "model") or a facade argument (role "param").

    Optional model attributes are `| None | Unset`: several objects are only partly documented,
    so every documented field is treated as optional and nullable (docs/api-behaviour.md,
    "Tolerant parsing"), and `Unset` keeps "absent" apart from an explicit null, which a PATCH
    body needs. Required attributes keep their declared type; a server that drops one anyway
    still parses (the value is then UNSET), it just is not what the annotation promises.
    Optional arguments default to None, which means "do not send".
    """
    text = base_type(prop, role)
    if text == "Any":
        return text
    if is_nullable(prop) or not prop.required:
        text += " | None"
    if role != "param" and not prop.required:
        text += " | Unset"
    return text


def parse_expr(prop: Any, src: str) -> str:
    """An expression turning the raw JSON value `src` into the property's Python value.

    Every converter in thredfi_async._convert passes None, UNSET and values it cannot convert
    through unchanged, so the expression never raises.
    """
    k = kind(prop)
    if k == "Float":
        return f"_c.decimal({src})"
    if k == "Uuid":
        return f"_c.uuid({src})"
    if k == "Date":
        return f"_c.date({src})"
    if k == "DateTime":
        return f"_c.datetime({src})"
    if k == "Enum":
        return f"_c.enum({prop.class_info.name}, {src})"
    if k == "Model":
        return f"_c.model({prop.class_info.name}, {src})"
    if k == "List":
        inner = prop.inner_property
        if kind(inner) == "Model":
            return f"_c.model_list({inner.class_info.name}, {src})"
        item = parse_expr(inner, "item")
        if item == "item":
            return src
        return f"_c.list_of({src}, lambda item: {item})"
    if k == "Union":
        parts = _non_null(prop)
        if len(parts) == 1:
            return parse_expr(parts[0], src)
    return src


def docstring_text(text: Any, width: int = 92) -> str:
    """Text safe inside a triple-quoted docstring, wrapped to `width`."""
    import textwrap

    if text is None:
        return ""
    plain = raw(text).replace("\\", "\\\\").replace('"""', "'''").strip()
    paragraphs = [p.strip() for p in plain.split("\n\n") if p.strip()]
    wrapped = [textwrap.fill(" ".join(p.split()), width=width) for p in paragraphs]
    return "\n\n".join(wrapped)


def lazy_name(import_line: str) -> str:
    """The class an import line brings in (`from ..models.customer import Customer`)."""
    return import_line.rsplit(" import ", 1)[1].strip()


FILTERS = {
    "lazy_name": lazy_name,
    "raw": raw,
    "field_name": field_name,
    "annotation": annotation,
    "parse_expr": parse_expr,
    "doc": docstring_text,
}
