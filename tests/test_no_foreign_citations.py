"""Every reason the project gives can be followed from a clone.

Comments, docstrings and docs once pointed at notes kept outside the repository (a facts sheet,
a design note, numbered questions and issues). A newcomer cannot read those, so a
reason must cite docs/api-behaviour.md, a docs.thredfi.com page, or explain itself in place.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Being cleaned separately; drop an entry once its files no longer cite anything foreign.
EXCLUDED = ("thredfi_async/_generated/",)

# Built from pieces so that this file does not match its own patterns.
_FACTS = "FAC" + "TS"
_DESIGN = "DES" + "IGN"
FOREIGN = re.compile(
    "|".join(
        [
            rf"\b{_FACTS}\b",  # the facts sheet, by file name or by section ("... 2.3")
            rf"\b{_DESIGN}\.md\b",
            r"(?i:\bopen" + r" questions?\b)",
            r"(?i:\bissues?" + r" #?\d)",
        ]
    )
)


def tracked_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.decode()
    return [name for name in listed.split("\0") if name]


def foreign_citations(text: str) -> list[tuple[int, str]]:
    return [
        (number, line.strip())
        for number, line in enumerate(text.splitlines(), 1)
        if FOREIGN.search(line)
    ]


def test_no_tracked_file_cites_notes_outside_the_repository() -> None:
    files = [name for name in tracked_files() if not name.startswith(EXCLUDED)]
    assert "thredfi_async/_client.py" in files  # the listing really is the repository's
    found = []
    for name in files:
        path = ROOT / name
        if not path.is_file():  # deleted in the work tree, not yet committed
            continue
        text = path.read_bytes().decode("utf-8", "replace")
        found += [f"{name}:{number}: {line}" for number, line in foreign_citations(text)]
    assert not found, "cite docs/api-behaviour.md or explain in place:\n" + "\n".join(found)


@pytest.mark.parametrize(
    "line",
    [
        f"(see {_FACTS}.md 2.1)",
        f"# {_FACTS} 2.9: deletes answer 204",
        f"({_FACTS} open" + " question 3)",
        f'({_DESIGN}.md, "The seam")',
        "as Open" + " Question 18 says",
        "Pagination (iss" + "ue 5): await gives page one",
        "see Issue" + " #12",
    ],
)
def test_each_kind_of_foreign_citation_is_caught(line: str) -> None:
    assert foreign_citations(f"ok\n{line}\n") == [(2, line)]


@pytest.mark.parametrize(
    "line",
    [
        '(docs/api-behaviour.md, "List envelopes and pagination")',
        "violations (stoplightio/prism#2380)",
        "https://github.com/encode/httpx/issues/1234",
        "DESIGN_RESOURCES = {",
        "the facts of the matter; a design question",
    ],
)
def test_ordinary_text_is_not_taken_for_a_citation(line: str) -> None:
    assert foreign_citations(line) == []
