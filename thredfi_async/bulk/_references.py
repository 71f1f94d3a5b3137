"""References between records: which records one needs first, and its body with their ids.

A record may name another by its `external_id` (`invoice_external_id` beside or instead of
`invoice_id`, `payment_external_ids` for `payment_ids`); the importer swaps in the id created
for that record in the same business. Where the API itself takes the external id
(`customer_external_id` on invoices) the field is sent as given and only orders the records.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from ._kinds import KINDS, Reference

__all__ = ["Key", "dependencies", "resolve"]

Key = tuple[str, str]
"""(kind, external_id): a record within its business."""


def _containers(data: Any, path: tuple[str, ...]) -> Iterator[Any]:
    """The objects holding the last field of `path` ("*" walks a list)."""
    if not path[:-1]:
        yield data
        return
    head, rest = path[0], path[1:]
    if head == "*":
        if isinstance(data, list | tuple):
            for item in data:
                yield from _containers(item, rest)
    elif isinstance(data, Mapping) and head in data:
        yield from _containers(data[head], rest)


def _named(container: Any, ref: Reference) -> list[str]:
    if not isinstance(container, Mapping) or ref.external_name not in container:
        return []
    value = container[ref.external_name]
    if ref.many:
        return [str(v) for v in value] if isinstance(value, list | tuple) else []
    return [str(value)]


def dependencies(kind: str, data: Mapping[str, Any]) -> list[Key]:
    """The records (by kind and external id) that must exist before this one is created."""
    found: list[Key] = []
    for ref in KINDS[kind].references:
        for container in _containers(data, ref.path):
            found.extend((ref.target, name) for name in _named(container, ref))
    return list(dict.fromkeys(found))


def _copy(data: Any) -> Any:
    if isinstance(data, Mapping):
        return {k: _copy(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_copy(v) for v in data]
    return data


def resolve(
    kind: str, data: Mapping[str, Any], ids: Mapping[Key, str]
) -> tuple[dict[str, Any], dict[str, str]]:
    """The body to send and the path parameters, every external reference replaced by its id.

    `ids` must hold every key `dependencies` named (the importer checks before calling).
    """
    body: dict[str, Any] = _copy(data)
    path: dict[str, str] = {}
    for ref in KINDS[kind].references:
        for container in _containers(body, ref.path):
            if not isinstance(container, dict):
                continue
            names = _named(container, ref)
            if ref.in_path:
                value = ids[(ref.target, names[0])] if names else container.get(ref.field)
                container.pop(ref.external_name, None)
                container.pop(ref.field, None)
                if value is not None:
                    path[ref.field] = str(value)
                continue
            if not names or ref.sent_as_is:
                continue
            del container[ref.external_name]
            resolved = [ids[(ref.target, name)] for name in names]
            container[ref.field] = resolved if ref.many else resolved[0]
    return body, path
