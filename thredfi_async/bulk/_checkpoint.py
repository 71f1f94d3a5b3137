"""Where an import remembers what it has done, so a rerun sends nothing twice.

A record is written only after its create answered, with the id the API gave it. A create
that answered but was not written yet (the process killed in between) is sent again on the
rerun, and made harmless by the API: a repeated `external_id` answers 200 with the stored
object, a repeated Idempotency-Key the stored answer, and on the creates that deduplicate on
neither, a 409 `duplicate_external_id`, after which the importer looks the record up (see
docs/api-behaviour.md, "Idempotency and deduplication").

`SQLiteCheckpoint` uses the standard library's sqlite3 in a worker thread (anyio.to_thread)
rather than aiosqlite: no extra dependency, and it runs under trio as well as asyncio, where
aiosqlite is asyncio-only.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol, runtime_checkable

import anyio.to_thread

from ._references import Key

__all__ = ["Checkpoint", "MemoryCheckpoint", "SQLiteCheckpoint"]


@runtime_checkable
class Checkpoint(Protocol):
    """What is done, per business: (kind, external_id) -> the created id."""

    async def done(self, business_id: str) -> Mapping[Key, str]: ...

    async def record(self, business_id: str, kind: str, external_id: str, id: str) -> None: ...

    async def aclose(self) -> None: ...


class MemoryCheckpoint:
    """Within one process only: what the importer uses when given no checkpoint."""

    def __init__(self) -> None:
        self._done: dict[str, dict[Key, str]] = {}

    async def done(self, business_id: str) -> Mapping[Key, str]:
        return dict(self._done.get(business_id, {}))

    async def record(self, business_id: str, kind: str, external_id: str, id: str) -> None:
        self._done.setdefault(business_id, {})[(kind, external_id)] = id

    async def aclose(self) -> None:
        return None


class SQLiteCheckpoint:
    """A checkpoint in one SQLite file; each record is committed before `record` returns.

    WAL journaling keeps what was committed through a SIGKILL, and lets a second process read
    the file (a progress query, say) while an import writes it.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS done (business_id TEXT NOT NULL, kind TEXT NOT NULL,"
                " external_id TEXT NOT NULL, id TEXT NOT NULL,"
                " PRIMARY KEY (business_id, kind, external_id))"
            )
            self._db = db
        return self._db

    def _done(self, business_id: str) -> dict[Key, str]:
        with self._lock:
            rows = self._connection().execute(
                "SELECT kind, external_id, id FROM done WHERE business_id = ?", (business_id,)
            )
            return {(kind, external_id): id for kind, external_id, id in rows}

    def _record(self, business_id: str, kind: str, external_id: str, id: str) -> None:
        with self._lock:
            self._connection().execute(
                "INSERT OR REPLACE INTO done VALUES (?, ?, ?, ?)",
                (business_id, kind, external_id, id),
            )

    def _count(self) -> int:
        with self._lock:
            (count,) = self._connection().execute("SELECT count(*) FROM done").fetchone()
            return int(count)

    async def done(self, business_id: str) -> Mapping[Key, str]:
        return await anyio.to_thread.run_sync(self._done, business_id)

    async def record(self, business_id: str, kind: str, external_id: str, id: str) -> None:
        await anyio.to_thread.run_sync(self._record, business_id, kind, external_id, id)

    async def count(self) -> int:
        """How many records are done, over every business."""
        return await anyio.to_thread.run_sync(self._count)

    async def aclose(self) -> None:
        def close() -> None:
            with self._lock:
                if self._db is not None:
                    self._db.close()
                    self._db = None

        await anyio.to_thread.run_sync(close)
