"""JSON pointers and local ``$ref`` resolution in the OpenAPI document, written once.

The generator (codegen/), the SDK's input guards, the fake's operation table and the tests all
walk the same spec; they share this module so that a pointer means the same thing to each
(RFC 6901: ``~1`` is ``/`` and ``~0`` is ``~``, unescaped in that order). Only local references
(``#/...``) exist in the Thredfi spec; anything else is refused rather than guessed at.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["follow", "inline", "pointer_parts", "resolve"]


def pointer_parts(pointer: str) -> list[str]:
    """The unescaped tokens of a JSON pointer: ``/paths/~1v1~1`` -> ``paths``, ``/v1/``."""
    if not pointer.startswith("/"):
        raise ValueError(f"a JSON pointer starts with '/': {pointer!r}")
    return [part.replace("~1", "/").replace("~0", "~") for part in pointer[1:].split("/")]


def resolve(document: Mapping[str, Any], ref: str) -> Any:
    """The node a local ``$ref`` (``#/components/schemas/Invoice``) points at."""
    if not ref.startswith("#/"):
        raise ValueError(f"only local $refs are supported, got {ref!r}")
    node: Any = document
    for part in pointer_parts(ref[1:]):
        node = node[part]
    return node


def follow(document: Mapping[str, Any], node: Any) -> Any:
    """``node`` with its chain of ``$ref`` followed to the first node that is not a reference."""
    while isinstance(node, dict) and "$ref" in node:
        node = resolve(document, node["$ref"])
    return node


def inline(document: Mapping[str, Any]) -> Any:
    """A copy of ``document`` with every local ``$ref`` replaced by its target.

    Identical references become the same object, so memory stays flat; a cycle would leave an
    empty placeholder (the Thredfi spec has none).
    """
    memo: dict[str, Any] = {}

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                if ref not in memo:
                    memo[ref] = {}  # placeholder guards against cycles
                    memo[ref] = walk(resolve(document, ref))
                return memo[ref]
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return walk(document)
