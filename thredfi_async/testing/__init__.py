"""An embedded, stateful fake of the Thredfi Partner API for tests, demos and benchmarks.

```python
from thredfi_async.testing import FakeThredfi

fake = FakeThredfi()                       # partner credentials: fake.partner_uuid / api_key
async with fake.client() as thredfi:       # the SDK, in process (httpx.ASGITransport)
    ...
async with fake.http_client() as http:     # or plain httpx against fake.base_url
    ...

fake.seed(customers_per_business=100, invoices_per_customer=100)   # 10,000 invoices, fast
fake.faults.fail(503, times=2)             # also: rate_limit, latency, page_latency,
fake.faults.drop_connection()              #       expire_tokens, clear
fake.limits.set(partner_rps=100, burst=10) # 429 + Retry-After beyond it; fake.requests.refused()
fake.advance(3600)                         # tokens issued an hour ago have now expired
fake.requests.count("get_partner_token")   # every request is recorded
fake.client(clock=RecordingClock())        # retry waits recorded in clock.sleeps, not slept
```

Every operation of the spec is served with its business rules (balances, statuses, soft
deletes, idempotency, token scopes), validated against the same OpenAPI document the SDK is
generated from. ``python -m thredfi_async.testing --port 8000`` serves the same app over HTTP.
Under pytest the ``thredfi_fake``, ``thredfi``, ``thredfi_clock`` and ``thredfi_business``
fixtures (``thredfi_async.pytest_plugin``) give each test a fresh fake and a client on it.

A request that fails, refused or crashed, changes nothing (each write is a transaction), and
values the fake cannot represent are refused with a 400 naming the field; docs/fake.md has the
details and the choices made where the API's behaviour is undocumented.

Where things live, in three layers:

* ``_server/``: the request pipeline (``app``), read from the spec (``spec``: routing and every
  per-operation fact), validation, auth, faults, rate limits, recording, errors, wire values,
  pagination and filters.
* ``_books/``: a business's state and the accounting rules (ledger, money, documents and their
  balances, allocations, payments, credit notes, payment statuses), written once for both
  ``sides`` (receivables and payables), the world of partners and tokens, and seeding.
* ``_handlers/``: one module per client resource, named as the attribute (``thredfi.bills`` is
  ``_handlers/bills.py``). Each function there parses the request, calls a rule of
  ``_books`` and renders the answer, registered with ``@handles("<operationId>")``.

A new operation's behaviour goes in the handler module of its resource (a new resource: a new
module there; it is imported by discovery, no list to extend), and any rule it shares with
another resource in ``_books``. tests/test_fake_layout.py checks every operation is handled by
its resource's module.
"""

from ._books.clock import ServerClock
from ._books.seed import SeededBusiness, SeedPlan, SeedResult
from ._books.world import PartnerCredentials
from ._client_clock import RecordingClock
from ._fake import DEFAULT_BASE_URL, FakeThredfi
from ._server.faults import FaultRule, Faults
from ._server.limits import Limits
from ._server.recording import RecordedRequest, RequestLog

# The server's clock under its first name; new code says ServerClock (it is not an SDK Clock).
FakeClock = ServerClock

__all__ = [
    "DEFAULT_BASE_URL",
    "FakeClock",
    "ServerClock",
    "FakeThredfi",
    "FaultRule",
    "Faults",
    "Limits",
    "PartnerCredentials",
    "RecordedRequest",
    "RecordingClock",
    "RequestLog",
    "SeedPlan",
    "SeedResult",
    "SeededBusiness",
]
