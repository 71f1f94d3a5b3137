"""AsyncThredfi, the client, and BusinessView, the same resources bound to one business."""

from __future__ import annotations

import base64
import weakref
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Self, TypeVar
from uuid import UUID

import httpx

from ._auth import CallAuth, HeaderAuth, TokenAuth
from ._body import DEFAULT_MAX_RESPONSE_BYTES
from ._clock import Clock, SystemClock
from ._config import ENVIRONMENTS, from_environment
from ._exceptions import InvalidRequestError, MissingCredentialsError
from ._generated.resources import ResourceFacade
from ._guards import check_credential, path_segment
from ._hooks import Hook, check_hooks
from ._http import HTTPCore
from ._logging import setup_logging
from ._operation import Operation, RequestParts
from ._redact import mask, registry
from ._response import parse_body, record_response
from ._retry import RetryPolicy
from ._throttle import Throttle, check_throttle
from ._token_exchange import TokenExchange
from ._tokens import DEFAULT_LEEWAY, InMemoryTokenStore, Token, TokenManager, TokenStore
from ._transport import AutoTransport
from ._types import RequestOptions, TimeoutTypes
from ._version import __version__

__all__ = ["DEFAULT_TIMEOUT", "ENVIRONMENTS", "AsyncThredfi", "BusinessView"]

T = TypeVar("T")

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
"""Per attempt: 10 s to connect, 30 s for each read/write, and 30 s wall-clock in total."""
DEFAULT_MAX_CONCURRENT_REQUESTS = 20


class AsyncThredfi(ResourceFacade):
    """The async client for the Thredfi Partner API.

    ```python
    async with AsyncThredfi() as thredfi:      # THREDFI_PARTNER_UUID / THREDFI_API_KEY
        biz = await thredfi.businesses.create(body={...})
        books = thredfi.business(biz.id)       # every resource, bound to that business
        async for invoice in books.invoices.list():
            ...
    ```

    Args:
        partner_uuid: Your partner UUID (default: THREDFI_PARTNER_UUID, else
            THRED_PARTNER_UUID as the Thredfi MCP server reads it).
        api_key: Your partner API key (default: THREDFI_API_KEY, else THRED_API_KEY).
        access_token: A token you already hold; used as is for every call, never refreshed.
            With it, partner_uuid and api_key are not needed.
        environment: "sandbox" or "production" (default: THREDFI_ENVIRONMENT, else sandbox).
        base_url: Overrides `environment` (a proxy, the fake API, another host; default:
            THREDFI_BASE_URL). An argument always wins over the environment.
        timeout: Per attempt; a number of seconds, an httpx.Timeout, or None for no limit.
        max_retries: Retries after the first attempt for retryable failures (default 2).
        http_client: An httpx.AsyncClient you built (transport, proxies, limits, mocks such
            as pytest-httpx or respx); requests then go through it and its transport instead of
            the default one (aiohttp under asyncio, httpx's own under trio). The client takes
            ownership and closes it.
        token_store: Where tokens are cached (default: in memory, 10,000 businesses, LRU).
        token_refresh_leeway: Refresh a token this many seconds before it expires (default
            300; capped at half the token's lifetime, so short-lived tokens are still reused).
        retry_policy: Backoff and Retry-After settings (see RetryPolicy).
        clock: Time source for token expiry and retry sleeps (tests inject a fake).
        default_headers: Headers sent with every request.
        max_concurrent_requests: How many requests this client has on the wire at once (default
            20; None: no limit), and the size of the default transport's connection pool.
            Further calls wait their turn in order, which keeps large fan-outs fast. With your
            own http_client, size its pool to match.
        max_response_bytes: The largest response body read, counted decoded (default 32 MiB;
            None: no limit). A larger one, or a compressed one inflating past it, raises
            UnexpectedResponseError without being read further.
        hooks: Hook instances told of every call and attempt, in order (tracing, metrics,
            request tagging); `thredfi_async.otel.OpenTelemetryHook` traces with OpenTelemetry.
        throttle: Paces every request this client sends, retries, 401 replays and token
            exchanges included, within a partner-wide and a per-business rate (`LocalThrottle`
            for one process, `thredfi_async.redis.RedisThrottle` shared by many); every 429 is
            reported to it. Its waits hold no concurrency slot and do not count against
            `timeout`. Business views share it.
    """

    _resource_business_id: str | None = None

    def __init__(
        self,
        partner_uuid: str | None = None,
        api_key: str | None = None,
        *,
        access_token: str | None = None,
        environment: str | None = None,
        base_url: str | None = None,
        timeout: TimeoutTypes = DEFAULT_TIMEOUT,
        max_retries: int = 2,
        http_client: httpx.AsyncClient | None = None,
        token_store: TokenStore | None = None,
        token_refresh_leeway: float = DEFAULT_LEEWAY,
        retry_policy: RetryPolicy | None = None,
        clock: Clock | None = None,
        default_headers: Mapping[str, str] | None = None,
        max_concurrent_requests: int | None = DEFAULT_MAX_CONCURRENT_REQUESTS,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        hooks: Sequence[Hook] | None = None,
        throttle: Throttle | None = None,
    ) -> None:
        setup_logging()
        settings = from_environment(partner_uuid, api_key, environment, base_url)
        partner_uuid = check_credential("partner_uuid", settings.partner_uuid)
        api_key = check_credential("api_key", settings.api_key)
        access_token = check_credential("access_token", access_token)
        if access_token is None and (partner_uuid is None or api_key is None):
            missing = [
                name
                for name, value in (("partner_uuid", partner_uuid), ("api_key", api_key))
                if value is None
            ]
            raise MissingCredentialsError(
                f"missing {' and '.join(missing)}: pass them to AsyncThredfi(...) or set "
                "THREDFI_PARTNER_UUID and THREDFI_API_KEY (or THRED_PARTNER_UUID and "
                "THRED_API_KEY; or pass access_token=...)"
            )
        base_url = settings.base_url

        if (
            isinstance(token_refresh_leeway, bool)
            or not isinstance(token_refresh_leeway, int | float)
            or not 0 <= token_refresh_leeway < float("inf")
        ):
            raise InvalidRequestError(
                f"token_refresh_leeway must be seconds >= 0, got {token_refresh_leeway!r}"
            )
        # Redacted wherever they appear while this client lives, the Basic credential too (a
        # server may echo it without its "Basic " prefix); released when it is closed or
        # collected, so a process that makes many clients does not redact ever more values.
        held = [api_key, access_token]
        if partner_uuid is not None and api_key is not None:
            basic = base64.b64encode(f"{partner_uuid}:{api_key}".encode()).decode()
            held += [basic, basic.rstrip("=")]
        for secret in held:
            registry.hold(secret)
        self._release_secrets = weakref.finalize(self, _release, held)

        self.partner_uuid = partner_uuid
        self._api_key = api_key
        self._access_token = access_token
        self.base_url = base_url.rstrip("/")
        self.clock: Clock = clock or SystemClock()
        self.retry_policy = retry_policy or RetryPolicy()
        self.token_refresh_leeway = token_refresh_leeway
        max_concurrent_requests = _check_concurrency(max_concurrent_requests)
        # A shared store may serve several partners and environments: keys name both.
        namespace = f"{partner_uuid or 'access-token'}@{self.base_url}"
        self.throttle = check_throttle(throttle, namespace)
        transport = None
        if http_client is None:
            transport = AutoTransport(max_connections=max_concurrent_requests)
            http_client = httpx.AsyncClient(transport=transport, trust_env=False)
        self._http = HTTPCore(
            http_client=http_client,
            transport=transport,
            base_url=self.base_url,
            timeout=timeout,
            max_retries=max_retries,
            retry_policy=self.retry_policy,
            max_concurrent_requests=max_concurrent_requests,
            max_response_bytes=_check_max_response_bytes(max_response_bytes),
            hooks=check_hooks(hooks),
            throttle=self.throttle,
            clock=self.clock,
            default_headers={
                "Accept": "application/json",
                # What httpx decodes whatever extras are installed, on either transport.
                "Accept-Encoding": "gzip, deflate",
                "User-Agent": f"thredfi-async/{__version__}",
                **(default_headers or {}),
            },
        )
        # `is None`, not `or`: an empty InMemoryTokenStore has a length of 0, so it is falsy.
        self.token_store: TokenStore = InMemoryTokenStore() if token_store is None else token_store
        self._exchange = TokenExchange(
            self._http,
            partner_uuid=partner_uuid,
            api_key=api_key,
            clock=self.clock,
            leeway=token_refresh_leeway,
        )
        self._tokens = TokenManager(
            fetch=self._fetch_token,
            store=self.token_store,
            clock=self.clock,
            namespace=namespace,
        )
        self._partner_auth: CallAuth = (
            HeaderAuth.bearer(access_token) if access_token else TokenAuth(self._tokens, None)
        )

    # -- the ResourceFacade reads these two --------------------------------------------------

    @property
    def _resource_client(self) -> AsyncThredfi:  # type: ignore[override]
        return self

    def __repr__(self) -> str:
        return (
            f"AsyncThredfi(partner_uuid={self.partner_uuid!r}, api_key={mask(self._api_key)}, "
            f"access_token={mask(self._access_token)}, base_url={self.base_url!r})"
        )

    # -- lifecycle ----------------------------------------------------------------------------

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connection pool (also when the client was given an http_client)."""
        await self._http.http_client.aclose()
        self._release_secrets()

    @property
    def http_client(self) -> httpx.AsyncClient:
        return self._http.http_client

    # -- business views -----------------------------------------------------------------------

    def business(self, business_id: str | UUID) -> BusinessView:
        """Every resource, bound to one business: `thredfi.business(id).invoices.list()`."""
        if not isinstance(business_id, str | UUID):
            raise InvalidRequestError(
                f"business_id must be a non-empty str or UUID, got {business_id!r}"
            )
        return BusinessView(self, path_segment(business_id, name="business_id", where="business"))

    # -- the request path (used by generated resources) ---------------------------------------

    async def _call(
        self,
        operation: Operation,
        parts: RequestParts,
        parse: Callable[[Any], T],
        options: RequestOptions,
    ) -> T:
        response = await self._http.send(
            operation, parts, options, self._auth_for(operation, parts)
        )
        result = parse_body(response, parse)
        record_response(response)
        return result

    def _auth_for(self, operation: Operation, parts: RequestParts) -> CallAuth:
        if operation.scope == "basic":
            if self.partner_uuid is None or self._api_key is None:
                raise MissingCredentialsError(
                    f"{operation.client_method} needs partner_uuid and api_key (HTTP Basic)"
                )
            return HeaderAuth.basic(self.partner_uuid, self._api_key)
        if self._access_token is not None or operation.scope == "partner":
            return self._partner_auth
        return TokenAuth(self._tokens, str(parts.path_params["business_id"]))

    async def _fetch_token(self, business_id: str | None) -> Token:
        """The TokenManager's fetch. A business token is exchanged for the partner token, which
        comes from that same manager, so the exchange is handed it per call."""
        return await self._exchange.fetch(business_id, partner_auth=self._partner_auth)


def _release(secrets: list[str | None]) -> None:
    for secret in secrets:
        registry.release(secret)


def _check_concurrency(value: int | None) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise InvalidRequestError(
            f"max_concurrent_requests must be an int >= 1 or None, got {value!r}"
        )
    return value


def _check_max_response_bytes(value: int | None) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise InvalidRequestError(f"max_response_bytes must be an int >= 1 or None, got {value!r}")
    return value


class BusinessView(ResourceFacade):
    """The client's resources bound to one business (`thredfi.business(business_id)`).

    Cheap to create: it shares the client's connection pool and token cache.
    """

    def __init__(self, client: AsyncThredfi, business_id: str) -> None:
        self._client = client
        self.business_id = business_id

    @property
    def _resource_client(self) -> AsyncThredfi:  # type: ignore[override]
        return self._client

    @property
    def _resource_business_id(self) -> str:  # type: ignore[override]
        return self.business_id

    def __repr__(self) -> str:
        return f"BusinessView(business_id={self.business_id!r})"

    async def frontend_token(self) -> dict[str, Any]:
        """The business token for the embedded widget's `getToken`: {access_token, expires_in}.

        This is the business-scoped token only (never the partner token), as the widget needs.
        """
        client = self._client
        if client._access_token is not None:
            raise InvalidRequestError(
                "frontend_token() needs partner credentials, not access_token="
            )
        token = await client._tokens.get(self.business_id)
        remaining = int(token.expires_at - client.clock.time())
        return {"access_token": token.access_token, "expires_in": max(remaining, 0)}
