"""Keep secrets out of every string the SDK produces: logs, reprs and exception messages.

The API key and tokens are never put into messages on purpose; this is the second line of
defence for text that comes from elsewhere (an error body echoing a header, an httpx message),
applied where such text enters our strings and by the logging filter.
"""

from __future__ import annotations

import re

__all__ = ["mask", "redact", "register_secret"]

_PATTERNS = (
    # Authorization header values.
    re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"),
    # JWTs wherever they appear (header.payload.signature, base64url).
    re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"),
    # access_token / api_key / client_secret fields in JSON, Python reprs or query strings.
    re.compile(
        r"(?i)([\"']?(?:access_token|api_key|apikey|client_secret|password)[\"']?"
        r"\s*[:=]\s*[\"']?)[^\"'&\s,}]+"
    ),
)

# Secrets known by value (API keys, caller-held tokens): they need not look like a credential.
# Process-wide and small: one entry per distinct key, not per minted token (those are JWTs).
_known_secrets: set[str] = set()


def register_secret(secret: str | None) -> None:
    """Redact this exact value wherever it appears from now on."""
    if secret and len(secret) >= 8:
        _known_secrets.add(secret)


def redact(text: str) -> str:
    """Replace anything that looks like a credential with a fixed marker."""
    if not text:
        return text
    for secret in tuple(_known_secrets):
        text = text.replace(secret, "[redacted]")
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)} [redacted]", text)
    text = _PATTERNS[1].sub("[redacted-jwt]", text)
    return _PATTERNS[2].sub(lambda m: f"{m.group(1)}[redacted]", text)


def mask(secret: str | None) -> str:
    """How a secret appears in a repr: present or not, never its value."""
    return "None" if secret is None else "'****'"
