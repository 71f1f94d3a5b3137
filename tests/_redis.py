"""A real redis-server on a free loopback port, for the tests of thredfi_async.redis.

The server is Debian's `redis-server` (installed by `make install`), started with no
persistence in its own temporary directory. What these tests prove (one mint across processes,
a lock outliving its holder, a shared rate) depends on the server's atomicity and expiry, so
no in-process imitation stands in for it. A test that stops and restarts Redis makes its own
server (`RedisServer`), so the session's one is never disturbed.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests._served import free_port

__all__ = ["RedisServer", "redis_url"]


class RedisServer:
    """One redis-server process; stop() and start() again keep its port (and lose its data)."""

    def __init__(self, port: int | None = None) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            pytest.fail(
                "redis-server is not on PATH: run `make install` (it installs Debian's "
                "redis-server), or install Redis 6.2+ yourself",
                pytrace=False,
            )
        self.executable = executable
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = Path(tempfile.mkdtemp(prefix="thredfi-redis-"))
        self._process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and return once it answers PING."""
        self._process = subprocess.Popen(
            [
                *(self.executable, "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no", "--dir", str(self._dir)),
                *("--logfile", str(self._dir / "redis.log")),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while not self._answers_ping():
            if self._process.poll() is not None:
                log = (self._dir / "redis.log").read_text(errors="replace")[-2000:]
                pytest.fail(f"redis-server exited with {self._process.returncode}:\n{log}")
            if time.monotonic() > deadline:
                self.stop()
                pytest.fail(f"redis-server did not answer PING within {timeout} s")
            time.sleep(0.02)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """The URL of a redis-server started for this session, stopped after it."""
    server = RedisServer()
    server.start()
    try:
        yield server.url
    finally:
        server.close()
