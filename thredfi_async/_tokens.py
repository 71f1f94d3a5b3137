"""Tokens the user never handles: partner token, business tokens, caching and single flight.

The partner token comes from `POST /v1/platform/oauth2/token/` (HTTP Basic with partner UUID :
API key, form body); a business token from `POST /v1/platform/{business_id}/oauth2/token/` with
the partner token. Neither has a refresh grant: "refreshing" is fetching again
(docs/api-behaviour.md, "Token exchange").

* Expiry comes from `expires_in`, else from the JWT's `exp` claim, else 3600 s. A token is
  refreshed proactively once it is within `leeway` of expiry (at most half its lifetime, so
  short-lived tokens are not refreshed on every call).
* Single flight: however many tasks need the same token at once, one fetch runs and the others
  wait for it. If that fetch fails, every waiter gets the error and nothing is cached; if the
  fetching task is cancelled, a waiter takes over.
* Tokens live in a TokenStore (get / set / invalidate). The default keeps up to 10,000 in
  memory, least recently used evicted; a deployment with many worker processes can share
  tokens through its own store (Redis, memcached) by implementing the three methods, and mint
  each token once across them by implementing `SharedTokenStore` too (_shared_tokens.py).
* A store is a cache, so its outage must not become the API's: a store call that raises is
  logged (a warning when the outage starts, naming only the exception type, never a token)
  and the client carries on with tokens it keeps in this process until the store answers.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol, runtime_checkable

import anyio

from ._clock import Clock
from ._exceptions import InvalidRequestError
from ._logging import logger
from ._shared_tokens import SharedTokenStore, mint_shared

__all__ = ["InMemoryTokenStore", "Token", "TokenManager", "TokenStore"]

DEFAULT_LIFETIME = 3600.0
DEFAULT_LEEWAY = 300.0  # renew 5 minutes before expiry (docs/api-behaviour.md, "Token exchange")


@dataclass(frozen=True, slots=True)
class Token:
    """An access token and when it stops being usable (wall-clock seconds)."""

    access_token: str
    expires_at: float
    refresh_at: float
    business_id: str | None = None

    def __repr__(self) -> str:
        scope = f"business_id={self.business_id!r}" if self.business_id else "partner"
        return f"Token({scope}, expires_at={self.expires_at:.0f}, access_token='****')"

    def is_fresh(self, now: float) -> bool:
        return now < self.refresh_at

    def to_dict(self) -> dict[str, Any]:
        """For token stores that serialise (the access token is included: store it safely)."""
        return {
            "access_token": self.access_token,
            "expires_at": self.expires_at,
            "refresh_at": self.refresh_at,
            "business_id": self.business_id,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Token:
        return cls(
            access_token=str(data["access_token"]),
            expires_at=float(data["expires_at"]),
            refresh_at=float(data["refresh_at"]),
            business_id=data.get("business_id"),
        )

    @classmethod
    def from_response(
        cls,
        access_token: str,
        expires_in: Any,
        *,
        now: float,
        leeway: float,
        business_id: str | None = None,
    ) -> Token:
        lifetime = _lifetime(access_token, expires_in, now)
        return cls(
            access_token=access_token,
            expires_at=now + lifetime,
            refresh_at=now + max(lifetime - leeway, lifetime / 2),
            business_id=business_id,
        )


def _lifetime(access_token: str, expires_in: Any, now: float) -> float:
    seconds = _positive_number(expires_in)
    if seconds is not None:
        return seconds
    exp = _jwt_exp(access_token)
    if exp is not None and exp > now:
        return exp - now
    return DEFAULT_LIFETIME


def _positive_number(value: Any) -> float | None:
    """`expires_in` as seconds, whatever numeric shape it arrives in.

    The spec says integer, but a JSON float (`300.0`) decodes as Decimal here (responses never
    produce floats), and a numeric string is tolerated as the models tolerate drift. Ignoring
    either would keep a 300 s token for the default hour.
    """
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return None
    try:
        seconds = float(value)
    except ValueError:  # not a number, or a signalling NaN
        return None
    return seconds if 0 < seconds < float("inf") else None


def _newer(candidate: Token, rejected: Token, now: float) -> bool:
    """Whether `candidate` replaced `rejected` (expiring no earlier) and is still fresh."""
    return (
        candidate.access_token != rejected.access_token
        and candidate.expires_at >= rejected.expires_at
        and candidate.is_fresh(now)
    )


def _jwt_exp(access_token: str) -> float | None:
    """The `exp` claim of a JWT, read without verifying it (we only need a hint)."""
    parts = access_token.split(".")
    if len(parts) != 3:
        return None
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (ValueError, binascii.Error):
        return None
    exp = claims.get("exp") if isinstance(claims, dict) else None
    return float(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None


@runtime_checkable
class TokenStore(Protocol):
    """Where tokens are kept between calls. Keys are opaque strings chosen by the client."""

    async def get(self, key: str) -> Token | None: ...

    async def set(self, key: str, token: Token) -> None: ...

    async def invalidate(self, key: str) -> None: ...


class InMemoryTokenStore:
    """The default store: a bounded LRU map in this process."""

    def __init__(self, max_size: int = 10_000) -> None:
        if max_size < 1:
            raise InvalidRequestError("max_size must be >= 1")
        self.max_size = max_size
        self._tokens: OrderedDict[str, Token] = OrderedDict()

    def __repr__(self) -> str:
        return f"InMemoryTokenStore({len(self._tokens)}/{self.max_size} tokens)"

    def __len__(self) -> int:
        return len(self._tokens)

    async def get(self, key: str) -> Token | None:
        token = self._tokens.get(key)
        if token is not None:
            self._tokens.move_to_end(key)
        return token

    async def set(self, key: str, token: Token) -> None:
        self._tokens[key] = token
        self._tokens.move_to_end(key)
        while len(self._tokens) > self.max_size:
            self._tokens.popitem(last=False)

    async def invalidate(self, key: str) -> None:
        self._tokens.pop(key, None)


class _Flight:
    """One token fetch in progress; waiters block on `done`."""

    __slots__ = ("done", "error", "token")

    def __init__(self) -> None:
        self.done = anyio.Event()
        self.token: Token | None = None
        self.error: BaseException | None = None


Fetch = Callable[[str | None], Awaitable[Token]]


class TokenManager:
    """Hands out valid tokens per scope (None = partner, else a business id)."""

    def __init__(self, *, fetch: Fetch, store: TokenStore, clock: Clock, namespace: str) -> None:
        self._fetch = fetch
        self._store = store
        self._clock = clock
        self._namespace = namespace
        self._flights: dict[str, _Flight] = {}
        # Tokens the store failed to keep: empty unless the store fails to set them.
        self._held = InMemoryTokenStore()
        self._store_failing = False

    def __repr__(self) -> str:
        return f"TokenManager(store={self._store!r})"

    def key(self, business_id: str | None) -> str:
        scope = "partner" if business_id is None else f"business:{business_id}"
        return f"thredfi:{self._namespace}:{scope}"

    async def get(self, business_id: str | None) -> Token:
        """A fresh token: the stored one, else the one being fetched, else a new fetch."""
        key = self.key(business_id)
        if key not in self._flights:
            token = await self._stored(key)
            if token is not None and token.is_fresh(self._clock.time()):
                return token
        return await self._fetched(key, business_id)

    async def replace(self, business_id: str | None, rejected: Token) -> Token:
        """The token to replay a 401 with: never the rejected one, nor one older than it.

        The store cannot be trusted to have forgotten the rejected token (its invalidate may
        have failed, or a stale replica may still serve it), so a stored token is taken only if
        it is newer than the rejected one (another task or process refreshed meanwhile);
        otherwise the rejected token is invalidated and a new one fetched, the store bypassed.
        """
        key = self.key(business_id)
        if key not in self._flights:
            current = await self._stored(key)
            if current is not None and _newer(current, rejected, self._clock.time()):
                return current
            if current is not None and current.access_token == rejected.access_token:
                await self._forget(key)
        return await self._fetched(
            key, business_id, lambda token: _newer(token, rejected, self._clock.time())
        )

    async def invalidate(self, business_id: str | None, used: Token) -> None:
        """Forget `used` after a 401, unless a newer token already replaced it."""
        key = self.key(business_id)
        current = await self._stored(key)
        if current is not None and current.access_token == used.access_token:
            await self._forget(key)

    async def _fetched(
        self, key: str, business_id: str | None, usable: Callable[[Token], bool] | None = None
    ) -> Token:
        """The token of the fetch in flight for `key`, or of a new one this task leads."""
        while True:
            flight = self._flights.get(key)
            if flight is None:
                return await self._lead(key, business_id, usable)
            await flight.done.wait()
            if flight.token is not None:
                return flight.token
            if isinstance(flight.error, Exception):
                raise flight.error
            # The fetching task was cancelled: try again, possibly as the new leader.

    async def _lead(
        self, key: str, business_id: str | None, usable: Callable[[Token], bool] | None
    ) -> Token:
        flight = self._flights[key] = _Flight()
        scope = "partner" if business_id is None else f"business {business_id}"
        try:
            if isinstance(self._store, SharedTokenStore) and not self._store_failing:
                token = await self._mint_shared(key, business_id, usable)
            else:
                token = await self._fetch(business_id)
                await self._keep(key, token)
            flight.token = token
            logger.debug(
                "%s token fetched; refresh in %.0f s",
                scope,
                token.refresh_at - self._clock.time(),
            )
            return token
        except BaseException as exc:
            flight.error = exc
            if isinstance(exc, Exception):
                logger.info("%s token fetch failed: %s", scope, exc)
            raise
        finally:
            del self._flights[key]
            flight.done.set()

    # -- the store, as a cache that may be down ---------------------------------------------

    async def _mint_shared(
        self, key: str, business_id: str | None, usable: Callable[[Token], bool] | None
    ) -> Token:
        """One mint across the processes sharing the store (_shared_tokens.py)."""
        assert isinstance(self._store, SharedTokenStore)
        token, error = await mint_shared(
            self._store,
            key,
            lambda: self._fetch(business_id),
            usable or (lambda token: token.is_fresh(self._clock.time())),
        )
        if error is not None:
            self._store_failed("mint_once", error)
            await self._held.set(key, token)
            return token
        if self._store_failing:
            self._store_answered()
        if len(self._held):
            await self._held.invalidate(key)
        return token

    async def _stored(self, key: str) -> Token | None:
        """The store's token, else one held here because the store could not keep it."""
        try:
            token = await self._store.get(key)
        except Exception as exc:
            self._store_failed("get", exc)
            token = None
        else:
            if self._store_failing:
                self._store_answered()
        if token is None and len(self._held):
            token = await self._held.get(key)
        return token

    async def _keep(self, key: str, token: Token) -> None:
        """Store a fetched token; if the store fails, hold it here instead of losing it."""
        try:
            await self._store.set(key, token)
        except Exception as exc:
            self._store_failed("set", exc)
            await self._held.set(key, token)
        else:
            if self._store_failing:
                self._store_answered()
            if len(self._held):
                await self._held.invalidate(key)

    async def _forget(self, key: str) -> None:
        await self._held.invalidate(key)
        try:
            await self._store.invalidate(key)
        except Exception as exc:
            self._store_failed("invalidate", exc)

    def _store_failed(self, operation: str, exc: Exception) -> None:
        # Only the exception's type: its message may carry the store's own credentials.
        if not self._store_failing:
            self._store_failing = True
            logger.warning(
                "token store %s failed (%s); using tokens held in this process until it answers",
                operation,
                type(exc).__name__,
            )
        else:
            logger.debug("token store %s failed again (%s)", operation, type(exc).__name__)

    def _store_answered(self) -> None:
        self._store_failing = False
        logger.info("token store answering again")
