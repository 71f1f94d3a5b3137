"""The two servers a fleet run needs: the fake served on loopback in this process (`serve`, from
`_loopback`), and a real redis-server on a free port.

The fake runs in a thread of the parent, which only waits while the worker processes run, so
its request log (what the figures are read from) is at hand. Redis is Debian's `redis-server`
(installed by `make install`), without persistence, in a temporary directory.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Self

from ._loopback import free_port, serve

__all__ = ["RedisProcess", "free_port", "serve"]


class RedisProcess:
    """One redis-server on a loopback port, no persistence, in a temporary directory of its own
    (the tests' fixture subclasses it). `stop()` ends it (a run that loses Redis) and `start()`
    brings it back on the same port, empty; `close()` cleans up."""

    def __init__(self, port: int | None = None, *, start: bool = True) -> None:
        executable = shutil.which("redis-server")
        if executable is None:
            raise RuntimeError(
                "redis-server is not on PATH: run `make install` (it installs Debian's "
                "redis-server), or install Redis 6.2+ yourself"
            )
        self.executable = executable
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._dir = Path(tempfile.mkdtemp(prefix="thredfi-redis-"))
        self._process: subprocess.Popen[bytes] | None = None
        if start:
            self.start()

    def start(self, timeout: float = 10.0) -> None:
        """Start the server and return once it answers PING."""
        process = self._process = subprocess.Popen(
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
            if process.poll() is not None:
                log = (self._dir / "redis.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"redis-server exited with {process.returncode}:\n{log}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not answer PING within {timeout} s")
            time.sleep(0.02)

    def _answers_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(64).startswith(b"+PONG")
        except OSError:
            return False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

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
