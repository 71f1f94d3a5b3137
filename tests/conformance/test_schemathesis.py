"""An independent check of the fake: Schemathesis against the fake served on loopback.

Schemathesis generates requests for every operation of the patched spec (the one the SDK is
generated from and the fake serves) and fails on any 5xx, any status the operation does not
declare, any body that breaks its declared schema and any wrong content type. It knows nothing
of the fake's internals, so it finds what the hand-written tests did not think to send.

To reach the business rules rather than stop at 404s, the served fake first runs the
conformance scenario (one call of every operation), and path ids are drawn from the records
that exist at the time of each call; ids the fake has never seen are sent as generated. Every
call carries the token its operation needs: HTTP Basic for the partner token endpoint, the
partner token for partner-scoped operations, the business token for the business's books. A
fresh Idempotency-Key per call keeps replays of unrelated requests out of the check.

Deterministic (derandomized Hypothesis, a seeded fake on a frozen clock) and bounded: a few
examples per operation, no shrinking, no example database.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
import uvicorn
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import APIOperation
from schemathesis.checks import not_a_server_error
from schemathesis.core.errors import InvalidSchema
from schemathesis.core.result import Err, Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests._served import free_port
from thredfi_async.testing import FakeThredfi
from thredfi_async.testing._books.state import Books
from thredfi_async.testing._server.spec import load_spec

from ..fake import test_conformance as scenario
from ..fake._support import Api
from ..fake.conftest import NOW

EXAMPLES = int(os.environ.get("THREDFI_SCHEMATHESIS_EXAMPLES", "40"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]


Operation = APIOperation[Any, Any, Any, Any]


def _loaded(result: Ok[Operation] | Err[InvalidSchema]) -> Operation:
    """An operation schemathesis could not load fails the module, naming why."""
    if isinstance(result, Err):
        raise result.err()
    return result.ok()


SPEC = load_spec()
SCHEMA = schemathesis.openapi.from_dict(SPEC)
OPERATIONS = sorted(
    (_loaded(result) for result in SCHEMA.get_all_operations()),
    key=lambda operation: str(operation.definition.raw["operationId"]),
)

# Which records a path id names: (segment before it, parameter name) -> the books' records.
_POOLS: dict[tuple[str, str], Callable[[Books], Any]] = {
    ("bank-accounts", "bank_account_id"): lambda b: b.bank_accounts,
    ("bills", "bill_id"): lambda b: b.bills,
    ("chart-of-accounts", "account_id"): lambda b: b.ledger.accounts,
    ("customer-credits", "credit_id"): lambda b: b.customer_credits,
    ("customers", "customer_id"): lambda b: b.customers,
    ("invoices", "invoice_id"): lambda b: b.invoices,
    ("journal-entries", "entry_id"): lambda b: b.ledger.entries,
    ("payments", "bill_payment_id"): lambda b: b.bill_payments,
    ("payments", "vendor_refund_payment_id"): lambda b: b.vendor_refund_payments,
    ("payouts", "payout_id"): lambda b: b.payouts,
    ("vendor-credits", "credit_id"): lambda b: b.vendor_credits,
    ("vendors", "vendor_id"): lambda b: b.vendors,
}


def _pool(path: str, name: str, books: Books) -> list[str]:
    if name == "payment_id":  # an invoice payment, or a refund's payment
        records = books.refund_payments if "/refunds/" in path else books.invoice_payments
        return list(records)
    if name == "refund_id":
        return list(books.vendor_refunds if "/vendor-refunds/" in path else books.refunds)
    segment = re.search(r"/([a-z-]+)/\{" + name + r"\}", path)
    pick = _POOLS.get((segment.group(1) if segment else "", name))
    return list(pick(books)) if pick else []


class Served:
    """The fake on a loopback port, with the tokens and ids the calls need."""

    def __init__(self, fake: FakeThredfi, base_url: str) -> None:
        self.fake = fake
        self.base_url = base_url
        self.business_id = fake.business_ids[0]
        self.partner_token = fake.partner_token()
        self.business_token = fake.business_token(self.business_id)
        self.rng = random.Random(20240115)
        self.keys = 0

    def prepare(self, case: Any) -> dict[str, str]:
        """Real ids into the path (most of the time) and the right credentials."""
        raw = case.operation.definition.raw
        path = case.operation.path
        books = self.fake.books(self.business_id)
        for name in list(case.path_parameters or {}):
            if name == "business_id":
                case.path_parameters[name] = self.business_id
                continue
            pool = _pool(path, name, books)
            if pool and self.rng.random() < 0.9:
                case.path_parameters[name] = self.rng.choice(pool)
        headers = {k: v for k, v in (case.headers or {}).items() if k.lower() != "authorization"}
        case.headers = headers
        if "idempotency-key" in {k.lower() for k in headers} or raw["operationId"] in (
            "create_invoice_payment",
        ):
            self.keys += 1
            headers.pop("Idempotency-Key", None)
            headers["Idempotency-Key"] = f"schemathesis-{self.keys}"
        security = raw.get("security") or [{}]
        scheme = next(iter(security[0]), "")
        if scheme == "BasicAuth":
            return {"Authorization": _basic(self.fake.partner_uuid, self.fake.api_key)}
        token = self.partner_token if scheme == "BearerUnscoped" else self.business_token
        return {"Authorization": f"Bearer {token}"}


def _basic(user: str, password: str) -> str:
    import base64

    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    fake = FakeThredfi(now=NOW, seed=20240115, base_url=base_url, token_ttl=10**7)

    async def populate() -> None:
        async with fake.http_client() as http:
            await scenario.test_every_operation_answers_2xx_and_matches_its_schema(
                fake, Api(fake, http)
            )

    asyncio.run(populate())
    fake.seed(
        business_id=fake.business_ids[0],
        customers_per_business=3,
        invoices_per_customer=2,
        payments_per_invoice=1,
        vendors_per_business=2,
        bills_per_vendor=2,
    )
    fake.app.drop_style = "truncate"
    server = uvicorn.Server(
        uvicorn.Config(fake.app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield Served(fake, base_url)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.parametrize(
    "operation", OPERATIONS, ids=lambda op: str(op.definition.raw["operationId"])
)
def test_the_fake_conforms_to_the_spec(served: Served, operation: Any) -> None:
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy())
    def check(case: Any) -> None:
        auth = served.prepare(case)
        response = case.call(base_url=served.base_url, headers=auth, timeout=10)
        case.validate_response(response, checks=CHECKS)

    crashes_before = len(served.fake.server_errors)
    check()
    assert served.fake.server_errors[crashes_before:] == []
