"""Prism, the independent server the contract tests call: one process per mode per session.

Prism mocks thredfi_async/_generated/openapi.json, the PATCHED spec the SDK is generated from,
not the vendor openapi.yaml at the repository root. codegen/patches.yaml makes three
corrections (report schemas, a duplicated business_id parameter, the token request encoding);
the vendor file renders each of the six reports (get_ap_aging, get_ar_aging,
get_financial_summary, get_balance_sheet, get_profit_and_loss, get_cash_flow_statement) as an
array around the report while the API returns the bare object, so against openapi.yaml those
six would fail on exactly that array-vs-object difference: a deliberate correction, not a
contract break.

Prism is installed by `make install` (npm ci, pinned in package-lock.json) into ./node_modules.
When it is missing the tests fail rather than skip: a contract run that silently checks nothing
would read as a pass.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests._served import free_port

from ..spec_samples import operations

ROOT = Path(__file__).resolve().parents[2]
PRISM = ROOT / "node_modules" / ".bin" / "prism"
SPEC = ROOT / "thredfi_async" / "_generated" / "openapi.json"

# No --errors: request violations get a 4xx either way (the spec's example with an sl-violations
# header, or Prism's own 422 problem document), which is what the tests read.
DYNAMIC_SEED = 20240115
MODES: dict[str, list[str]] = {
    "static": [],
    "dynamic": ["--dynamic", "--seed", str(DYNAMIC_SEED)],
}
STARTUP_DEADLINE = 60.0  # seconds; Prism loads the spec in about 2
STOP_DEADLINE = 10.0

WALKED: Counter[str] = Counter()
CONFORMING: Counter[str] = Counter()
"""Operations the walk called and those that passed it, per mode (for the terminal summary)."""


@dataclass
class PrismServer:
    mode: str
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path
    log: IO[bytes] = field(repr=False)

    def output(self) -> str:
        self.log.flush()
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        """SIGTERM to the process group (node and whatever it spawned), SIGKILL if it lingers."""
        try:
            if self.process.poll() is None:
                _signal_group(self.process, signal.SIGTERM)
                try:
                    self.process.wait(timeout=STOP_DEADLINE)
                except subprocess.TimeoutExpired:
                    _signal_group(self.process, signal.SIGKILL)
                    self.process.wait(timeout=STOP_DEADLINE)
            else:  # the leader is gone; children it left in the group must not outlive the run
                _signal_group(self.process, signal.SIGKILL)
        finally:
            self.log.close()


def _signal_group(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)  # start_new_session=True: the group id is the pid


def _answers(url: str) -> bool:
    try:
        httpx.get(f"{url}/", timeout=1.0, trust_env=False)
    except httpx.TransportError:
        return False
    return True  # any HTTP answer (Prism says 404 for "/") means it is serving


def _wait_until_answering(server: PrismServer) -> bool:
    """Poll until Prism answers HTTP (True), or exits or misses the deadline (False)."""
    deadline = time.monotonic() + STARTUP_DEADLINE
    while time.monotonic() < deadline:
        if _answers(server.url):
            return True
        if server.process.poll() is not None:
            return False
        time.sleep(0.1)
    return False


def start_prism(mode: str, log_dir: Path) -> PrismServer:
    """Start Prism on a free loopback port and return once it answers HTTP.

    The port is picked by binding port 0 and releasing it, so another process can take it in
    between; Prism then exits with EADDRINUSE and the start is retried on a new port.
    """
    if not PRISM.exists():
        pytest.fail(
            f"Prism is not installed ({PRISM.relative_to(ROOT)} is missing): run make install "
            "(it runs npm ci, which installs the pinned @stoplight/prism-cli into node_modules)",
            pytrace=False,
        )
    command: list[str] = []
    for attempt in range(3):
        port = free_port()
        log_path = log_dir / f"prism-{mode}-{attempt}.log"
        command = [str(PRISM), "mock", "-h", "127.0.0.1", "-p", str(port), *MODES[mode]]
        log = log_path.open("wb")
        process = subprocess.Popen(
            [*command, str(SPEC)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        server = PrismServer(mode, f"http://127.0.0.1:{port}", process, log_path, log)
        ready = False
        try:
            ready = _wait_until_answering(server)
        finally:
            if not ready:  # also on KeyboardInterrupt: never leave a Prism behind
                exit_status = process.poll()
                output = server.output()
                server.stop()
        if ready:
            return server
        if exit_status is not None and "EADDRINUSE" in output:
            continue
        reason = (
            f"exited with status {exit_status}"
            if exit_status is not None
            else f"did not answer within {STARTUP_DEADLINE:g} s"
        )
        pytest.fail(
            f"Prism ({mode}) {reason}: {' '.join([*command, str(SPEC)])}\n"
            f"--- Prism output ---\n{output}",
            pytrace=False,
        )
    pytest.fail(f"Prism ({mode}) found no free port in 3 attempts: {' '.join(command)}")


PrismFactory = Callable[[str], PrismServer]


@pytest.fixture(scope="session")
def prism(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrismFactory]:
    """`prism(mode)`: the session's Prism in that mode, started on first use, stopped at the end
    of the session whatever the tests did."""
    servers: dict[str, PrismServer] = {}
    failures: dict[str, str] = {}  # a failed start is not retried by every following test
    log_dir = tmp_path_factory.mktemp("prism")

    def get(mode: str) -> PrismServer:
        if mode in failures:
            pytest.fail(failures[mode], pytrace=False)
        if mode not in servers:
            try:
                servers[mode] = start_prism(mode, log_dir)
            except pytest.fail.Exception as failure:
                failures[mode] = str(failure)
                raise
        server = servers[mode]
        if server.process.poll() is not None:
            pytest.fail(f"Prism ({mode}) died during the run:\n{server.output()}", pytrace=False)
        return server

    try:
        yield get
    finally:
        for server in servers.values():
            server.stop()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    total = len(operations())
    for mode in (mode for mode in MODES if WALKED[mode]):
        seed = f", seed {DYNAMIC_SEED}" if mode == "dynamic" else ""
        partial = f" ({WALKED[mode]} selected)" if WALKED[mode] != total else ""
        terminalreporter.write_line(
            f"contract ({mode}{seed}): {CONFORMING[mode]} of {total} operations conform"
            f" to Prism{partial}"
        )
