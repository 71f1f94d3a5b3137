"""The SDK against raw httpx and aiohttp, side by side: `make bench` (`python -m benchmarks`).

Every figure is a ratio measured in one run, the SDK and its baseline taking turns, because
absolute times on a shared machine are noise; absolute times are printed under each figure as
context only. Figures and targets:

* per_call.*: `await books.invoices.get(id)` / (httpx get + json.loads), sequential and
  concurrent, over loopback and in process (client work only). Target <= 1.15.
* parsing.*: one page of 100 invoices into the generated models / json.loads alone (context)
  and / equivalent pydantic v2 models (both validate_json and validate(json.loads)). <= 1.0.
* pagination.*: speedup over a hand-written sequential httpx loop across 10,000 invoices with
  10 ms added per page: without prefetch (>= 0.87), with prefetch and in `async with` (>= 1.5).
* peers.*: the SDK (default transport; on an httpx client, context) and raw httpx (context)
  / raw aiohttp, per call, against a canned server in its own process: sequential (SDK
  <= 1.25), 20 and 100 at once (<= 1.5).
* tokens.fanout_token_requests: 1,000 concurrent calls over 50 businesses, cold cache: == 51.
* fleets.tokens.*: 4 processes, each its own client, one call each for the same 200 businesses
  at once from a cold cache, tokens in one Redis: partner token requests == 1, business token
  requests == 200 (in memory, printed beside them: 4 and 800).
* fleets.pacing.*: the fake limits the partner to 100/s and 4 processes share a RedisThrottle
  at 100/s for 5 s: most requests in any second / the limit <= 1.05, admitted per second / the
  limit >= 0.9, share not answered 429 >= 0.99 (beside them: each process with its own
  LocalThrottle); with the throttle at twice the limit, that share after 10 s >= 0.95.
* import.vs_httpx: `import thredfi_async` / `import httpx` (-X importtime). <= 2.0.
* memory.token_cache_vs_dict: bytes per cached business token / a plain dict's. <= 2.0.

The fake API (thredfi_async.testing) is served by uvicorn in a child process on loopback
(benchmarks/_server.py); the fleet runs serve their own in this process, with a redis-server
and a pool of worker processes (benchmarks/fleets.py). `--smoke` runs everything at tiny
sizes; results go to benchmarks/results.json.
"""
