"""Finding a record the API says exists (409 `duplicate_external_id`) but whose id is unknown.

Customers, refunds and customer credits do not deduplicate on `external_id`: a repeat is
refused with 409 rather than answered with the stored object (docs/api-behaviour.md,
"Idempotency and deduplication"). After a crash between the create and the checkpoint, the id
is found by listing that kind once per business and matching `external_id`; the index is kept
for the rest of the run.
"""

from __future__ import annotations

from typing import Any

import anyio

from .._client import BusinessView
from ._kinds import KINDS

__all__ = ["ExistingIndex"]


class ExistingIndex:
    """external_id -> id for one business's records of each kind, listed on first need."""

    def __init__(self, view: BusinessView) -> None:
        self._view = view
        self._index: dict[str, dict[str, str]] = {}
        self._lock = anyio.Lock()

    async def find(self, kind: str, external_id: str) -> str | None:
        async with self._lock:
            if kind not in self._index:
                self._index[kind] = await self._list(kind)
        return self._index[kind].get(external_id)

    async def _list(self, kind: str) -> dict[str, str]:
        if any(ref.in_path for ref in KINDS[kind].references):
            return {}  # listed per parent (a refund's payments); such kinds deduplicate anyway
        resource: Any = getattr(self._view, KINDS[kind].resource)
        options = {"include_archived": True} if kind == "customer" else {}
        index: dict[str, str] = {}
        async for item in resource.list(**options):
            data = item.to_dict()
            if data.get("external_id"):
                index[str(data["external_id"])] = str(data["id"])
        return index
