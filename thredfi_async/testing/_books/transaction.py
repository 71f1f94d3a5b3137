"""One request's changes to the fake's state, kept all or nothing.

Handlers change records in place as they go. One that fails half-way (a refusal raised after a
write, a crash in the handler, a response that cannot be rendered) would otherwise leave half a
change behind, and every later request would see it: a customer stored before its view failed
to render made every later customer list answer 500. So the pipeline runs each write request in
a :class:`Transaction` and rolls it back whenever the request does not succeed.

What is saved, and when:

* the world's own tables (partners, the business index, the id generator's state and the token
  counters) when the transaction begins: a few small copies;
* what the request changes in a business's books, as it changes it (see :mod:`.journal`): a
  record's fields at its first change, a table's one entry, a list's length. A write costs
  what it touches, not the size of the books; a handler that changes no books saves nothing.

A rollback puts the saved states back into the same objects: ``fake.books(id)``, its tables
and its records stay the same objects and read as they did before the failed request. Reads
(GET) run without a transaction, as they change nothing.
"""

from __future__ import annotations

from typing import Any

from .journal import Journal
from .world import World

__all__ = ["Transaction"]


class Transaction:
    """Saves what one request changes and puts it back on :meth:`rollback`.

    Open from construction until :meth:`close` (or :meth:`rollback`): changes made meanwhile in
    the same context are journaled.
    """

    def __init__(self, world: World) -> None:
        self._world = world
        self._partners = dict(world.partners)
        self._books_index = dict(world.books)
        self._business_by_external = dict(world.business_by_external)
        self._rng_state = world.rng.getstate()
        self._tokens = world.tokens.counters()
        self._journal = Journal()
        self._journal.open()

    def close(self) -> None:
        """Keep the request's changes; later changes in this context are not journaled."""
        self._journal.close()

    def rollback(self) -> None:
        """Put every saved part of the state back as it was when the request began."""
        self._journal.close()
        self._journal.rollback()
        world = self._world
        _replace(world.partners, self._partners)
        _replace(world.books, self._books_index)
        _replace(world.business_by_external, self._business_by_external)
        world.rng.setstate(self._rng_state)
        world.tokens.restore_counters(self._tokens)


def _replace(target: dict[Any, Any], saved: dict[Any, Any]) -> None:
    target.clear()
    target.update(saved)
