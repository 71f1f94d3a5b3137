"""One request's changes to the fake's state, kept all or nothing.

Handlers change records in place as they go. One that fails half-way (a refusal raised after a
write, a crash in the handler, a response that cannot be rendered) would otherwise leave half a
change behind, and every later request would see it: a customer stored before its view failed
to render made every later customer list answer 500. So the pipeline runs each write request in
a :class:`Transaction` and rolls it back whenever the request does not succeed.

What is saved, and when:

* the world's own tables (partners, the business index, the id generator's state and the token
  counters) when the transaction begins: a few small copies;
* the books of the business in the path the first time a handler reads them
  (``Context.books``), pickled: that copies the whole object graph with its internal sharing
  intact. Objects the books only borrow from the world (the clock, the id generator) are kept by
  reference, not copied. A handler that never opens the books (minting a business token) copies
  nothing.

A rollback puts the copies back in place: ``fake.books(id)`` and ``World.books`` stay the same
objects, but a record fetched from them before the failed request is stale afterwards and must
be read again. Reads (GET) run without a transaction, as they change nothing; list pages over
large seeded books stay cheap. A write costs a copy proportional to the size of the business's
books.
"""

from __future__ import annotations

import io
import pickle
from dataclasses import fields
from typing import Any

from .state import Books
from .world import World

__all__ = ["Transaction"]

_BOOKS_FIELDS = tuple(f.name for f in fields(Books))


class Transaction:
    """Saves what one request may change and puts it back on :meth:`rollback`."""

    def __init__(self, world: World) -> None:
        self._world = world
        self._partners = dict(world.partners)
        self._books_index = dict(world.books)
        self._business_by_external = dict(world.business_by_external)
        self._rng_state = world.rng.getstate()
        self._tokens = world.tokens.counters()
        self._saved_books: dict[int, tuple[Books, bytes]] = {}
        self._borrowed = {id(obj): obj for obj in world.shared_objects()}

    def touch(self, books: Books) -> None:
        """Save ``books`` before the request first changes it (idempotent per request)."""
        if id(books) in self._saved_books:
            return
        buffer = io.BytesIO()
        pickler = pickle.Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL)
        pickler.persistent_id = self._persistent_id  # type: ignore[method-assign]
        pickler.dump(books)
        self._saved_books[id(books)] = (books, buffer.getvalue())

    def rollback(self) -> None:
        """Put every saved part of the state back as it was when the request began."""
        world = self._world
        for books, data in self._saved_books.values():
            unpickler = pickle.Unpickler(io.BytesIO(data))
            unpickler.persistent_load = self._persistent_load  # type: ignore[method-assign]
            saved: Books = unpickler.load()
            for name in _BOOKS_FIELDS:
                setattr(books, name, getattr(saved, name))
        _replace(world.partners, self._partners)
        _replace(world.books, self._books_index)
        _replace(world.business_by_external, self._business_by_external)
        world.rng.setstate(self._rng_state)
        world.tokens.restore_counters(self._tokens)
        self._saved_books.clear()

    def _persistent_id(self, obj: Any) -> int | None:
        key = id(obj)
        return key if key in self._borrowed else None

    def _persistent_load(self, key: Any) -> Any:
        return self._borrowed[key]


def _replace(target: dict[Any, Any], saved: dict[Any, Any]) -> None:
    target.clear()
    target.update(saved)
