"""An undo journal of the fake's records, so that undoing a request costs what it changed.

Every record of the books (and the books and ledger themselves) is :class:`Tracked`, and every
dict and list they hold is a :class:`TrackedDict` or :class:`TrackedList`: a value assigned to
a record or stored in a tracked container is converted on the way in, nested containers
included. While a :class:`Journal` is open in the current context, each change is journaled
before it is made: a record saves its field values at its first change; a dict setting a key
saves that key's old value (or that it had none), a list growing at its end saves its length;
any other change to a container saves a shallow copy of it. Nothing else is copied, so a
request that adds one invoice to books of ten thousand saves the few things it touched.

A rollback undoes the steps in reverse into the same objects, so every reference held elsewhere
(a table's entry, a list of another record) sees the state from before the request.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from contextvars import ContextVar, Token
from dataclasses import dataclass, field, fields
from typing import Any, SupportsIndex, TypeVar, cast, dataclass_transform

__all__ = ["Journal", "Tracked", "TrackedDict", "TrackedList", "record", "tracked"]

K = TypeVar("K")
V = TypeVar("V")
T = TypeVar("T")

_OPEN: ContextVar[Journal | None] = ContextVar("thredfi_fake_journal", default=None)
_UNSET = object()
_SLOTS: dict[type, tuple[str, ...]] = {}
_HOLDERS: dict[type, tuple[str, ...]] = {}  # the fields that may hold a dict or a list
_CONTAINERS = frozenset({dict, list})
_set_field = object.__setattr__


def tracked(value: Any) -> Any:
    """``value`` with every plain dict and list in it (at any depth) made tracked."""
    kind = type(value)
    if kind is dict:
        return TrackedDict({k: tracked(v) for k, v in value.items()})
    if kind is list:
        return TrackedList([tracked(v) for v in value])
    return value


class Journal:
    """What one request changed, as undo steps; :meth:`rollback` takes them in reverse."""

    def __init__(self) -> None:
        # Each step names its object, which keeps the object's id from being reused by
        # another for as long as the journal is open.
        self._steps: list[tuple[Any, ...]] = []
        self._whole: set[int] = set()  # objects saved whole: later changes need no step
        self._token: Token[Journal | None] | None = None

    def open(self) -> None:
        self._token = _OPEN.set(self)

    def close(self) -> None:
        if self._token is not None:
            _OPEN.reset(self._token)
            self._token = None

    def save(self, obj: Any) -> None:
        """Save all of ``obj`` before its first change (or before one no cheap step undoes)."""
        key = id(obj)
        if key in self._whole:
            return
        self._whole.add(key)
        if isinstance(obj, TrackedDict):
            state: Any = dict.copy(obj)
        elif isinstance(obj, TrackedList):
            state = list.copy(obj)
        elif hasattr(obj, "__dict__"):
            state = dict(obj.__dict__)
        else:
            state = tuple(getattr(obj, name, _UNSET) for name in _slots(obj))
        self._steps.append((_WHOLE, obj, state))

    def set_item(self, obj: TrackedDict[Any, Any], key: Any) -> None:
        """Before ``obj[key]`` is set: a new key is undone by removing it (it went last)."""
        if id(obj) in self._whole:
            return
        old = dict.get(obj, key, _UNSET)
        self._steps.append((_ITEM, obj, key, old))

    def grow(self, obj: TrackedList[Any]) -> None:
        """Before items are added at the end of ``obj``: undone by cutting it back."""
        if id(obj) in self._whole:
            return
        self._steps.append((_GROW, obj, len(obj)))

    def rollback(self) -> None:
        for step in reversed(self._steps):
            kind, obj = step[0], step[1]
            if kind is _ITEM:
                if step[3] is _UNSET:
                    dict.__delitem__(obj, step[2])
                else:
                    dict.__setitem__(obj, step[2], step[3])
            elif kind is _GROW:
                list.__delitem__(obj, slice(step[2], None))
            else:
                _restore(obj, step[2])
        self._steps.clear()
        self._whole.clear()


_WHOLE, _ITEM, _GROW = object(), object(), object()


def _restore(obj: Any, state: Any) -> None:
    if isinstance(obj, TrackedDict):
        dict.clear(obj)
        dict.update(obj, state)
    elif isinstance(obj, TrackedList):
        list.__setitem__(obj, slice(None), state)
    elif hasattr(obj, "__dict__"):
        obj.__dict__.clear()
        obj.__dict__.update(state)
    else:
        for name, value in zip(_slots(obj), state, strict=True):
            if value is not _UNSET:
                object.__setattr__(obj, name, value)
            elif hasattr(obj, name):
                object.__delattr__(obj, name)


def _save(obj: Any) -> None:
    journal = _OPEN.get()
    if journal is not None:
        journal.save(obj)


def _grow(obj: TrackedList[Any]) -> None:
    journal = _OPEN.get()
    if journal is not None:
        journal.grow(obj)


def _slots(obj: Any) -> tuple[str, ...]:
    kind = type(obj)
    names = _SLOTS.get(kind)
    if names is None:
        names = tuple(f.name for f in fields(obj))
        _SLOTS[kind] = names
    return names


@dataclass_transform(field_specifiers=(field,))
def record(*, kw_only: bool = False) -> Callable[[type[T]], type[T]]:
    """A slotted dataclass of :class:`Tracked` fields whose ``__init__`` skips the journal.

    Seeding builds hundreds of thousands of records; a new record has nothing to save, so its
    ``__init__`` sets the fields directly (the one a frozen dataclass generates) and
    ``__post_init__`` converts the containers. Once built, the record is not frozen: the
    frozen ``__setattr__`` is dropped for :class:`Tracked`'s.
    """

    def build(cls: type[T]) -> type[T]:
        made: Any = dataclass(slots=True, frozen=True, kw_only=kw_only)(cls)
        del made.__setattr__
        del made.__delattr__
        made.__hash__ = None  # as for any dataclass compared by value and not frozen
        return made  # type: ignore[no-any-return]

    return build


class Tracked:
    """A record whose first change under an open journal saves its fields."""

    __slots__ = ()

    def __post_init__(self) -> None:
        kind = type(self)
        names = _HOLDERS.get(kind)
        if names is None:
            holds = ("list", "dict", "Any")
            names = tuple(
                f.name for f in fields(cast(Any, self)) if any(h in str(f.type) for h in holds)
            )
            _HOLDERS[kind] = names
        for name in names:
            value = getattr(self, name)
            if type(value) in _CONTAINERS:
                _set_field(self, name, tracked(value))

    def __setattr__(self, name: str, value: Any) -> None:
        # Runs for every field of every record built (seeding builds hundreds of thousands),
        # so it calls nothing it need not.
        journal = _OPEN.get()
        if journal is not None:
            journal.save(self)
        if type(value) in _CONTAINERS:
            value = tracked(value)
        _set_field(self, name, value)


class TrackedDict(dict[K, V]):
    """A dict that saves its entries before its first change under an open journal."""

    __slots__ = ()

    def __setitem__(self, key: K, value: V) -> None:
        journal = _OPEN.get()
        if journal is not None:
            journal.set_item(self, key)
        dict.__setitem__(self, key, tracked(value))

    def __delitem__(self, key: K) -> None:
        _save(self)
        dict.__delitem__(self, key)

    def pop(self, *args: Any) -> Any:
        _save(self)
        return dict.pop(self, *args)

    def popitem(self) -> tuple[K, V]:
        _save(self)
        return dict.popitem(self)

    def setdefault(self, key: K, default: Any = None) -> Any:
        if key not in self:
            self[key] = default
        return dict.__getitem__(self, key)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value

    def clear(self) -> None:
        _save(self)
        dict.clear(self)

    def __ior__(self, other: Any) -> TrackedDict[K, V]:  # type: ignore[override,misc]
        self.update(other)
        return self


class TrackedList(list[T]):
    """A list that saves its items before its first change under an open journal."""

    __slots__ = ()

    def __setitem__(self, index: Any, value: Any) -> None:
        _save(self)
        list.__setitem__(self, index, tracked(value))

    def __delitem__(self, index: SupportsIndex | slice) -> None:
        _save(self)
        list.__delitem__(self, index)

    def append(self, value: T) -> None:
        _grow(self)
        list.append(self, tracked(value))

    def extend(self, values: Iterable[T]) -> None:
        _grow(self)
        list.extend(self, [tracked(v) for v in values])

    def insert(self, index: SupportsIndex, value: T) -> None:
        _save(self)
        list.insert(self, index, tracked(value))

    def pop(self, index: SupportsIndex = -1) -> T:
        _save(self)
        return list.pop(self, index)

    def remove(self, value: T) -> None:
        _save(self)
        list.remove(self, value)

    def clear(self) -> None:
        _save(self)
        list.clear(self)

    def sort(self, *args: Any, **kwargs: Any) -> None:
        _save(self)
        list.sort(self, *args, **kwargs)

    def reverse(self) -> None:
        _save(self)
        list.reverse(self)

    def __iadd__(self, values: Iterable[T]) -> TrackedList[T]:  # type: ignore[override,misc]
        self.extend(values)
        return self

    def __imul__(self, count: SupportsIndex) -> TrackedList[T]:
        _save(self)
        list.__imul__(self, count)
        return self
