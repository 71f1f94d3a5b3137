"""The wheel as a new user meets it: a fresh virtualenv and `pip install 'thredfi-async[testing]'`.

Everything else in the suite runs in the development environment, which has pytest-asyncio,
trio and the dev tools; this is the one place that proves the extra alone is enough for the
README's pytest plugin example. It needs the package registry (pip resolves the dependencies),
as `make install` does.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

from tests._readme import readme_block

ROOT = Path(__file__).resolve().parent.parent


def run(*command: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


def test_the_testing_extra_alone_runs_the_readme_plugin_example(tmp_path: Path) -> None:
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path / "dist", ROOT,
        cwd=tmp_path)  # fmt: skip
    (wheel,) = (tmp_path / "dist").glob("thredfi_async-*.whl")
    venv.EnvBuilder(with_pip=True).create(tmp_path / "venv")
    python = tmp_path / "venv" / "bin" / "python"
    run(python, "-m", "pip", "install", "-q", f"thredfi-async[testing] @ {wheel.as_uri()}",
        cwd=tmp_path)  # fmt: skip
    project = tmp_path / "project"
    project.mkdir()
    (project / "test_user.py").write_text(readme_block("async def test_retries_a_flaky_list("))

    result = run(python, "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=project)

    # anyio's plugin runs on the backends installed; the extra brings asyncio's only.
    assert "4 passed" in result.stdout, result.stdout
    listed = run(python, "-m", "pip", "list", "--format=freeze", cwd=project).stdout.lower()
    assert "pytest-asyncio" not in listed
    assert "pytest==" in listed
