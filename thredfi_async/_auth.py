"""Which credential each request carries: managed tokens, a caller-held token, or HTTP Basic.

A managed token is not an httpx.Auth flow. Obtaining one may wait on the token store or on a
token exchange, and an auth flow runs inside httpx's send, that is while the call holds one of
the client's concurrency slots: a slow store would then stall every other call. So HTTPCore
asks the TokenAuth for the token first, outside any slot, sends the request with it as a plain
bearer header (HeaderAuth), and after a 401 asks for a replacement, again outside any slot, and
replays once. The retry loop still sees one logical attempt.
"""

from __future__ import annotations

import base64

from ._tokens import Token, TokenManager

__all__ = ["CallAuth", "HeaderAuth", "TokenAuth"]


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


class HeaderAuth:
    """A ready `Authorization` value: HTTP Basic, a caller-held token (never refreshed), or
    the managed token HTTPCore obtained for one attempt.

    A plain header rather than an httpx.Auth flow: the SDK sets it on the request itself, so
    a request needs no trip through httpx's auth machinery, on any transport.
    """

    __slots__ = ("header",)

    def __init__(self, header: str) -> None:
        self.header = header

    def __repr__(self) -> str:
        return f"<{type(self).__name__} '****'>"

    @classmethod
    def bearer(cls, access_token: str) -> HeaderAuth:
        return cls(f"Bearer {access_token}")

    @classmethod
    def basic(cls, username: str, password: str) -> HeaderAuth:
        credential = base64.b64encode(f"{username}:{password}".encode()).decode()
        return cls(f"Basic {credential}")


CallAuth = HeaderAuth | TokenAuth
"""What a call is sent with: a fixed header (HTTP Basic, a held token) or managed tokens."""
