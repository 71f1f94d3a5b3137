"""A page the hooks add to the site: generated at build time, never written to docs/."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Page:
    """Where the page lives on the site (relative to docs/), its nav title and its text.

    A page out of the navigation is reached through links only (one of a few hundred models).
    """

    path: str
    title: str
    markdown: str
    in_nav: bool = True
