"""MkDocs hooks: the pages that are computed, not written, and the navigation around them.

The README's sections and the API reference exist only at build time (docs/ holds the pages
written by hand and the generated operations table), so one source stays one source.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import readme
import reference
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files, InclusionLevel
from page import Page

_PAGES: list[Page] = []


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Computes the pages and lays out the navigation: guide, behaviour notes, reference."""
    root = Path(config.config_file_path).parent
    docs_dir = Path(config.docs_dir).relative_to(root).as_posix()
    guide = readme.split((root / "README.md").read_text(encoding="utf-8"), docs_dir)
    api = reference.pages()
    _PAGES[:] = [*guide, *api]
    config.nav = [
        {"Home": guide[0].path},
        {"Guide": _entries(guide[1:])},
        {"Behaviour": ["api-behaviour.md", "operations.md", "fake.md"]},
        {"API reference": _reference_nav(api)},
    ]
    return config


def on_files(files: Files, config: MkDocsConfig, **_: Any) -> Files:
    """Adds the computed pages; one that would shadow a file in docs/ is a mistake."""
    for page in _PAGES:
        if files.get_file_from_path(page.path) is not None:
            raise ValueError(f"{page.path} is both computed and in {config.docs_dir}")
        inclusion = InclusionLevel.UNDEFINED if page.in_nav else InclusionLevel.NOT_IN_NAV
        files.append(File.generated(config, page.path, content=page.markdown, inclusion=inclusion))
    return files


def _reference_nav(pages: list[Page]) -> list[dict[str, Any]]:
    """The reference pages in order, the resources' pages in a section of their own."""
    nav: list[dict[str, Any]] = []
    resources: list[dict[str, str]] = []
    for page in pages:
        if not page.in_nav:
            continue
        if page.path.startswith("reference/resources/"):
            if not resources:
                nav.append({"Resources": resources})
            resources.append({page.title: page.path})
        else:
            nav.append({page.title: page.path})
    return nav


def _entries(pages: list[Page]) -> list[dict[str, str]]:
    return [{page.title: page.path} for page in pages]
