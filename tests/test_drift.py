"""`make drift` passes on a clean tree and fails when any of its three inputs moves alone."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The parts of the repository drift.py reads, copied so the test can break them."""
    for name in ("openapi.yaml",):
        shutil.copy2(ROOT / name, tmp_path / name)
    ignore = shutil.ignore_patterns("__pycache__", ".ruff_cache")
    shutil.copytree(ROOT / "codegen", tmp_path / "codegen", ignore=ignore)
    shutil.copytree(ROOT / "docs", tmp_path / "docs", ignore=ignore)
    shutil.copytree(
        ROOT / "thredfi_async" / "_generated",
        tmp_path / "thredfi_async" / "_generated",
        ignore=ignore,
    )
    # The fields of Operation are the list every endpoint module's OPERATION is written from.
    shutil.copy2(ROOT / "thredfi_async" / "_operation.py", tmp_path / "thredfi_async")
    return tmp_path


def drift(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(root / "codegen" / "drift.py")],
        capture_output=True,
        text=True,
        check=False,
    )


def test_drift_is_clean_on_the_committed_tree(checkout: Path) -> None:
    result = drift(checkout)
    assert result.returncode == 0, result.stderr
    assert "drift: none" in result.stdout


def test_drift_fails_after_a_hand_edit_of_generated_code(checkout: Path) -> None:
    target = checkout / "thredfi_async" / "_generated" / "models" / "invoice.py"
    target.write_text(target.read_text() + "\n# a quick fix\n")
    result = drift(checkout)
    assert result.returncode == 1
    assert "differs: thredfi_async/_generated/models/invoice.py" in result.stderr


def test_drift_fails_after_a_spec_change_that_was_not_regenerated(checkout: Path) -> None:
    spec = checkout / "openapi.yaml"
    spec.write_text(
        spec.read_text().replace("summary: List invoices", "summary: List all invoices", 1)
    )
    result = drift(checkout)
    assert result.returncode == 1
    assert "differs: thredfi_async/_generated/resources.py" in result.stderr
    assert "differs: thredfi_async/_generated/openapi.json" in result.stderr


def test_drift_fails_after_a_codegen_change_that_was_not_regenerated(checkout: Path) -> None:
    names = checkout / "codegen" / "names.yaml"
    names.write_text(
        names.read_text().replace("fetch_refund_payment: get", "fetch_refund_payment: fetch")
    )
    result = drift(checkout)
    assert result.returncode == 1
    assert "docs/operations.md" in result.stderr


def test_a_stray_file_in_generated_is_reported(checkout: Path) -> None:
    (checkout / "thredfi_async" / "_generated" / "helpers.py").write_text("# hand written\n")
    result = drift(checkout)
    assert result.returncode == 1
    assert "not generated: thredfi_async/_generated/helpers.py" in result.stderr


def test_spec_comparison_reports_changed_operations(tmp_path: Path) -> None:
    published = tmp_path / "published.yaml"
    published.write_text(
        (ROOT / "openapi.yaml").read_text().replace("summary: Create invoice", "summary: New")
    )
    result = subprocess.run(
        [sys.executable, str(ROOT / "codegen" / "drift.py"), "--spec", str(published)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert (
        "changed: /paths/~1v1~1platform~1businesses~1{business_id}~1invoices~1/post/summary"
        in result.stderr
    )
