"""Loopback plumbing the benchmarks and the tests share: a free port, waiting for a listener,
an ASGI app served by uvicorn in a thread, and the fake served by a process of its own the way
a user starts it (`python -m thredfi_async.testing`)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn

__all__ = ["free_port", "serve", "served_fake_process", "wait_for_port"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, deadline: float = 15.0) -> None:
    """Return once something accepts connections on the loopback port."""
    stop = time.monotonic() + deadline
    while time.monotonic() < stop:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.02)
    raise TimeoutError(f"nothing is listening on port {port}")


@contextmanager
def serve(app: Any) -> Iterator[str]:
    """Serve `app` with uvicorn in a background thread; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="critical", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@contextmanager
def served_fake_process(
    *flags: str, port: int | None = None, until: str = "THREDFI_API_KEY"
) -> Iterator[dict[str, str]]:
    """`python -m thredfi_async.testing --port P *flags` in a process of its own: yields the
    settings it prints (NAME=value lines, up to and including `until`) once it listens, and
    terminates it on exit."""
    port = port or free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "thredfi_async.testing", "--port", str(port), *flags],
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    try:
        assert process.stdout is not None
        printed: dict[str, str] = {}
        while until not in printed:
            line = process.stdout.readline()
            if not line:
                raise RuntimeError("the served fake exited before it printed its settings")
            name, _, value = line.strip().partition("=")
            printed[name] = value
        wait_for_port(port)
        yield printed
    finally:
        process.terminate()
        process.wait(timeout=10)
