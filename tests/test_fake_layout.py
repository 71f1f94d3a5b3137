"""The fake is laid out as the SDK is: one handler module per client resource.

A newcomer looking for the fake's ``thredfi.bills.void`` opens ``_handlers/bills.py``. These
tests keep that true: each resource module handles exactly the operations the generated client
puts on that resource, shared helper modules handle nothing, and every operation of the spec is
handled by some module (found by discovery, never by a list to keep in step).
"""

from __future__ import annotations

import importlib
import pkgutil
from collections import defaultdict
from pathlib import Path

from thredfi_async import AsyncThredfi
from thredfi_async._generated import api
from thredfi_async.testing import _handlers
from thredfi_async.testing._server.context import HANDLERS
from thredfi_async.testing._server.spec import OperationTable, load_spec


def sdk_resources() -> dict[str, set[str]]:
    """resource attribute -> operationIds, as the generated endpoint modules declare them."""
    resources: dict[str, set[str]] = defaultdict(set)
    for package in pkgutil.iter_modules(api.__path__):
        module = importlib.import_module(f"{api.__name__}.{package.name}")
        for endpoint in pkgutil.iter_modules(module.__path__):
            operation = importlib.import_module(f"{module.__name__}.{endpoint.name}").OPERATION
            resources[operation.resource].add(operation.operation_id)
    return dict(resources)


def handled_by_module() -> dict[str, set[str]]:
    _handlers.discover()
    handled: dict[str, set[str]] = defaultdict(set)
    for operation_id, handler in HANDLERS.items():
        handled[handler.__module__.rpartition(".")[2]].add(operation_id)
    return dict(handled)


def test_each_handler_module_is_named_after_a_client_resource() -> None:
    resources = sdk_resources()
    modules = set(_handlers.resource_modules())
    assert modules == set(resources)
    for name in modules:
        assert hasattr(AsyncThredfi, name), f"thredfi.{name} is not a client resource"


def test_each_handler_module_handles_exactly_its_resources_operations() -> None:
    resources = sdk_resources()
    handled = handled_by_module()
    for name in _handlers.resource_modules():
        assert handled.get(name, set()) == resources[name], name


def test_shared_handler_modules_register_nothing() -> None:
    handled = handled_by_module()
    shared = {
        info.name for info in pkgutil.iter_modules(_handlers.__path__) if info.name.startswith("_")
    }
    assert shared, "the test would pass vacuously"
    assert not shared & set(handled)


def test_every_operation_of_the_spec_is_handled() -> None:
    _handlers.discover()
    table = OperationTable(load_spec())
    assert set(table.operations) == set(HANDLERS)
    assert len(HANDLERS) == 93


def test_every_layer_is_a_package_the_wheel_ships() -> None:
    # setuptools' packages.find skips a directory without __init__.py: the fake would import
    # from a checkout and fail from the wheel.
    root = Path(_handlers.__file__).resolve().parents[1]
    layers = [path for path in root.iterdir() if path.is_dir() and path.name != "__pycache__"]
    assert {layer.name for layer in layers} >= {"_server", "_books", "_handlers"}
    for layer in layers:
        assert (layer / "__init__.py").is_file(), layer.name
