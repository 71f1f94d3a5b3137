"""The fake Thredfi API served by uvicorn on loopback, in a child process.

A child process rather than a thread: the server has its own interpreter and GIL, as a real
API would, so the client under test is not slowed by the server's work. Because the
FakeThredfi then lives in the other process, the child also answers two control routes under
/_bench/ (request counts, page latency); everything else goes to the fake unchanged.

`python -m benchmarks._server --port N ...` is the child; `FakeServer` starts and stops it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import httpx

from ._loopback import free_port, wait_for_port

__all__ = ["FakeServer", "ServedData"]

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class ServedData:
    """What the child seeded, as it printed it on start."""

    base_url: str
    partner_uuid: str
    api_key: str
    business_id: str  # the business with the long invoice listing
    invoice_ids: list[str]
    fanout: list[tuple[str, str]]  # (business_id, invoice_id) for the token fan-out


class FakeServer:
    """Start the child, wait until it listens, stop it on exit (`with FakeServer(...) as s`)."""

    def __init__(self, *, customers: int, invoices_per_customer: int, fanout: int) -> None:
        self._args = [
            f"--customers={customers}",
            f"--invoices-per-customer={invoices_per_customer}",
            f"--fanout={fanout}",
        ]
        self._process: subprocess.Popen[str] | None = None
        self.data: ServedData | None = None

    def __enter__(self) -> FakeServer:
        port = free_port()
        # The child imports this package, wherever the parent was started from.
        path = os.pathsep.join(filter(None, [os.environ.get("PYTHONPATH"), str(ROOT)]))
        self._process = subprocess.Popen(
            [sys.executable, "-m", "benchmarks._server", f"--port={port}", *self._args],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": path},
        )
        try:
            line = _first_line(self._process, timeout=60)
            if not line:
                raise RuntimeError("the benchmark server exited before it started")
            served = json.loads(line)
            served["fanout"] = [tuple(pair) for pair in served["fanout"]]
            self.data = ServedData(**served)
            wait_for_port(port, deadline=30.0)
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
        if process.stdout is not None:
            process.stdout.close()

    @property
    def base_url(self) -> str:
        assert self.data is not None
        return self.data.base_url

    def token_requests(self) -> int:
        """Token exchanges the fake has answered so far (partner and business)."""
        return int(httpx.get(f"{self.base_url}/_bench/stats").json()["token_requests"])

    def set_page_latency(self, seconds: float) -> None:
        """Every page of every list operation waits this long first (0: no added latency)."""
        response = httpx.post(f"{self.base_url}/_bench/page-latency?seconds={seconds}")
        response.raise_for_status()


def _first_line(process: subprocess.Popen[str], timeout: float) -> str:
    """The child's first line of output, or an error if it has none in time."""
    assert process.stdout is not None
    with ThreadPoolExecutor(max_workers=1) as reader:
        line = reader.submit(process.stdout.readline)
        try:
            return line.result(timeout=timeout)
        except TimeoutError:
            process.kill()  # closes the pipe, which ends the pending read
            raise RuntimeError(f"the benchmark server did not start in {timeout} s") from None


# -- the child ------------------------------------------------------------------------------


class _ControlledFake:
    """The fake's ASGI app plus the /_bench/ control routes."""

    def __init__(self, fake: Any) -> None:
        self.fake = fake
        self._latency: Any = None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/_bench/"):
            await self.fake.app(scope, receive, send)
            return
        query = parse_qs(scope["query_string"].decode())
        if scope["path"] == "/_bench/stats":
            body: dict[str, Any] = {
                "token_requests": len(self.fake.requests.token_requests),
                "requests": len(self.fake.requests),
            }
        elif scope["path"] == "/_bench/page-latency":
            if self._latency is not None:
                self.fake.faults.remove(self._latency)
                self._latency = None
            seconds = float(query["seconds"][0])
            if seconds > 0:
                self._latency = self.fake.faults.page_latency(seconds)
            body = {"seconds": seconds}
        else:
            body = {"error": "unknown control route"}
        content = json.dumps(body).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 200 if "error" not in body else 404,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": content})


def main(argv: Sequence[str] | None = None) -> int:
    import uvicorn

    from thredfi_async.testing import FakeThredfi

    parser = argparse.ArgumentParser(prog="python -m benchmarks._server")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--customers", type=int, required=True)
    parser.add_argument("--invoices-per-customer", type=int, required=True)
    parser.add_argument("--fanout", type=int, required=True)
    args = parser.parse_args(argv)

    host = "127.0.0.1"
    fake = FakeThredfi(  # a fixed seed: the same ids and data on every run
        base_url=f"http://{host}:{args.port}", seed=8, drop_style="truncate"
    )
    listing = fake.seed(
        customers_per_business=args.customers, invoices_per_customer=args.invoices_per_customer
    ).businesses[0]
    fanout = fake.seed(args.fanout, customers_per_business=1, invoices_per_customer=1)
    data = ServedData(
        base_url=fake.base_url,
        partner_uuid=fake.partner_uuid,
        api_key=fake.api_key,
        business_id=listing.business_id,
        invoice_ids=listing.invoice_ids,
        fanout=[(b.business_id, b.invoice_ids[0]) for b in fanout.businesses],
    )
    print(json.dumps(data.__dict__), flush=True)
    uvicorn.run(
        _ControlledFake(fake), host=host, port=args.port, log_level="warning", access_log=False
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
