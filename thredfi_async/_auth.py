"""Which credential each request carries: managed tokens, a caller-held token, or HTTP Basic.

A managed token is not an httpx.Auth flow. Obtaining one may wait on the token store or on a
token exchange, and an auth flow runs inside httpx's send, that is while the call holds one of
the client's concurrency slots: a slow store would then stall every other call. So HTTPCore
asks the TokenAuth for the token first, outside any slot, sends the request with it as a plain
bearer header (BearerAuth), and after a 401 asks for a replacement, again outside any slot, and
replays once. The retry loop still sees one logical attempt.
"""

from __future__ import annotations

from collections.abc import Generator

import httpx

from ._tokens import Token, TokenManager

__all__ = ["BearerAuth", "CallAuth", "StaticTokenAuth", "TokenAuth"]


class TokenAuth:
    """Managed bearer tokens from the TokenManager, for one scope (partner, or one business).

    After a 401 the replacement is never the rejected token: another task's newer one if the
    store has it, else a new fetch. A second 401 is returned as is, and becomes
    AuthenticationError.
    """

    __slots__ = ("_business_id", "_tokens")

    def __init__(self, tokens: TokenManager, business_id: str | None) -> None:
        self._tokens = tokens
        self._business_id = business_id

    @property
    def scope(self) -> str:
        return "partner" if self._business_id is None else f"business {self._business_id}"

    def __repr__(self) -> str:
        return f"<TokenAuth {self.scope}>"

    async def token(self) -> Token:
        return await self._tokens.get(self._business_id)

    async def replacement(self, rejected: Token) -> Token:
        return await self._tokens.replace(self._business_id, rejected)


class BearerAuth(httpx.Auth):
    """One bearer token, used as is: a caller-held one (`AsyncThredfi(access_token=...)`),
    never refreshed, or the managed token HTTPCore obtained for one attempt."""

    def __init__(self, access_token: str) -> None:
        self._header = f"Bearer {access_token}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} '****'>"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        request.headers["Authorization"] = self._header
        yield request


StaticTokenAuth = BearerAuth
"""The name the client uses for a caller-held token."""

CallAuth = httpx.Auth | TokenAuth
"""What a call is sent with: an httpx.Auth (HTTP Basic, a held token) or managed tokens."""
