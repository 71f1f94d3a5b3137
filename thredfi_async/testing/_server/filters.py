"""The query filters of list operations: each narrows the items only when it is sent.

A handler names its filters in order (``Filters(ctx, items).equal("status")...``); the spelling
of the matches is kept in one place so every list treats ``?status=`` or ``?search=`` the same
way. A value that needs converting (``min_amount``) is converted once, before any item is looked
at, so a malformed one is a 400 whether the list is empty or not, declared in the spec or not.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

from .context import Context
from .values import parse_date

__all__ = ["Filters", "joined", "list_of_ids"]

T = TypeVar("T")


def list_of_ids(value: Any) -> set[str]:
    """A comma-separated filter value (``customer_id=a,b``) as a set."""
    return {part.strip() for part in str(value).split(",") if part.strip()}


def joined(*values: Any) -> str:
    """The text a ``search`` looks in: the values side by side, missing ones as empty text."""
    return " ".join(str(value or "") for value in values)


class Filters(Generic[T]):
    """The items of one list request, narrowed filter by filter."""

    def __init__(self, ctx: Context, items: Iterable[T]) -> None:
        self.ctx = ctx
        self.items: list[T] = list(items)

    def keep(self, test: Callable[[T], bool]) -> None:
        self.items = [item for item in self.items if test(item)]

    def sent(self, name: str, test: Callable[[Any, T], bool]) -> None:
        """Keep what ``test(value, item)`` accepts, when filter ``name`` is sent (not empty)."""
        value = self.ctx.filter(name)
        if value:
            self.items = [item for item in self.items if test(value, item)]

    def equal(self, *names: str) -> None:
        """Exact matches on the attributes the filters are named after."""
        for name in names:
            value = self.ctx.filter(name)
            if value:
                self.items = [item for item in self.items if getattr(item, name) == value]

    def equal_ignoring_case(self, name: str, attribute: str) -> None:
        value = self.ctx.filter(name)
        if value:
            self.items = [
                item
                for item in self.items
                if str(getattr(item, attribute) or "").lower() == value.lower()
            ]

    def one_of(self, name: str, key: Callable[[T], str]) -> None:
        """``name=a,b``: the items whose key is one of the listed values."""
        value = self.ctx.filter(name)
        if value:
            wanted = list_of_ids(value)
            self.items = [item for item in self.items if key(item) in wanted]

    def contains(self, name: str, text: Callable[[T], str]) -> None:
        """Case-insensitive substring match (``search``, ``external_id_contains``...)."""
        value = self.ctx.filter(name)
        if value:
            needle = str(value).lower()
            self.items = [item for item in self.items if needle in text(item).lower()]

    def flag(self, name: str, key: Callable[[T], bool]) -> None:
        """A boolean filter; ``false`` filters too, an absent or untyped value does not."""
        value = self.ctx.filter(name)
        if isinstance(value, bool):
            self.items = [item for item in self.items if key(item) == value]

    def at_least(self, name: str, key: Callable[[T], int]) -> None:
        low = self.ctx.typed_filter(name, "integer")
        if low is not None:
            self.items = [item for item in self.items if key(item) >= low]

    def at_most(self, name: str, key: Callable[[T], int]) -> None:
        high = self.ctx.typed_filter(name, "integer")
        if high is not None:
            self.items = [item for item in self.items if key(item) <= high]

    def between(
        self,
        start: str,
        end: str,
        key: Callable[[T], Any],
        parse: Callable[[Any, str], Any] = parse_date,
    ) -> None:
        """An inclusive date (or, with ``parse_datetime``, date-time) range; either end optional.

        Items without the value (``key`` gives ``None``) are left out once either end is sent.
        """
        low = parse(self.ctx.filter(start), start)
        if low is not None:
            self.keep(lambda item: (value := key(item)) is not None and value >= low)
        high = parse(self.ctx.filter(end), end)
        if high is not None:
            self.keep(lambda item: (value := key(item)) is not None and value <= high)
