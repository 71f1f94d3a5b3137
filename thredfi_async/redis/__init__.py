"""Many worker processes sharing tokens and a request budget through one Redis.

`RedisTokenStore` keeps the partner token and every business token in Redis, and makes the
processes sharing it mint each one once; `RedisThrottle` paces all of them within one budget.
Both treat Redis as a cache of coordination: when it is unreachable, calls go on with what each
process has (its own tokens, its own pacing) and a warning, and use Redis again when it answers.

Needs the `redis` extra: `pip install 'thredfi-async[redis]'` (redis-py 5 or newer).
"""

from __future__ import annotations

try:
    import redis.asyncio  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised in a subprocess without the extra
    from .._extras import MissingExtraError

    raise MissingExtraError("thredfi_async.redis", "redis", "redis-py") from exc

from ._connection import connect
from ._throttle import RedisThrottle
from ._tokens import RedisTokenStore

__all__ = ["RedisThrottle", "RedisTokenStore", "connect"]
