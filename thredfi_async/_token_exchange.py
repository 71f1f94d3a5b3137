"""The token exchanges: a partner token for HTTP Basic, a business token for the partner token.

The TokenManager decides when a token is needed (cache, single flight, early refresh); this
module performs one exchange and checks its answer (docs/api-behaviour.md, "Token exchange").
An exchange may be replayed after any failure, since minting a token twice does no harm, and it
skips the client's concurrency slots: the calls waiting for the token hold none meanwhile, so
queueing it behind them would only hold them all up.
"""

from __future__ import annotations

from typing import Any

import httpx

from ._auth import CallAuth, HeaderAuth
from ._clock import Clock
from ._exceptions import (
    APIStatusError,
    InvalidRequestError,
    MissingCredentialsError,
    UnexpectedResponseError,
)
from ._generated.api.oauth import get_business_token, get_partner_token
from ._generated.models import OAuth2TokenRequestRequest
from ._guards import check_credential
from ._http import HTTPCore
from ._operation import Operation, RequestBody, RequestParts
from ._redact import register_secret
from ._response import parse_body
from ._tokens import Token
from ._types import RequestOptions

__all__ = ["TokenExchange"]

_NO_IDEMPOTENCY_KEY = RequestOptions(idempotency_key=None)


class TokenExchange:
    """Fetches one token per call, for the TokenManager of one client."""

    def __init__(
        self,
        http: HTTPCore,
        *,
        partner_uuid: str | None,
        api_key: str | None,
        clock: Clock,
        leeway: float,
    ) -> None:
        self._http = http
        self._partner_uuid = partner_uuid
        self._api_key = api_key
        self._clock = clock
        self._leeway = leeway

    async def fetch(self, business_id: str | None, *, partner_auth: CallAuth) -> Token:
        """The partner token (business_id None), else that business's token, which is
        exchanged for the partner token `partner_auth` carries."""
        now = self._clock.time()
        if business_id is None:
            response = await self._partner_token()
            parsed: Any = parse_body(response, get_partner_token.parse_response)
        else:
            parts = get_business_token.build_request(business_id)
            response = await self._send(get_business_token.OPERATION, parts, partner_auth)
            parsed = parse_body(response, get_business_token.parse_response)
        access_token = parsed.access_token
        if not isinstance(access_token, str) or not access_token:
            raise UnexpectedResponseError("token response has no access_token", response=response)
        register_secret(access_token)
        try:
            check_credential("access_token", access_token)
        except InvalidRequestError as exc:  # what the server sent, not the caller
            raise UnexpectedResponseError(f"token response: {exc}", response=response) from None
        return Token.from_response(
            access_token, parsed.expires_in, now=now, leeway=self._leeway, business_id=business_id
        )

    async def _partner_token(self) -> httpx.Response:
        """Basic auth plus a form body; once more as JSON if the API refuses the form: the
        reference and the guides disagree on the encoding (docs/api-behaviour.md, "Token
        exchange")."""
        if self._partner_uuid is None or self._api_key is None:
            raise MissingCredentialsError("the partner token needs partner_uuid and api_key")
        body = OAuth2TokenRequestRequest(
            client_id=self._partner_uuid, grant_type="client_credentials"
        )
        parts = get_partner_token.build_request(body=body)
        auth = HeaderAuth.basic(self._partner_uuid, self._api_key)
        try:
            return await self._send(get_partner_token.OPERATION, parts, auth)
        except APIStatusError as error:
            if error.status_code not in (400, 415):
                raise
            parts.body = RequestBody("json", body.to_dict())
            return await self._send(get_partner_token.OPERATION, parts, auth)

    async def _send(
        self, operation: Operation, parts: RequestParts, auth: CallAuth
    ) -> httpx.Response:
        return await self._http.send(
            operation,
            parts,
            _NO_IDEMPOTENCY_KEY,
            auth,
            replay_safe=True,
            bypass_concurrency_limit=True,
        )
