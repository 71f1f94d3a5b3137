"""The terminal display of an import: overall and per-kind bars with rate, ETA and errors.

Rich comes with the `cli` extra; the display is an ordinary event callback, so it is used
only when asked for and attached to a terminal (`progress_callback`), and silent otherwise.
"""

from __future__ import annotations

import sys
from contextlib import AbstractContextManager, nullcontext
from typing import Any, TextIO

from ._events import Event, EventCallback, Finished, Planned, RecordDone

__all__ = ["RichProgress", "progress_callback"]


class RichProgress:
    """An event callback drawing rich progress bars; use it as a context manager."""

    def __init__(self, file: TextIO | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
        )

        self.progress = Progress(
            TextColumn("{task.description:<24}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeRemainingColumn(),
            TextColumn("[red]{task.fields[errors]}"),
            console=Console(file=file or sys.stderr),
        )
        self._tasks: dict[str, Any] = {}
        self._errors: dict[str, int] = {}

    def __enter__(self) -> RichProgress:
        self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.stop()

    def __call__(self, event: Event) -> None:
        if isinstance(event, Planned):
            total = sum(event.totals.values())
            self._tasks[""] = self.progress.add_task("all", total=total, rate="", errors="")
            for kind, n in event.totals.items():
                self._tasks[kind] = self.progress.add_task(kind, total=n, rate="", errors="")
        elif isinstance(event, RecordDone):
            for name in ("", event.kind):
                task = self._tasks.get(name)
                if task is None:
                    continue
                if event.outcome in ("failed", "skipped"):
                    self._errors[name] = self._errors.get(name, 0) + 1
                errors = self._errors.get(name, 0)
                self.progress.advance(task)
                speed = self.progress.tasks[task].speed
                self.progress.update(
                    task,
                    rate=f"{speed:6.0f}/s" if speed else "",
                    errors=f"{errors} errors" if errors else "",
                )
        elif isinstance(event, Finished):
            self.progress.refresh()


def progress_callback(
    asked: bool, events: EventCallback | None = None, file: TextIO | None = None
) -> tuple[EventCallback | None, AbstractContextManager[Any]]:
    """The callback to give an import: the rich display if asked and on a terminal, else the
    caller's own events (or nothing), and the context that draws the display meanwhile."""
    stream = file or sys.stderr
    if asked and stream.isatty():
        display = RichProgress(stream)
        if events is None:
            return display, display

        def both(event: Event) -> None:
            display(event)
            events(event)

        return both, display
    return events, nullcontext()
