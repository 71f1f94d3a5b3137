"""Page-number pagination in either envelope the docs show.

Envelope A (``page_info``) is the default; ``FakeThredfi(envelope="next")`` switches every list to
envelope B (``next``/``previous`` absolute URLs) so SDK tests can exercise both. ``page_size``
defaults to 20 and is clamped to 100 (Django REST framework behaviour; ``page_info.page_size``
reports the size actually used). A page past the end answers an empty ``results``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlencode, urlsplit

from ..._pagination import MAX_PAGE_SIZE
from .context import Context
from .errors import field_error

__all__ = ["DEFAULT_PAGE_SIZE", "paginate"]

DEFAULT_PAGE_SIZE = 20
T = TypeVar("T")


def paginate(
    ctx: Context,
    items: Sequence[T],
    render: Callable[[T], dict[str, Any]],
    *,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Render only the requested page of ``items`` (rendering is the costly part)."""
    page = _positive(ctx, "page", 1)
    page_size = min(_positive(ctx, "page_size", DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE)
    total = len(items)
    start = (page - 1) * page_size
    results = [render(item) for item in items[start : start + page_size]]
    total_pages = (total + page_size - 1) // page_size
    body: dict[str, Any] = {"count": total}
    if ctx.world.envelope == "next":
        body["next"] = _page_url(ctx, page + 1) if page < total_pages else None
        body["previous"] = _page_url(ctx, min(page - 1, max(total_pages, 1))) if page > 1 else None
    else:
        body["page_info"] = {
            "total_count": total,
            "current_page": page,
            "total_pages": total_pages,
            "page_size": page_size,
        }
    if extra:
        body.update(extra)
    body["results"] = results
    return body


def _positive(ctx: Context, name: str, default: int) -> int:
    """A paging parameter; normally validated already, but a spec may leave one undeclared."""
    value = ctx.filter(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise field_error(name, "A valid integer is required.") from None
    if number < 1:
        raise field_error(name, "Ensure this value is greater than or equal to 1.")
    return number


def _page_url(ctx: Context, page: int) -> str:
    parts = urlsplit(ctx.url)
    pairs = [(k, v) for k, v in _query_pairs(parts.query) if k != "page"]
    if page > 1:
        pairs.append(("page", str(page)))
    query = urlencode(pairs)
    return f"{ctx.base_url}{parts.path}" + (f"?{query}" if query else "")


def _query_pairs(query: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(query, keep_blank_values=True)
