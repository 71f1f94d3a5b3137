"""What an import did: counts per business, kind and outcome, the failures and their reasons."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Literal

from .._exceptions import ThredfiError

__all__ = ["Failure", "ImportReport", "Outcome"]

Outcome = Literal["created", "present", "resumed", "failed", "skipped"]
"""created: 201. present: it already existed at the API (200, or 409 then found). resumed: the
checkpoint says it is done, so nothing was sent. failed: refused (a 4xx, or retries ran out),
or invalid locally. skipped: a record it depends on failed or is absent."""

OUTCOMES: tuple[Outcome, ...] = ("created", "present", "resumed", "failed", "skipped")


@dataclass(frozen=True, slots=True)
class Failure:
    """One record that was not created, and why: `error` is the typed error when the API spoke."""

    business_id: str
    kind: str
    external_id: str | None
    outcome: Literal["failed", "skipped"]
    reason: str
    error: ThredfiError | None = None
    source: str | None = None


@dataclass(slots=True)
class ImportReport:
    counts: Counter[tuple[str, str, Outcome]] = field(default_factory=Counter)
    failures: list[Failure] = field(default_factory=list)
    wall_time: float = 0.0
    requests: int = 0  # creates sent (not retries), lookups after a 409 included

    def add(self, business_id: str, kind: str, outcome: Outcome) -> None:
        self.counts[(business_id, kind, outcome)] += 1

    def total(
        self, outcome: Outcome, *, business_id: str | None = None, kind: str | None = None
    ) -> int:
        return sum(
            n
            for (b, k, o), n in self.counts.items()
            if o == outcome and business_id in (None, b) and kind in (None, k)
        )

    def by_kind(self) -> dict[str, dict[Outcome, int]]:
        table: dict[str, dict[Outcome, int]] = {}
        for (_, kind, outcome), n in sorted(self.counts.items()):
            row = table.setdefault(kind, dict.fromkeys(OUTCOMES, 0))
            row[outcome] += n
        return table

    @property
    def rate(self) -> float:
        """Records created or found present per second of wall time."""
        done = self.total("created") + self.total("present")
        return done / self.wall_time if self.wall_time > 0 else 0.0

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self) -> str:
        parts = [f"{o} {self.total(o)}" for o in OUTCOMES]
        return f"{', '.join(parts)} in {self.wall_time:.1f} s ({self.rate:.0f}/s)"
