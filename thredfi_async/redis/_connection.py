"""A Redis client that fails fast: a store or a throttle must not hang a call on a dead Redis.

redis-py's defaults wait 5 s for a socket and retry three times; a token lookup in front of
every API call cannot afford that when Redis is down, as the caller would rather go on without
it. A client the user builds is used as it is.
"""

from __future__ import annotations

from typing import Any

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff

from .._exceptions import InvalidRequestError

__all__ = ["DEFAULT_MAX_CONNECTIONS", "DEFAULT_SOCKET_TIMEOUT", "connect", "resolve"]

DEFAULT_SOCKET_TIMEOUT = 0.5  # seconds to connect, for each reply, and for a free connection
DEFAULT_MAX_CONNECTIONS = 32


def connect(
    url: str,
    *,
    socket_timeout: float = DEFAULT_SOCKET_TIMEOUT,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
    **options: Any,
) -> Redis:
    """A client for `url` whose every command fails within about `socket_timeout` seconds
    when Redis does not answer, and reconnects by itself once it does.

    At most `max_connections` connections: a thousand tasks looking up their tokens at once
    queue for a connection (for up to `socket_timeout`) instead of opening a thousand.
    """
    if not socket_timeout > 0:
        raise InvalidRequestError(f"socket_timeout must be > 0 seconds, got {socket_timeout!r}")
    options.setdefault("socket_timeout", socket_timeout)
    options.setdefault("socket_connect_timeout", socket_timeout)
    options.setdefault("retry", Retry(NoBackoff(), 0))
    pool = BlockingConnectionPool.from_url(
        url, max_connections=max_connections, timeout=socket_timeout, **options
    )
    return Redis.from_pool(pool)


def resolve(redis: Redis | str, socket_timeout: float) -> Redis:
    return connect(redis, socket_timeout=socket_timeout) if isinstance(redis, str) else redis
