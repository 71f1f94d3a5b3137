"""One module per SDK resource, named as the client's attribute (``thredfi.invoices`` ->
``invoices.py``), each registering with ``@handles`` the operations of that resource.

Modules are found, not listed: :func:`discover` imports every module of this package, so a new
resource module is served as soon as it exists. Modules whose name starts with an underscore
hold what two resources share (rendering, request parsing) and register nothing.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

__all__ = ["discover", "resource_modules"]


def resource_modules() -> dict[str, ModuleType]:
    """Every resource module, imported (importing one registers its handlers), by name."""
    return {
        info.name: importlib.import_module(f"{__name__}.{info.name}")
        for info in pkgutil.iter_modules(__path__)
        if not info.name.startswith("_")
    }


def discover() -> None:
    """Register every handler of the package (idempotent: a module is imported once)."""
    resource_modules()
