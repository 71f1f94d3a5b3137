"""The README's code blocks, as written there, for the tests that run them."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def readme_block(containing: str, language: str = "python") -> str:
    """The one README block in `language` that contains `containing`."""
    blocks: list[str] = re.findall(rf"```{language}\n(.*?)```", README.read_text(), flags=re.DOTALL)
    (block,) = [b for b in blocks if containing in b]
    return block
