"""The API reference pages: mkdocstrings directives for the whole public surface.

The pages are computed from the package at build time rather than written by hand, so that
what the site lists is what the package exports: every resource in `RESOURCE_NAMES`, every
model, body and fake-API name in its module's `__all__`. The top-level names are grouped by
hand (a grouping is a judgement), and a new one that no group or the errors page takes fails
the build instead of going undocumented.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Iterable, Mapping
from types import ModuleType

from page import Page

import thredfi_async
import thredfi_async.bodies
import thredfi_async.bulk
import thredfi_async.otel
import thredfi_async.redis
import thredfi_async.testing
from thredfi_async._generated import models as generated_models
from thredfi_async._generated import resources

# Page slug -> (title, the top-level names on it, in reading order).
_GROUPS: dict[str, tuple[str, tuple[str, ...]]] = {
    "client": (
        "The client",
        ("AsyncThredfi", "BusinessView", "DEFAULT_TIMEOUT", "ENVIRONMENTS", "APIResponse"),
    ),
    "sync": ("The sync client", ("Thredfi", "SyncBusinessView", "SyncPaginator", "SyncPage")),
    "pagination": ("Pagination", ("AsyncPaginator", "Page")),
    "retries": ("Retries and waiting", ("RetryPolicy", "Clock", "SystemClock")),
    "tokens": ("Tokens", ("Token", "TokenStore", "InMemoryTokenStore", "SharedTokenStore")),
    "pacing": (
        "Pacing",
        ("Throttle", "LocalThrottle", "Rate", "Adaptive", "ThrottleStats"),
    ),
    "hooks": (
        "Hooks",
        ("Hook", "CallInfo", "AttemptInfo", "AttemptHeaders", "HookError", "PROTECTED_HEADERS"),
    ),
    "values": ("Sentinels and files", ("NOT_GIVEN", "NotGiven", "UNSET", "Unset", "File")),
}
# Documented elsewhere: the models on their own page, the version on none.
_NOT_GROUPED = frozenset({"models", "__version__"})

# Options for objects reached through a private module: their private path is no address.
_SHORT_NAMES = {"show_root_full_path": False}
# An enum's members have no docstring each, and are what the reader came for.
_MODEL_OPTIONS = {"show_root_heading": False, "show_if_no_docstring": True}


def pages() -> list[Page]:
    """Every reference page, in the order the navigation lists them."""
    grouped = [
        _objects_page(f"reference/{slug}.md", title, names, "thredfi_async")
        for slug, (title, names) in _GROUPS.items()
    ]
    errors = _objects_page("reference/errors.md", "Errors", _error_names(), "thredfi_async")
    return [
        grouped[0],
        errors,
        *grouped[1:],
        *_resource_pages(),
        *_model_pages(),
        _module_page(
            "reference/bodies.md",
            "Request bodies",
            thredfi_async.bodies,
            thredfi_async.bodies.__all__,
            "thredfi_async._generated.bodies",
        ),
        _module_page(
            "reference/testing.md",
            "The fake API",
            thredfi_async.testing,
            thredfi_async.testing.__all__,
            short_names=False,
        ),
        _module_page(
            "reference/otel.md", "OpenTelemetry", thredfi_async.otel, thredfi_async.otel.__all__
        ),
        _module_page(
            "reference/redis.md", "Redis", thredfi_async.redis, thredfi_async.redis.__all__
        ),
        _module_page(
            "reference/bulk.md", "Bulk import", thredfi_async.bulk, thredfi_async.bulk.__all__
        ),
    ]


def resource_class(name: str) -> type:
    """The resource class behind `thredfi.<name>`, read from the attribute's annotation."""
    attribute = inspect.getattr_static(resources.ResourceFacade, name)
    annotations = inspect.get_annotations(attribute.func, eval_str=True)
    cls: type = annotations["return"]
    return cls


def _error_names() -> list[str]:
    """Every exported ThredfiError no group takes, in the order their modules define them."""
    taken = {name for _, names in _GROUPS.values() for name in names} | _NOT_GROUPED
    errors, strays = [], []
    for name in thredfi_async.__all__:
        value = getattr(thredfi_async, name)
        if name in taken:
            continue
        if isinstance(value, type) and issubclass(value, thredfi_async.ThredfiError):
            errors.append(value)
        else:
            strays.append(name)
    if strays:
        raise ValueError(
            f"thredfi_async exports {', '.join(strays)}, which no reference page lists: "
            "add them to a group in docsite/reference.py"
        )
    missing = taken - _NOT_GROUPED - set(thredfi_async.__all__)
    if missing:
        raise ValueError(f"docsite/reference.py groups names not exported: {sorted(missing)}")

    def defined_at(cls: type) -> tuple[str, int]:
        return cls.__module__, list(vars(sys.modules[cls.__module__])).index(cls.__name__)

    return [cls.__name__ for cls in sorted(errors, key=defined_at)]


def _resource_pages() -> list[Page]:
    rows = []
    result = []
    for name in resources.RESOURCE_NAMES:
        cls = resource_class(name)
        rows.append(f"| [`thredfi.{name}`]({name}.md) | {_summary(cls)} |")
        result.append(
            Page(
                f"reference/resources/{name}.md",
                name,
                f"# `thredfi.{name}`\n\n"
                f"Also `thredfi.business(business_id).{name}`, with `business_id` bound.\n\n"
                + _directive(f"{cls.__module__}.{cls.__name__}", _SHORT_NAMES),
            )
        )
    index = Page(
        "reference/resources/index.md",
        "Resources",
        "# Resources\n\n"
        "One attribute of the client (and of every `thredfi.business(id)` view) per resource, "
        "one async method per operation; [Operations](../../operations.md) maps them to the "
        "API's endpoints.\n\n"
        "| Attribute | What it covers |\n|---|---|\n" + "\n".join(rows) + "\n",
    )
    return [index, *result]


def _model_pages() -> list[Page]:
    """An index of every model and enum, and a page each: on one page they weigh megabytes."""
    rows, result = [], []
    for name in generated_models.__all__:
        rows.append(f"| [`{name}`]({name}.md) | {_summary(getattr(generated_models, name))} |")
        body = _directive(f"thredfi_async._generated.models.{name}", _MODEL_OPTIONS)
        markdown = f"# {name}\n\n{body}"
        result.append(Page(f"reference/models/{name}.md", name, markdown, in_nav=False))
    header = _directive("thredfi_async.models", {"members": False, "show_root_heading": False})
    table = "| Model | What it is |\n|---|---|\n" + "\n".join(rows) + "\n"
    return [Page("reference/models/index.md", "Models", f"# Models\n\n{header}\n{table}"), *result]


def _objects_page(path: str, title: str, names: Iterable[str], module: str) -> Page:
    body = "\n".join(_directive(f"{module}.{name}") for name in names)
    return Page(path, title, f"# {title}\n\n{body}")


def _module_page(
    path: str,
    title: str,
    module: ModuleType,
    names: Iterable[str],
    defined_in: str | None = None,
    *,
    short_names: bool = True,
) -> Page:
    """The module's docstring, then each of `names` as defined in `defined_in`."""
    module_name = module.__name__
    options = _SHORT_NAMES if short_names else {}
    members = "\n".join(
        _directive(f"{defined_in or module_name}.{name}", options) for name in names
    )
    header = _directive(module_name, {"members": False, "show_root_heading": False})
    return Page(path, title, f"# {title}\n\n{header}\n{members}")


def _summary(obj: object) -> str:
    """The first paragraph of the docstring, as one table cell."""
    first = (inspect.getdoc(obj) or "").split("\n\n")[0]
    return first.replace("\n", " ").replace("|", "\\|")


def _directive(identifier: str, options: Mapping[str, object] | None = None) -> str:
    lines = [f"::: {identifier}"]
    if options:
        lines.append("    options:")
        lines.extend(f"      {key}: {_yaml(value)}" for key, value in options.items())
    return "\n".join(lines) + "\n"


def _yaml(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)
