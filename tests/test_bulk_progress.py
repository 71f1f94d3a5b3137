"""The bulk importer's progress display and file readers, without the API."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from pathlib import Path

from thredfi_async.bulk import Finished, ImportReport, Planned, RecordDone
from thredfi_async.bulk._files import read_records
from thredfi_async.bulk._progress import RichProgress, progress_callback


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_display_unless_asked_and_on_a_terminal() -> None:
    seen: list[object] = []
    callback, display = progress_callback(True, seen.append, file=io.StringIO())
    assert callback == seen.append  # not a terminal: the caller's events only
    callback, _ = progress_callback(False, None, file=Terminal())
    assert callback is None  # a terminal, but not asked: silent
    callback, display = progress_callback(True, seen.append, file=Terminal())
    assert isinstance(display, RichProgress)
    assert callback is not None
    with display:
        callback(Planned({"customer": 2}, 1))
        callback(RecordDone("b", "customer", "c1", "created", id="x"))
    assert len(seen) == 2  # the caller's callback still hears every event


def test_the_display_counts_overall_and_per_kind_with_errors() -> None:
    terminal = Terminal()
    display = RichProgress(terminal)
    with display:
        display(Planned({"customer": 2, "invoice": 1}, 1))
        display(RecordDone("b", "customer", "c1", "created", id="1"))
        display(RecordDone("b", "customer", "c2", "failed", reason="400"))
        display(RecordDone("b", "invoice", "i1", "skipped", reason="depends on c2"))
        display(Finished(ImportReport()))
    tasks = {task.description: task for task in display.progress.tasks}
    assert (tasks["all"].completed, tasks["all"].total) == (3, 3)
    assert (tasks["customer"].completed, tasks["customer"].fields["errors"]) == (2, "1 errors")
    assert tasks["invoice"].fields["errors"] == "1 errors"
    assert "customer" in terminal.getvalue()


def test_json_lines_keep_fractions_exact_and_name_each_line(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    good = {"business_id": "b", "kind": "invoice", "data": {"external_id": "i", "tips": 1.25}}
    path.write_text(json.dumps(good) + "\n\nnot json\n[1]\n")
    first, unreadable, not_object = read_records(path)
    assert first.data["tips"] == Decimal("1.25")
    assert first.source == "records.jsonl:1"
    assert unreadable.source is not None
    assert unreadable.source.startswith("records.jsonl:3 (")
    assert not_object.source == "records.jsonl:4"
    assert not_object.kind == "(not an object)"


def test_csv_rows_are_flat_records_with_integer_minor_units(tmp_path: Path) -> None:
    path = tmp_path / "refunds.csv"
    path.write_text(
        "business_id,kind,external_id,invoice_external_id,amount_cents,memo\n"
        "b,refund,r1,i1,500,\n"
        "b,refund,r2,i2,5.5,late\n"
    )
    first, second = read_records(path)
    assert first.data == {"external_id": "r1", "invoice_external_id": "i1", "amount_cents": 500}
    assert first.source == "refunds.csv:2"
    assert second.data["amount_cents"] == Decimal("5.5")  # refused later, as not whole cents
    assert second.data["memo"] == "late"
