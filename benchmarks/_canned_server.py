"""A minimal keep-alive HTTP/1.1 server answering canned bytes, in a child process.

For comparing HTTP clients the server must cost next to nothing, or its time dilutes every
ratio towards 1: uvicorn and the fake spend far longer on a request than the clients do. So
this finds each request's end, ignores the rest, and writes one prebuilt response: a token
for any `.../oauth2/token/`, the given body for everything else, on keep-alive connections.
It has its own process (and core), so the client under test has the other; it costs about a
sixth of a raw aiohttp call per request, so the clients, not it, set the pace.

`python -m benchmarks._canned_server` is the child: it reads the body from stdin (its length
is the first argument), prints its port once it listens, and exits when stdin closes, so it
cannot outlive a parent that died without stopping it. `CannedServer` starts and stops it.
"""

from __future__ import annotations

import io
import json
import os
import selectors
import socket
import subprocess
import sys
from pathlib import Path

from ._server import _first_line

__all__ = ["CannedServer"]

ROOT = Path(__file__).resolve().parent.parent
_TOKEN_SUFFIX = b"/oauth2/token/"  # partner and business token exchanges alike
_TOKEN = json.dumps({"access_token": "canned-token", "expires_in": 3600}).encode()


class CannedServer:
    """`with CannedServer(body) as server:` a server on `server.base_url` until the block ends."""

    def __init__(self, body: bytes) -> None:
        self._body = body
        self._process: subprocess.Popen[str] | None = None
        self.base_url = ""

    def __enter__(self) -> CannedServer:
        path = os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(ROOT)]))
        self._process = process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._canned_server", str(len(self._body))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": path},
        )
        try:
            assert isinstance(process.stdin, io.TextIOWrapper)
            process.stdin.buffer.write(self._body)
            process.stdin.flush()  # kept open: the child exits when it closes
            port = _first_line(process, timeout=30).strip()
            if not port:
                raise RuntimeError("the canned server exited before it started")
            self.base_url = f"http://127.0.0.1:{int(port)}"
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        for pipe in (process.stdin, process.stdout):
            if pipe is not None:
                pipe.close()


# -- the child ------------------------------------------------------------------------------


def _response(body: bytes) -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
    return f"{head}\r\n\r\n".encode() + body


def _serve(body: bytes) -> None:
    """One thread, a selector and blocking sockets: each is read only once it is readable, and
    a response (a few kB, clients not pipelining) always fits its send buffer, so neither
    call blocks, and a request costs a few system calls and no event-loop machinery (an
    asyncio server costs several times as much per request)."""
    answer, token = _response(body), _response(_TOKEN)
    selector = selectors.DefaultSelector()
    listener = socket.create_server(("127.0.0.1", 0), backlog=1024)
    selector.register(listener, selectors.EVENT_READ)
    selector.register(sys.stdin.fileno(), selectors.EVENT_READ)  # EOF: the parent has gone
    pending: dict[socket.socket, bytes] = {}
    print(listener.getsockname()[1], flush=True)
    while True:
        for key, _ in selector.select():
            if key.fileobj is listener:
                connection, _ = listener.accept()
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                selector.register(connection, selectors.EVENT_READ)
                pending[connection] = b""
                continue
            if not isinstance(key.fileobj, socket.socket):
                if not os.read(sys.stdin.fileno(), 4096):
                    return
                continue
            connection = key.fileobj
            try:
                data = connection.recv(65536)
            except OSError:
                data = b""
            if not data:
                selector.unregister(connection)
                del pending[connection]
                connection.close()
                continue
            buffer = pending[connection] + data
            while (end := buffer.find(b"\r\n\r\n")) >= 0:
                head = buffer[:end]
                size = end + 4 + _content_length(head)
                if len(buffer) < size:
                    break
                target = head.split(b" ", 2)[1].split(b"?", 1)[0]  # GET /path?query HTTP/1.1
                connection.sendall(token if target.endswith(_TOKEN_SUFFIX) else answer)
                buffer = buffer[size:]
            pending[connection] = buffer


def _content_length(head: bytes) -> int:
    at = head.lower().find(b"\r\ncontent-length:")
    if at < 0:
        return 0
    return int(head[at + 17 :].split(b"\r\n", 1)[0].strip())


def main(argv: list[str]) -> int:
    length = int(argv[0])
    body = b""
    while len(body) < length:
        chunk = os.read(sys.stdin.fileno(), length - len(body))
        if not chunk:
            raise SystemExit("stdin closed before the whole body arrived")
        body += chunk
    _serve(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
