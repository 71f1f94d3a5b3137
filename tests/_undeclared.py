"""Every key of a response that no generated model declares, wherever a model is parsed.

A generated model keeps the keys it does not declare in ``additional_properties``, so the SDK
survives an API that grows. Against the fake that bag must stay empty: the fake serves the very
spec the models come from, so a key it sends that no model declares is a field the spec has not
been taught (codegen/patches.yaml) or one the fake made up.

The census wraps ``from_dict`` of every generated model class, so nested models and list items
are seen too, whichever path (an endpoint, a paginator, a report unwrap) parsed them.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from thredfi_async._generated import models

from .spec_samples import SPEC_PATH


def _pascal(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in name.split("_"))


def declared_maps() -> frozenset[str]:
    """Models whose keys are data, not fields: the spec gives them typed additionalProperties
    and no properties (per-field error lists, sub-tab switches keyed 'parent.child')."""
    spec = json.loads(SPEC_PATH.read_text(encoding="utf-8"))
    found = set()

    def is_map(schema: dict[str, Any]) -> bool:
        extra = schema.get("additionalProperties")
        return isinstance(extra, dict) and bool(extra.keys() & {"type", "$ref"})

    for name, schema in spec["components"]["schemas"].items():
        if is_map(schema) and not schema.get("properties"):
            found.add(name)
        for prop, sub in (schema.get("properties") or {}).items():
            if is_map(sub) and not sub.get("properties"):
                found.add(name + _pascal(prop))
    missing = sorted(name for name in found if not hasattr(models, name))
    assert not missing, f"no generated model for the maps {missing}: the naming rule changed"
    return frozenset(found)


def model_classes() -> list[type[Any]]:
    return [
        cls
        for _, cls in inspect.getmembers(models, inspect.isclass)
        if "from_dict" in cls.__dict__ and hasattr(cls, "__attrs_attrs__")
    ]


class UndeclaredKeys:
    """Records, per model class, the undeclared keys and one example value of each."""

    def __init__(self) -> None:
        self.exempt = declared_maps()
        self.found: dict[str, dict[str, Any]] = {}
        self.parsed = 0

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for cls in model_classes():
            if cls.__name__ not in self.exempt:
                monkeypatch.setattr(cls, "from_dict", self._recording(cls.__dict__["from_dict"]))

    def _recording(self, original: classmethod[Any, ..., Any]) -> classmethod[Any, ..., Any]:
        parse: Callable[..., Any] = original.__func__

        def from_dict(cls: type[Any], src_dict: Any) -> Any:
            obj = parse(cls, src_dict)
            self.parsed += 1
            if obj.additional_properties:
                seen = self.found.setdefault(cls.__name__, {})
                for key, value in obj.additional_properties.items():
                    seen.setdefault(key, value)
            return obj

        return classmethod(from_dict)

    def report(self) -> str:
        return "\n".join(
            f"{name}: " + ", ".join(f"{key}={value!r:.40}" for key, value in sorted(keys.items()))
            for name, keys in sorted(self.found.items())
        )


@contextmanager
def census(monkeypatch: pytest.MonkeyPatch) -> Iterator[UndeclaredKeys]:
    keys = UndeclaredKeys()
    keys.install(monkeypatch)
    yield keys
