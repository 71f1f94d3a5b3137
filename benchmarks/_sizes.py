"""How much work each benchmark does: the real run, and the smoke run that only proves it works."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["FULL", "SMOKE", "Sizes"]


@dataclass(frozen=True)
class Sizes:
    name: str
    # the listing: one business with customers x invoices_per_customer invoices
    customers: int
    invoices_per_customer: int
    # per-call overhead: rounds of (sequential calls | batches of `concurrency` calls) each
    call_rounds: int
    sequential_calls: int
    concurrency: int
    concurrent_batches: int
    # peers: rounds of `peer_sequential_calls` calls one at a time, or of about `peer_calls`
    # calls in batches of 20 and of 100 at once, per contender
    peer_rounds: int
    peer_sequential_calls: int
    peer_calls: int
    # model parsing of one page: rounds of `parse_number` parses each
    parse_rounds: int
    parse_number: int
    # pagination over the whole listing
    page_size: int
    page_latency: float
    prefetch: int
    pagination_rounds: int
    # token fan-out from a cold cache
    fanout_businesses: int
    fanout_calls: int
    # import cost (fresh interpreters per contender) and token-cache memory
    import_runs: int
    memory_tokens: int
    # redaction against the secrets of this many live clients
    redaction_clients: int
    redaction_rounds: int
    redaction_number: int
    # fleets: worker processes over the same businesses; pacing at fleet_rate per second for
    # fleet_seconds, and with the throttle above the limit for fleet_adaptive_seconds, its
    # 429s counted after fleet_adaptive_settle; a 429 retried up to fleet_max_retries times
    fleet_workers: int
    fleet_businesses: int
    fleet_rate: float
    fleet_seconds: float
    fleet_adaptive_seconds: float
    fleet_adaptive_settle: float
    fleet_max_retries: int
    # bulk import over loopback at 10 ms latency: bulk_businesses of this size each; paced at
    # the fake's partner limit bulk_rate, and unlimited with bulk_concurrency businesses at once
    bulk_businesses: int
    bulk_customers: int
    bulk_invoices: int
    bulk_payments: int
    bulk_refunds: int
    bulk_rate: float
    bulk_concurrency: int

    @property
    def invoices(self) -> int:
        return self.customers * self.invoices_per_customer


FULL = Sizes(
    name="full",
    customers=100,
    invoices_per_customer=100,
    call_rounds=15,
    sequential_calls=200,
    concurrency=100,
    concurrent_batches=4,
    peer_rounds=9,
    peer_sequential_calls=300,
    peer_calls=2000,
    parse_rounds=15,
    parse_number=20,
    page_size=100,
    page_latency=0.010,
    prefetch=4,
    pagination_rounds=3,
    fanout_businesses=50,
    fanout_calls=1000,
    import_runs=9,
    memory_tokens=10_000,
    redaction_clients=50_000,
    redaction_rounds=9,
    redaction_number=2_000,
    fleet_workers=4,
    fleet_businesses=200,
    fleet_rate=100,
    fleet_seconds=5,
    fleet_adaptive_seconds=15,
    fleet_adaptive_settle=10,
    fleet_max_retries=6,
    bulk_businesses=8,
    bulk_customers=5,
    bulk_invoices=20,
    bulk_payments=15,
    bulk_refunds=3,
    bulk_rate=50,
    bulk_concurrency=8,
)

SMOKE = Sizes(
    name="smoke",
    customers=4,
    invoices_per_customer=10,
    call_rounds=2,
    sequential_calls=5,
    concurrency=10,
    concurrent_batches=1,
    peer_rounds=1,
    peer_sequential_calls=5,
    peer_calls=100,
    parse_rounds=2,
    parse_number=2,
    page_size=10,
    page_latency=0.001,
    prefetch=2,
    pagination_rounds=1,
    fanout_businesses=3,
    fanout_calls=12,
    import_runs=1,
    memory_tokens=50,
    redaction_clients=500,
    redaction_rounds=1,
    redaction_number=10,
    fleet_workers=2,
    fleet_businesses=3,
    fleet_rate=20,
    fleet_seconds=0.25,
    fleet_adaptive_seconds=0.25,
    fleet_adaptive_settle=0.1,
    fleet_max_retries=0,  # a retry waits a whole second: the smoke run only proves it runs
    bulk_businesses=2,
    bulk_customers=1,
    bulk_invoices=2,
    bulk_payments=1,
    bulk_refunds=1,
    bulk_rate=50,
    bulk_concurrency=2,
)
