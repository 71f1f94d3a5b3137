"""`thredfi`, the command line for operators: `thredfi import FILE.jsonl` (pip install
'thredfi-async[cli]'). Credentials and the base URL come from the environment, as for
`AsyncThredfi()`: THREDFI_PARTNER_UUID, THREDFI_API_KEY, THREDFI_BASE_URL."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

try:
    import typer
    from rich.console import Console
    from rich.table import Table
except ImportError as missing:  # pragma: no cover - depends on the installed extras
    raise SystemExit(
        f"thredfi's command line needs the cli extra: pip install 'thredfi-async[cli]' ({missing})"
    ) from None

import anyio

from .bulk import (
    DEFAULT_CONCURRENCY,
    BulkImporter,
    Event,
    ImportReport,
    RecordDone,
    SQLiteCheckpoint,
    kind_order,
)
from .bulk._files import read_records
from .bulk._plan import dry_run
from .bulk._progress import progress_callback

__all__ = ["app", "main"]

app = typer.Typer(
    help="The Thredfi Partner API from the shell (credentials from THREDFI_* variables).",
    no_args_is_help=True,
    rich_markup_mode="markdown",
    add_completion=False,
)


@app.callback()
def _commands() -> None:
    """Thredfi Partner API tools."""


def _event_line(event: Event) -> None:
    if isinstance(event, RecordDone):
        fields = {
            "event": "record",
            "business_id": event.business_id,
            "kind": event.kind,
            "external_id": event.external_id,
            "outcome": event.outcome,
            "id": event.id,
            "reason": event.reason,
        }
        sys.stderr.write(json.dumps(fields) + "\n")


def _table(report: ImportReport) -> Table:
    table = Table("kind", "created", "present", "resumed", "failed", "skipped")
    rows = report.by_kind()
    for kind in kind_order():
        if kind in rows:
            table.add_row(kind, *(str(n) for n in rows[kind].values()))
    return table


@app.command("import")
def import_(
    file: Annotated[
        Path,
        typer.Argument(
            exists=True,
            dir_okay=False,
            help='Records, one JSON object a line: {"business_id", "kind", "data"} '
            "(or a .csv file with business_id, kind and one column per field, for flat kinds).",
        ),
    ],
    checkpoint: Annotated[
        Path | None,
        typer.Option(help="SQLite file of what is done (default: FILE.checkpoint.db)."),
    ] = None,
    concurrency: Annotated[
        int, typer.Option(min=1, help="Businesses imported at once.")
    ] = DEFAULT_CONCURRENCY,
    dry_run_: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Check every record locally (fields, types, money, references, order) "
            "and send nothing.",
        ),
    ] = False,
    resume: Annotated[
        bool,
        typer.Option(help="Continue from a checkpoint that already holds records."),
    ] = False,
    progress: Annotated[
        bool | None,
        typer.Option(help="Progress bars (default: when stderr is a terminal)."),
    ] = None,
    events: Annotated[
        bool, typer.Option(help="One JSON line per settled record on stderr.")
    ] = False,
) -> None:
    """Create every record in FILE exactly once, in dependency order, resumably.

    Each business's records go in order (customers, then invoices, payments, refunds, refund
    payments, ...) whatever the file's order; businesses run in parallel. A rerun with the same
    checkpoint sends nothing for what is done. Exit status: 0 all done, 1 records refused
    locally (--dry-run), 2 records failed or were skipped.
    """
    out = Console(soft_wrap=True)
    records = list(read_records(file))
    path = checkpoint or file.with_name(file.name + ".checkpoint.db")
    done: dict[str, dict[tuple[str, str], str]] = {}
    if path.exists():
        store = SQLiteCheckpoint(path)

        async def load() -> None:
            if await store.count() and not resume:
                raise typer.BadParameter(
                    f"{path} already holds records: pass --resume to continue that import, "
                    "or --checkpoint with a new file",
                    param_hint="--checkpoint",
                )
            for business_id in {r.business_id for r in records}:
                done[business_id] = dict(await store.done(business_id))
            await store.aclose()

        anyio.run(load)
    if dry_run_:
        plans, refused = dry_run(records, done)
        for record, reason in refused:
            out.print(f"{record.label()}: {reason}", markup=False, highlight=False)
        planned = sum(plan.size for plan in plans)
        out.print(
            f"{len(records)} records, {len(plans)} businesses: {planned} would be sent, "
            f"{len(refused)} refused; nothing was sent",
            markup=False,
        )
        raise typer.Exit(1 if refused else 0)
    report = anyio.run(_run, records, path, concurrency, progress, events)
    out.print(_table(report))
    for failure in report.failures[:50]:
        out.print(
            f"{failure.source or ''} {failure.outcome} {failure.kind} {failure.external_id} "
            f"of {failure.business_id}: {failure.reason}",
            markup=False,
            highlight=False,
        )
    out.print(report.summary(), markup=False)
    raise typer.Exit(0 if report.ok else 2)


async def _run(
    records: list[Any], path: Path, concurrency: int, progress: bool | None, events: bool
) -> ImportReport:
    from . import AsyncThredfi

    asked = sys.stderr.isatty() if progress is None else progress
    callback, display = progress_callback(asked, _event_line if events else None)
    checkpoint = SQLiteCheckpoint(path)
    try:
        async with AsyncThredfi() as thredfi:
            importer = BulkImporter(
                thredfi, checkpoint=checkpoint, concurrency=concurrency, on_event=callback
            )
            with display:
                return await importer.run(records)
    finally:
        await checkpoint.aclose()


def main() -> None:
    app()
