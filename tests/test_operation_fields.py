"""The fields of `Operation` are the one list of per-operation facts.

codegen/plan.py gives each field a value and the endpoint template writes every one, so a fact
added to `Operation` alone stops generation, and one left out of the generated modules fails
here, instead of every operation silently keeping a default.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from thredfi_async._operation import Operation

ROOT = Path(__file__).resolve().parent.parent
OPERATION_SOURCE = ROOT / "thredfi_async" / "_operation.py"
FIELDS = [field.name for field in dataclasses.fields(Operation)]


@pytest.fixture(scope="module")
def generate() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "_codegen_generate", ROOT / "codegen" / "generate.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def plans(generate: ModuleType) -> list[Any]:
    spec = generate.apply_patches(
        generate.load_yaml(ROOT / "openapi.yaml"),
        generate.load_yaml(ROOT / "codegen" / "patches.yaml"),
    )
    result: list[Any] = generate.plan_operations(
        spec, generate.load_yaml(ROOT / "codegen" / "names.yaml")
    )
    return result


def test_the_generator_reads_the_fields_the_dataclass_declares(generate: ModuleType) -> None:
    assert generate.operation_fields(OPERATION_SOURCE) == FIELDS


def test_every_endpoint_module_passes_every_field_with_the_planned_value(
    generate: ModuleType, plans: list[Any]
) -> None:
    for plan in plans:
        module = importlib.import_module(
            f"thredfi_async._generated.api.{plan.resource}.{plan.operation_id}"
        )
        source = Path(module.__file__ or "").read_text(encoding="utf-8")
        call = next(
            node.value
            for node in ast.parse(source).body
            if isinstance(node, ast.Assign)
            and [getattr(t, "id", None) for t in node.targets] == ["OPERATION"]
        )
        assert isinstance(call, ast.Call)
        assert [keyword.arg for keyword in call.keywords] == FIELDS, plan.operation_id
        planned = dict(generate.operation_arguments(plan, FIELDS))
        for name in FIELDS:
            assert getattr(module.OPERATION, name) == ast.literal_eval(planned[name]), (
                plan.operation_id,
                name,
            )


def test_a_field_added_to_operation_alone_stops_generation(
    generate: ModuleType, plans: list[Any], tmp_path: Path
) -> None:
    source = OPERATION_SOURCE.read_text(encoding="utf-8")
    anchor = "    idempotency_header: bool"
    assert anchor in source
    grown = tmp_path / "_operation.py"
    grown.write_text(
        source.replace(anchor, "    settles_in_days: int | None = None\n" + anchor),
        encoding="utf-8",
    )
    fields = generate.operation_fields(grown)
    assert "settles_in_days" in fields
    assert len(fields) == len(FIELDS) + 1
    with pytest.raises(generate.GenerationError, match=r"Operation\.settles_in_days has no value"):
        generate.operation_arguments(plans[0], fields)
