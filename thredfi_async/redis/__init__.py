"""Many worker processes sharing tokens and a request budget through one Redis.

`RedisTokenStore` keeps the partner token and every business token in Redis, and makes the
processes sharing it mint each one once; `RedisThrottle` paces all of them within one budget;
`RedisCheckpoint` holds what a distributed bulk import has done. The first two treat Redis as
a cache of coordination: when it is unreachable, calls go on with what each process has (its
own tokens, its own pacing) and a warning, and use Redis again when it answers; the checkpoint
stops the import instead (a lost mark would be a resent record).

Needs the `redis` extra: `pip install 'thredfi-async[redis]'` (redis-py 5 or newer).
"""

from __future__ import annotations

try:
    import redis.asyncio  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess without the extra
    from .._extras import MissingExtraError

    raise MissingExtraError("thredfi_async.redis", "redis", "redis-py") from exc

from ._checkpoint import CheckpointError, RedisCheckpoint
from ._connection import connect
from ._throttle import RedisThrottle
from ._tokens import RedisTokenStore

__all__ = ["CheckpointError", "RedisCheckpoint", "RedisThrottle", "RedisTokenStore", "connect"]
