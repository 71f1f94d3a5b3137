"""Partner and business tokens: JWT-shaped, signed, expiring on the fake's clock.

Tokens look like the real ones (``header.payload.signature``, base64url, HS256) so clients that
peek at ``exp`` work, but the fake does not trust the payload alone: the signature must verify and
the token's serial must post-date the last ``expire_tokens()``. Expiry is judged on the injectable
clock, so tests move time instead of sleeping.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import random
import secrets
from dataclasses import dataclass
from typing import Any

from .._books.clock import ServerClock
from .errors import ApiError

__all__ = ["BUSINESS_SCOPE", "PARTNER_SCOPE", "Claims", "IssuedToken", "TokenAuthority"]

PARTNER_SCOPE = "partner_access"
BUSINESS_SCOPE = "business_access"


@dataclass(frozen=True, slots=True)
class Claims:
    partner_uuid: str
    scope: str
    business_id: str | None
    issued_at: int
    expires_at: int
    serial: int
    token_id: str

    @property
    def is_partner(self) -> bool:
        return self.scope == PARTNER_SCOPE


@dataclass(frozen=True, slots=True)
class IssuedToken:
    access_token: str
    expires_in: int
    claims: Claims


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenAuthority:
    """Mints and checks tokens for one fake; nothing is shared between fakes."""

    _HEADER = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())

    def __init__(self, clock: ServerClock, ttl: int, rng: random.Random) -> None:
        self.clock = clock
        self.ttl = ttl
        # Not from the seeded rng: two fakes built with the same seed must refuse each other's
        # tokens, as two deployments of the API would.
        self._secret = secrets.token_bytes(32)
        self._rng = rng
        self._next_serial = 1
        self._valid_from_serial = 1
        self.issued = 0

    def issue(self, partner_uuid: str, business_id: str | None = None) -> IssuedToken:
        now = int(self.clock.timestamp())
        claims = Claims(
            partner_uuid=partner_uuid,
            scope=BUSINESS_SCOPE if business_id else PARTNER_SCOPE,
            business_id=business_id,
            issued_at=now,
            expires_at=now + self.ttl,
            serial=self._next_serial,
            token_id=f"{self._rng.getrandbits(64):016x}",
        )
        self._next_serial += 1
        self.issued += 1
        payload: dict[str, Any] = {
            "iss": "thredfi-fake",
            "sub": partner_uuid,
            "scope": claims.scope,
            "business_id": business_id,
            "iat": claims.issued_at,
            "exp": claims.expires_at,
            "jti": claims.token_id,
            "sn": claims.serial,
        }
        body = _b64(json.dumps(payload, separators=(",", ":")).encode())
        signing_input = f"{self._HEADER}.{body}"
        signature = _b64(hmac.new(self._secret, signing_input.encode(), hashlib.sha256).digest())
        return IssuedToken(f"{signing_input}.{signature}", self.ttl, claims)

    def verify(self, token: str) -> Claims:
        """The token's claims, or a 401 ``invalid_token`` for anything forged, stale or revoked."""
        parts = token.split(".")
        if len(parts) != 3:
            raise invalid_token("Token is malformed.")
        signing_input = f"{parts[0]}.{parts[1]}"
        expected = hmac.new(self._secret, signing_input.encode(), hashlib.sha256).digest()
        try:
            signature = _unb64(parts[2])
            payload = json.loads(_unb64(parts[1]))
        except (ValueError, binascii.Error):
            raise invalid_token("Token is malformed.") from None
        if not hmac.compare_digest(signature, expected) or not isinstance(payload, dict):
            raise invalid_token("Token signature is invalid.")
        claims = Claims(
            partner_uuid=str(payload["sub"]),
            scope=str(payload["scope"]),
            business_id=payload.get("business_id"),
            issued_at=int(payload["iat"]),
            expires_at=int(payload["exp"]),
            serial=int(payload["sn"]),
            token_id=str(payload["jti"]),
        )
        if claims.serial < self._valid_from_serial:
            raise invalid_token("Token has been revoked.")
        if self.clock.timestamp() >= claims.expires_at:
            raise invalid_token("Token has expired.")
        return claims

    def counters(self) -> tuple[int, int, int]:
        """What issuing and expiring tokens change (a failed request puts it back)."""
        return (self._next_serial, self._valid_from_serial, self.issued)

    def restore_counters(self, counters: tuple[int, int, int]) -> None:
        self._next_serial, self._valid_from_serial, self.issued = counters

    def expire_all(self) -> None:
        """Invalidate every token issued so far; tokens issued afterwards work."""
        self._valid_from_serial = self._next_serial


def invalid_token(message: str) -> ApiError:
    return ApiError(
        401,
        "invalid_token",
        message,
        headers={"WWW-Authenticate": 'Bearer realm="thredfi", error="invalid_token"'},
    )


def authentication_required(
    message: str = "Authentication credentials were not provided.",
) -> ApiError:
    return ApiError(
        401,
        "authentication_required",
        message,
        headers={"WWW-Authenticate": 'Bearer realm="thredfi"'},
    )
