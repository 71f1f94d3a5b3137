"""httpx.Auth flows that put the right token on each request and recover from one 401.

Using httpx's own extension point (rather than setting headers around `send`) means the 401
replay happens inside httpx's request cycle: the first response is closed before the replay,
and the retry loop above sees one logical attempt.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Generator

import httpx

from ._logging import logger
from ._tokens import TokenManager

__all__ = ["StaticTokenAuth", "TokenAuth"]


class TokenAuth(httpx.Auth):
    """Bearer auth from the TokenManager for one scope (partner, or one business).

    On a 401 the token that was used is invalidated (only that one: a token another task
    refreshed meanwhile is kept), a fresh one is fetched and the request replayed once. A
    second 401 is returned as is, and becomes AuthenticationError.
    """

    def __init__(self, tokens: TokenManager, business_id: str | None) -> None:
        self._tokens = tokens
        self._business_id = business_id

    @property
    def _scope(self) -> str:
        return "partner" if self._business_id is None else f"business {self._business_id}"

    def __repr__(self) -> str:
        return f"<TokenAuth {self._scope}>"

    def sync_auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        raise RuntimeError("thredfi_async is async-only; use httpx.AsyncClient")

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        token = await self._tokens.get(self._business_id)
        request.headers["Authorization"] = f"Bearer {token.access_token}"
        response = yield request
        if response.status_code != 401:
            return
        # Release the 401's connection before fetching: with every pooled connection held by a
        # 401 waiting for the same refresh, the token request could never get one.
        await response.aread()
        logger.info("401 with the %s token; fetching a new one and replaying once", self._scope)
        token = await self._tokens.replace(self._business_id, token)
        request.headers["Authorization"] = f"Bearer {token.access_token}"
        yield request


class StaticTokenAuth(httpx.Auth):
    """A caller-held token (`AsyncThredfi(access_token=...)`), used as is and never refreshed."""

    def __init__(self, access_token: str) -> None:
        self._header = f"Bearer {access_token}"

    def __repr__(self) -> str:
        return "<StaticTokenAuth '****'>"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response]:
        request.headers["Authorization"] = self._header
        yield request
