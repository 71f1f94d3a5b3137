"""Figures, targets and side-by-side timing.

Absolute times on a shared machine are noise; what survives the noise is a ratio measured in the
same run, with the SDK and its baseline taking turns. So every timing here interleaves the two
(the order alternates each round, so neither always runs on a warmer cache or a quieter
neighbour) and compares medians.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "Figure",
    "Target",
    "interleave",
    "interleave_async",
    "median",
]

Op = Literal["<=", ">=", "=="]


@dataclass(frozen=True)
class Target:
    op: Op
    bound: float

    def met(self, value: float) -> bool:
        if self.op == "<=":
            return value <= self.bound
        if self.op == ">=":
            return value >= self.bound
        return value == self.bound

    def __str__(self) -> str:
        bound = int(self.bound) if float(self.bound).is_integer() else self.bound
        return f"{self.op} {bound}"


@dataclass
class Figure:
    """One result line: a ratio (or a count) and the target it is held to, if any."""

    name: str
    value: float
    target: Target | None
    description: str
    note: str = ""  # absolute numbers, printed under the figure as context
    context: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.target is None:
            return "INFO"
        return "PASS" if self.target.met(self.value) else "MISS"

    def line(self) -> str:
        value = f"{self.value:g}" if float(self.value).is_integer() else f"{self.value:.2f}"
        target = f"target {self.target}" if self.target else "context only"
        line = f"{self.name}: {value} ({target}) {self.status}"
        return f"{line}\n    {self.note}" if self.note else line

    def as_json(self) -> dict[str, Any]:
        return {
            "value": round(self.value, 4),
            "target": str(self.target) if self.target else None,
            "status": self.status,
            "description": self.description,
            "note": self.note,
            "context": self.context,
        }


def median(values: list[float]) -> float:
    return statistics.median(values)


def interleave(
    contenders: Mapping[str, Callable[[], object]], *, rounds: int, number: int
) -> dict[str, list[float]]:
    """Seconds per call of each contender: `rounds` samples of `number` calls, taking turns.

    The starting contender rotates each round. GC runs between samples, not inside them.
    """
    names = list(contenders)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            call = contenders[name]
            gc.collect()
            started = time.perf_counter()
            for _ in range(number):
                call()
            samples[name].append((time.perf_counter() - started) / number)
    return samples


async def interleave_async(
    contenders: Mapping[str, Callable[[], Awaitable[object]]],
    *,
    rounds: int,
    prepare: Mapping[str, Callable[[], Awaitable[object]]] | None = None,
) -> dict[str, list[float]]:
    """Seconds per sample of each async contender (one await each), taking turns as above.

    `prepare[name]`, if given, runs untimed before each of that contender's samples: what
    waiting for the others' turns let lapse (idle pooled connections expire after a few
    seconds) is restored, so a turn is not charged for the wait before it.
    """
    names = list(contenders)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for round_number in range(rounds):
        shift = round_number % len(names)
        for name in names[shift:] + names[:shift]:
            if prepare is not None:
                await prepare[name]()
            gc.collect()
            started = time.perf_counter()
            await contenders[name]()
            samples[name].append(time.perf_counter() - started)
    return samples
