"""The README as site pages: its introduction is the home page, each `##` section a page.

The README stays the one source of the guide; splitting it keeps each page short enough to
navigate. A section's headings move up one level (its `##` becomes the page title), and links
written relative to the repository root (`docs/operations.md`) are rewritten to point into the
site's docs directory, where the pages are.
"""

from __future__ import annotations

import posixpath
import re

from page import Page

_FENCE = re.compile(r"^\s*(```+|~~~+)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_INLINE_LINK = re.compile(r"(\]\()([^)\s]+)")
_REFERENCE_LINK = re.compile(r"^(\s{0,3}\[[^\]]+\]:\s*)(\S+)")
_EXTERNAL = re.compile(r"^([a-z][a-z0-9+.-]*:|#|/)", re.IGNORECASE)


def split(readme: str, docs_dir: str = "docs") -> list[Page]:
    """Cuts the README at its `##` headings; the text before the first one is the home page.

    Args:
        readme: The README's text.
        docs_dir: The site's docs directory, relative to the repository root: links into it
            are made relative to the pages, which sit at its top.

    Returns:
        The home page (`index.md`) first, then one page per section in the README's order.
    """
    sections: list[tuple[str, list[str]]] = [("", [])]
    fence: str | None = None
    for line in readme.splitlines():
        fence = _next_fence(fence, line)
        in_code = fence is not None or _FENCE.match(line) is not None
        heading = None if in_code else _HEADING.match(line)
        if not in_code:
            line = _relink(line, docs_dir)
        if heading and len(heading.group(1)) == 2:
            sections.append((heading.group(2), [f"# {heading.group(2)}"]))
        elif heading and len(heading.group(1)) > 2 and len(sections) > 1:
            sections[-1][1].append(f"{heading.group(1)[1:]} {heading.group(2)}")
        else:
            sections[-1][1].append(line)

    home_lines = sections[0][1]
    title = next((m.group(2) for m in map(_HEADING.match, home_lines) if m), "Home")
    pages = [Page("index.md", title, "\n".join(home_lines) + "\n")]
    for name, lines in sections[1:]:
        path = f"{_slug(name)}.md"
        if path in {page.path for page in pages}:
            raise ValueError(f"two README sections would both be {path}: rename one")
        pages.append(Page(path, name, "\n".join(lines) + "\n"))
    return pages


def _next_fence(fence: str | None, line: str) -> str | None:
    """The fence still open after `line`: a fence closes only on the same marker, as long."""
    match = _FENCE.match(line)
    if match is None:
        return fence
    marker = match.group(1)
    if fence is None:
        return marker
    return None if marker[0] == fence[0] and len(marker) >= len(fence) else fence


def _slug(heading: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", heading.lower()).strip("-")
    if not slug:
        raise ValueError(f"README heading {heading!r} gives no page name")
    return slug


def _relink(line: str, docs_dir: str) -> str:
    """Rewrites links relative to the repository root into links relative to the pages."""

    def target(url: str) -> str:
        if _EXTERNAL.match(url):
            return url
        path, hash_, anchor = url.partition("#")
        # Outside the docs directory the path keeps its `../`: the strict build then reports
        # it as a broken link instead of the site silently pointing nowhere.
        return posixpath.relpath(posixpath.normpath(path), docs_dir) + hash_ + anchor

    line = _INLINE_LINK.sub(lambda m: m.group(1) + target(m.group(2)), line)
    return _REFERENCE_LINK.sub(lambda m: m.group(1) + target(m.group(2)), line)
