"""``FakeThredfi``: the public face of the embedded fake API."""

from __future__ import annotations

import functools
import random
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._books.clock import ServerClock
from ._books.seed import SeedPlan, SeedResult, seed
from ._books.state import Books
from ._books.world import Envelope, PartnerCredentials, World
from ._server.app import DropStyle, FakeApp
from ._server.faults import Faults
from ._server.limits import Limits
from ._server.recording import RequestLog
from ._server.spec import OperationTable, load_spec

if TYPE_CHECKING:
    import httpx

    from thredfi_async import AsyncThredfi, Thredfi

__all__ = ["DEFAULT_BASE_URL", "FakeThredfi"]

DEFAULT_BASE_URL = "http://thredfi.fake"


@functools.lru_cache(maxsize=4)
def _default_table(path: str | None) -> OperationTable:
    """Parsing the 350 KB spec is the slow part of a fake's start; do it once per process.

    The table is read-only, so sharing it between fakes shares no state.
    """
    return OperationTable(load_spec(path))


class FakeThredfi:
    """A stateful, in-memory Thredfi Partner API.

    ``FakeThredfi()`` starts empty except for one partner whose credentials are ``partner_uuid`` /
    ``api_key``, and no rate limits (``limits.set(partner_rps=..., business_rps=..., burst=...)``
    adds them). Serve ``app`` in process through ``httpx.ASGITransport`` (``client()`` and
    ``http_client()`` do that) or over a socket (``python -m thredfi_async.testing``).

    Arguments:
        token_ttl: lifetime of issued tokens in seconds (``expires_in``).
        envelope: ``"page_info"`` (envelope A, the default) or ``"next"`` (envelope B, with
            absolute ``next``/``previous`` URLs) for every list operation.
        spec: an OpenAPI document (mapping or path) instead of the packaged one.
        now: freeze the clock at this instant; by default it follows the wall clock. Either
            way ``advance()`` moves it forward.
        seed: seed of the random generator behind ids and seeded data, for reproducible runs.
        base_url: the origin used for in-process clients and absolute URLs.
        drop_style: how ``faults.drop_connection()`` loses a connection: ``"raise"`` (in
            process) or ``"truncate"`` (over a socket); ``serve()`` picks the latter.
        raise_server_errors: re-raise a handler's unexpected exception instead of answering
            500, so a bug in the fake fails the test that hit it.
    """

    def __init__(
        self,
        *,
        token_ttl: int = 3600,
        envelope: Envelope = "page_info",
        spec: str | Path | Mapping[str, Any] | None = None,
        now: datetime | None = None,
        seed: int | None = None,
        base_url: str = DEFAULT_BASE_URL,
        drop_style: DropStyle = "raise",
        raise_server_errors: bool = False,
    ) -> None:
        if envelope not in ("page_info", "next"):
            raise ValueError('envelope must be "page_info" or "next"')
        self.clock = ServerClock(now)
        self._world = World(
            clock=self.clock,
            token_ttl=token_ttl,
            envelope=envelope,
            rng=random.Random(seed),
        )
        credentials = self._world.add_partner()
        self.partner_uuid = credentials.partner_uuid
        self.api_key = credentials.api_key
        self.base_url = base_url.rstrip("/")
        self.requests = RequestLog()
        self.faults = Faults(self._world.tokens.expire_all)
        self.limits = Limits(self.clock.timestamp)
        if isinstance(spec, Mapping):
            table = OperationTable(load_spec(spec))
        else:
            table = _default_table(str(spec) if spec is not None else None)
        self._table = table
        self.app = FakeApp(
            self._world,
            table,
            self.faults,
            self.requests,
            drop_style=drop_style,
            raise_server_errors=raise_server_errors,
            limits=self.limits,
        )

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await self.app(scope, receive, send)

    def __repr__(self) -> str:
        return (
            f"FakeThredfi(base_url={self.base_url!r}, businesses={len(self._world.books)}, "
            f"requests={len(self.requests)})"
        )

    # -- clients -----------------------------------------------------------------------------

    def client(self, **kwargs: Any) -> AsyncThredfi:
        """An ``AsyncThredfi`` wired to this fake in process (no sockets); keyword arguments
        go to AsyncThredfi (`hooks=`, `clock=`, `max_retries=`, ...)."""
        import httpx

        from thredfi_async import AsyncThredfi

        kwargs.setdefault(
            "http_client", httpx.AsyncClient(transport=httpx.ASGITransport(app=self.app))
        )
        return AsyncThredfi(
            partner_uuid=self.partner_uuid,
            api_key=self.api_key,
            base_url=self.base_url,
            **kwargs,
        )

    def sync_client(self, **kwargs: Any) -> Thredfi:
        """A sync ``Thredfi`` wired to this fake in process (no sockets); keyword arguments
        go to AsyncThredfi, as for `client()`. Its calls run the fake on the client's loop
        thread; after a fork the child's client gets its own in-process wiring."""
        from thredfi_async import Thredfi

        return Thredfi._wrapping(lambda: self.client(**kwargs))

    def http_client(self, **kwargs: Any) -> httpx.AsyncClient:
        """A plain ``httpx.AsyncClient`` talking to this fake in process."""
        import httpx

        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=self.app), base_url=self.base_url, **kwargs
        )

    # -- time, partners, tokens --------------------------------------------------------------

    def advance(self, seconds: float) -> None:
        """Move the fake's clock forward (tokens expire, invoices age)."""
        self.clock.advance(seconds)

    def add_partner(self, name: str = "Other Partner") -> PartnerCredentials:
        """Another partner with its own credentials, to test cross-partner isolation."""
        return self._world.add_partner(name)

    def partner_token(self, partner_uuid: str | None = None) -> str:
        """A valid partner token minted directly (no request is recorded)."""
        return self._world.tokens.issue(partner_uuid or self.partner_uuid).access_token

    def business_token(self, business_id: str) -> str:
        """A valid business token for ``business_id``, minted directly."""
        books = self.books(business_id)
        return self._world.tokens.issue(books.business.partner_uuid, business_id).access_token

    # -- state -------------------------------------------------------------------------------

    def seed(
        self,
        businesses: int = 1,
        *,
        business_id: str | None = None,
        partner_uuid: str | None = None,
        **sizes: Any,
    ) -> SeedResult:
        """Write data straight into the state (no HTTP) and return the ids created.

        Creates ``businesses`` new businesses (or fills ``business_id``) and writes into each
        what ``sizes`` asks for, by the names and defaults of :class:`SeedPlan`
        (``customers_per_business=100, invoices_per_customer=100`` and so on). Ledger entries
        and balances are produced as the API would.
        """
        return seed(
            self._world,
            self._table,
            partner_uuid or self.partner_uuid,
            SeedPlan(**sizes),
            businesses=businesses,
            business_id=business_id,
        )

    def books(self, business_id: str) -> Books:
        """The in-memory records of one business, for white-box assertions."""
        return self._world.books[business_id]

    @property
    def business_ids(self) -> list[str]:
        return list(self._world.books)

    def mark_payout_reconciled(self, business_id: str, payout_id: str) -> None:
        """Reconcile a payout to the bank (there is no API for it); it then refuses changes."""
        self.books(business_id).payouts[payout_id].reconciliation_status = "reconciled"

    @property
    def server_errors(self) -> list[str]:
        """Tracebacks of handler crashes answered as 500 (empty unless the fake has a bug)."""
        return self.app.server_errors

    @property
    def operations(self) -> list[str]:
        """Every operationId the fake serves."""
        return sorted(self._table.operations)

    def serve(self, host: str = "127.0.0.1", port: int = 8000, **uvicorn_options: Any) -> None:
        """Serve over a socket with uvicorn until interrupted."""
        import uvicorn

        self.app.drop_style = "truncate"
        uvicorn.run(self.app, host=host, port=port, **uvicorn_options)
