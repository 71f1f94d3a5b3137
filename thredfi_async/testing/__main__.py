"""``python -m thredfi_async.testing``: serve the fake Thredfi API over HTTP with uvicorn."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence

from ._books.seed import SeedPlan
from ._fake import FakeThredfi

# What --seed-businesses writes into each business unless a flag says otherwise: enough of
# everything to click through.
SERVED_PLAN = SeedPlan(
    customers_per_business=5,
    invoices_per_customer=3,
    vendors_per_business=2,
    bills_per_vendor=2,
    bank_accounts_per_business=1,
    transactions_per_bank_account=10,
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m thredfi_async.testing",
        description="Serve a stateful fake of the Thredfi Partner API.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--seed-businesses", type=int, default=0, metavar="N")
    for size in dataclasses.fields(SeedPlan):
        default = getattr(SERVED_PLAN, size.name)
        flag = f"--{size.name.replace('_', '-')}"
        metavar = "N" if isinstance(default, int) else None
        parser.add_argument(flag, type=type(default), default=default, metavar=metavar)
    parser.add_argument("--token-ttl", type=int, default=3600)
    parser.add_argument("--envelope", choices=("page_info", "next"), default="page_info")
    parser.add_argument("--random-seed", type=int, default=None)
    parser.add_argument("--spec", default=None, help="OpenAPI file to serve instead of the default")
    parser.add_argument("--log-level", default="info")
    limits = parser.add_argument_group("rate limits (none unless given)")
    limits.add_argument("--partner-rps", type=float, default=None, metavar="R")
    limits.add_argument("--business-rps", type=float, default=None, metavar="R")
    limits.add_argument("--rate-burst", type=int, default=1, metavar="N")
    parser.add_argument(
        "--latency",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="delay every request by this long, as a distant API would",
    )
    args = parser.parse_args(argv)

    fake = FakeThredfi(
        token_ttl=args.token_ttl,
        envelope=args.envelope,
        seed=args.random_seed,
        spec=args.spec,
        base_url=f"http://{args.host}:{args.port}",
        drop_style="truncate",
    )
    if args.partner_rps is not None or args.business_rps is not None:
        fake.limits.set(
            partner_rps=args.partner_rps, business_rps=args.business_rps, burst=args.rate_burst
        )
    if args.latency > 0:
        fake.faults.latency(args.latency)
    seeded = None
    if args.seed_businesses:
        sizes = {size.name: getattr(args, size.name) for size in dataclasses.fields(SeedPlan)}
        seeded = fake.seed(args.seed_businesses, **sizes)
    print(f"THREDFI_BASE_URL={fake.base_url}")
    print(f"THREDFI_PARTNER_UUID={fake.partner_uuid}")
    print(f"THREDFI_API_KEY={fake.api_key}")
    if seeded is not None:
        for business_id in seeded.business_ids:
            print(f"business_id={business_id}")
    sys.stdout.flush()
    fake.serve(args.host, args.port, log_level=args.log_level)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
