"""Machine-readable progress: what an import or a fan-out tells its `on_event` callback.

A callback rather than a log line, so a caller meters, logs or draws as it likes; the rich
display (`_progress.py`) is one such callback. Callbacks are plain functions: they run inside
the import and must not block.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._report import Outcome

if TYPE_CHECKING:
    from ._report import ImportReport

__all__ = ["Event", "EventCallback", "Finished", "Planned", "RecordDone"]


@dataclass(frozen=True, slots=True)
class Planned:
    """Sent once, before the first request: how many records of each kind will be handled."""

    totals: Mapping[str, int]
    businesses: int


@dataclass(frozen=True, slots=True)
class RecordDone:
    """One record settled. `id` is the API's id (created, present or resumed)."""

    business_id: str
    kind: str
    external_id: str | None
    outcome: Outcome
    id: str | None = None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class Finished:
    report: ImportReport | Any


Event = Planned | RecordDone | Finished
EventCallback = Callable[[Event], None]
