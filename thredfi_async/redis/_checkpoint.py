"""A bulk-import checkpoint in Redis, shared by every worker of a distributed import.

Keys: `{prefix}checkpoint:{run}:{business_id}` is a hash from `kind` and `external_id` (joined
by a unit separator, which neither contains in practice and which the field splits on once) to
the created id. One HSET per record: a mark is atomic, and two workers marking records of the
same business never overwrite each other's fields. `run` names the import, so two imports
into the same Redis (or a rerun meant to start afresh) keep apart.

Unlike the token store and the throttle, a checkpoint does not go on without Redis: a mark that
was not written would make a resumed run resend what it did, so a Redis error stops the import
(as `CheckpointError`) instead of being logged and passed over.
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from typing import Any, TypeVar, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from .._exceptions import InvalidRequestError, ThredfiError
from ..bulk._references import Key
from ._connection import resolve
from ._tokens import DEFAULT_PREFIX

__all__ = ["CheckpointError", "RedisCheckpoint"]

DEFAULT_CHECKPOINT_TIMEOUT = 5.0  # seconds: a checkpoint waits for Redis rather than skip a mark
_SEPARATOR = "\x1f"
T = TypeVar("T")


class CheckpointError(ThredfiError):
    """The checkpoint could not be read or written; the import stops rather than lose a mark."""


class RedisCheckpoint:
    """The `Checkpoint` of `thredfi_async.bulk` on Redis, for workers on any number of machines.

    `redis` is a `redis.asyncio.Redis` client or a URL (then closed by `aclose()`); every
    worker of one import passes the same `run` and `prefix`.
    """

    def __init__(
        self,
        redis: Redis | str,
        *,
        run: str,
        prefix: str = DEFAULT_PREFIX,
        socket_timeout: float = DEFAULT_CHECKPOINT_TIMEOUT,
    ) -> None:
        if not run:
            raise InvalidRequestError("run must name the import, for example 'onboarding-2025-06'")
        self._owns_client = isinstance(redis, str)
        self.redis = resolve(redis, socket_timeout)
        self.run = run
        self.prefix = prefix

    def __repr__(self) -> str:
        return f"RedisCheckpoint(run={self.run!r}, prefix={self.prefix!r})"

    def key(self, business_id: str) -> str:
        return f"{self.prefix}checkpoint:{self.run}:{business_id}"

    async def done(self, business_id: str) -> Mapping[Key, str]:
        try:
            fields: dict[Any, Any] = await _awaited(self.redis.hgetall(self.key(business_id)))
        except RedisError as error:
            raise CheckpointError(
                f"could not read the checkpoint of {business_id}: {error}"
            ) from error
        done: dict[Key, str] = {}
        for field, value in fields.items():
            kind, _, external_id = _text(field).partition(_SEPARATOR)
            done[(kind, external_id)] = _text(value)
        return done

    async def record(self, business_id: str, kind: str, external_id: str, id: str) -> None:
        try:
            await _awaited(
                self.redis.hset(self.key(business_id), f"{kind}{_SEPARATOR}{external_id}", id)
            )
        except RedisError as error:
            raise CheckpointError(
                f"could not mark {kind} {external_id!r} of {business_id} as done: {error}"
            ) from error

    async def aclose(self) -> None:
        """Close the connection pool, if this checkpoint made it from a URL."""
        if self._owns_client:
            await self.redis.aclose()


async def _awaited(result: Awaitable[T] | T) -> T:
    """redis-py 5 types its commands as sync or async; on the asyncio client they are async."""
    return await cast("Awaitable[T]", result)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
