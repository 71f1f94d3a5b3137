"""One CI definition: the GitHub workflow runs `.ci/run`, which runs the README's test command.

A step added to one place and not the other is how CI and a maintainer's checkout drift apart.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent


def test_the_workflow_runs_only_the_ci_script() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    commands = [
        step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step
    ]
    assert commands == ["bash .ci/run"]


def test_the_ci_script_runs_the_readme_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    fresh_machine = re.search(r"## On a fresh machine\n\n```bash\n(.*?)```", readme, flags=re.S)
    assert fresh_machine is not None
    commands = [line.split("#")[0].strip() for line in fresh_machine.group(1).splitlines()]
    script = (ROOT / ".ci" / "run").read_text().splitlines()
    assert commands == ["make demo", "make test"]
    assert all(command in script for command in commands)
