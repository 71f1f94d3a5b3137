"""The benchmarks still run (`python -m benchmarks --smoke`) and report every figure.

Timings are not asserted: at smoke sizes on a shared machine they mean nothing. What is
checked is that each figure was produced, is a finite number, and is judged against its target
(or marked as context only).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from benchmarks.runner import main

FIGURES = {
    "per_call.sequential.loopback",
    "per_call.concurrent.loopback",
    "per_call.sequential.in_process",
    "per_call.concurrent.in_process",
    "parsing.vs_json_loads",
    "parsing.vs_pydantic_validate_json",
    "parsing.vs_pydantic_validate_python",
    "pagination.no_prefetch",
    "pagination.prefetch",
    "pagination.prefetch_background",
    "tokens.fanout_token_requests",
    "sync.per_call.vs_httpx_client",
    "sync.per_call.vs_requests",
    "sync.threads_8.vs_httpx_client",
    "fleets.tokens.partner_requests",
    "fleets.tokens.business_requests",
    "fleets.pacing.peak_vs_limit",
    "fleets.pacing.admitted_vs_limit",
    "fleets.pacing.answered_share",
    "fleets.pacing.adaptive_answered_share",
    "bulk.paced.answered_vs_limit",
    "bulk.paced.answered_share",
    "bulk.unlimited.vs_sequential",
    "import.vs_httpx",
    "memory.token_cache_vs_dict",
    "redaction.many_clients_vs_one",
    "peers.sdk_default.sequential",
    "peers.sdk_default.concurrent_20",
    "peers.sdk_default.concurrent_100",
    "peers.sdk_httpx.sequential",
    "peers.sdk_httpx.concurrent_20",
    "peers.sdk_httpx.concurrent_100",
    "peers.raw_httpx.sequential",
    "peers.raw_httpx.concurrent_20",
    "peers.raw_httpx.concurrent_100",
}
INFO = {  # context only: no target
    "parsing.vs_json_loads",
    "sync.per_call.vs_requests",
    "sync.threads_8.vs_httpx_client",
    "peers.sdk_httpx.sequential",
    "peers.sdk_httpx.concurrent_20",
    "peers.sdk_httpx.concurrent_100",
    "peers.raw_httpx.sequential",
    "peers.raw_httpx.concurrent_20",
    "peers.raw_httpx.concurrent_100",
}


def test_smoke_run_writes_every_figure(tmp_path: Path) -> None:
    output = tmp_path / "results.json"
    assert main(["--smoke", "--output", str(output)]) == 0
    results = json.loads(output.read_text())
    assert results["mode"] == "smoke"
    assert set(results["figures"]) == FIGURES
    for name, figure in results["figures"].items():
        assert math.isfinite(figure["value"]), name
        assert figure["value"] > 0, name
        if name in INFO:
            assert (figure["target"], figure["status"]) == (None, "INFO")
        else:
            assert figure["target"] is not None, name
            assert figure["status"] in {"PASS", "MISS"}, name


def test_the_bulk_import_benchmark_runs_and_checks_its_outcome() -> None:
    from benchmarks import bulk

    assert bulk.main(["--smoke"]) == 0
