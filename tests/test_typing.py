"""The types hold for a caller's type checker: the files in tests/typing/, mypy and pyright.

Those files are user-style code (results, fields, enums, ids, bodies, the fake). They pin every
expected error with an ignore comment per checker, and both run so that an unneeded ignore is
an error: exit 0 means each right use passes and each wrong one is refused.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from thredfi_async import bodies
from thredfi_async._generated import bodies as generated

ROOT = Path(__file__).resolve().parent.parent
USAGE = ROOT / "tests" / "typing"


def run(command: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def test_mypy_accepts_right_uses_and_reports_each_wrong_one() -> None:
    result = run([sys.executable, "-m", "mypy", "--strict", "--warn-unused-ignores", str(USAGE)])
    assert result.returncode == 0, result.stdout + result.stderr


def test_pyright_accepts_right_uses_and_reports_each_wrong_one() -> None:
    pyright = ROOT / "node_modules" / ".bin" / "pyright"
    assert pyright.exists(), "pyright is missing: run `make install` (npm ci)"
    config = USAGE / "pyrightconfig.json"
    result = run([str(pyright), "-p", str(config), "--pythonpath", sys.executable, str(USAGE)])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 errors" in result.stdout


def test_required_keys_hold_at_runtime_too() -> None:
    """Required[...] stays unquoted in the generated module, so introspection sees it."""
    assert bodies.CreateBusinessRequestDict.__required_keys__ == {
        "external_id",
        "legal_name",
        "entity_type",
        "email",
    }
    assert "customer_id" in bodies.InvoiceCreateRequestDict.__optional_keys__
    assert bodies.InvoiceCreateRequestDict.__required_keys__ == frozenset()


def test_the_public_module_exports_every_generated_body() -> None:
    assert bodies.__all__ == generated.__all__
    assert all(getattr(bodies, name) is getattr(generated, name) for name in generated.__all__)
    assert "InvoiceCreateRequestDict" in bodies.__all__
