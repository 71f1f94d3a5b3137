"""A real redis-server on a free loopback port, for the tests of thredfi_async.redis.

The server is Debian's `redis-server` (installed by `make install`), started with no
persistence in its own temporary directory, by the same code the fleet benchmarks use
(benchmarks/_fleet_servers.py). What these tests prove (one mint across processes, a lock
outliving its holder, a shared rate) depends on the server's atomicity and expiry, so no
in-process imitation stands in for it. A test that stops and restarts Redis makes its own
server (`RedisServer`), so the session's one is never disturbed.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from benchmarks._fleet_servers import RedisProcess

__all__ = ["RedisServer", "redis_url"]


class RedisServer(RedisProcess):
    """A RedisProcess started by `start()`, whose failure to start fails the test with the
    reason (and the server's log) instead of an error inside a fixture."""

    def __init__(self, port: int | None = None) -> None:
        try:
            super().__init__(port, start=False)
        except RuntimeError as missing:
            pytest.fail(str(missing), pytrace=False)

    def start(self, timeout: float = 10.0) -> None:
        try:
            super().start(timeout)
        except RuntimeError as failed:
            pytest.fail(str(failed), pytrace=False)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of a redis-server started for this session, stopped after it."""
    server = RedisServer()
    server.start()
    try:
        yield server.url
    finally:
        server.close()
