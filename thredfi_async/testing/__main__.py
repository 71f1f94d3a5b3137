"""``python -m thredfi_async.testing``: serve the fake Thredfi API over HTTP with uvicorn."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from ._fake import FakeThredfi


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m thredfi_async.testing",
        description="Serve a stateful fake of the Thredfi Partner API.",
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--seed-businesses", type=int, default=0, metavar="N")
    parser.add_argument("--customers-per-business", type=int, default=5)
    parser.add_argument("--invoices-per-customer", type=int, default=3)
    parser.add_argument("--vendors-per-business", type=int, default=2)
    parser.add_argument("--bills-per-vendor", type=int, default=2)
    parser.add_argument("--bank-accounts-per-business", type=int, default=1)
    parser.add_argument("--transactions-per-bank-account", type=int, default=10)
    parser.add_argument("--token-ttl", type=int, default=3600)
    parser.add_argument("--envelope", choices=("page_info", "next"), default="page_info")
    parser.add_argument("--random-seed", type=int, default=None)
    parser.add_argument("--spec", default=None, help="OpenAPI file to serve instead of the default")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)

    fake = FakeThredfi(
        token_ttl=args.token_ttl,
        envelope=args.envelope,
        seed=args.random_seed,
        spec=args.spec,
        base_url=f"http://{args.host}:{args.port}",
        drop_style="truncate",
    )
    seeded = None
    if args.seed_businesses:
        seeded = fake.seed(
            args.seed_businesses,
            customers_per_business=args.customers_per_business,
            invoices_per_customer=args.invoices_per_customer,
            vendors_per_business=args.vendors_per_business,
            bills_per_vendor=args.bills_per_vendor,
            bank_accounts_per_business=args.bank_accounts_per_business,
            transactions_per_bank_account=args.transactions_per_bank_account,
        )
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
