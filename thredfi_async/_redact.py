"""Keep secrets out of every string the SDK produces: logs, reprs and exception messages.

The API key and tokens are never put into messages on purpose; this is the second line of
defence for text that comes from elsewhere (an error body echoing a header, an httpx message),
applied where such text enters our strings and by the logging filter.

Two layers: patterns for what looks like a credential wherever it came from (an
`Authorization` value, a JWT, an `api_key=` field), and the exact values this process holds
(API keys, their Basic credential, caller-held and minted tokens), which need not look like
anything. Known values are kept in sets by length and every window of the text is looked up,
so the cost of redacting a line depends on the line and on how many distinct secret lengths
there are (a handful), not on how many secrets the process has seen; a
client's own secrets leave the index when it is closed or collected, minted tokens age out of
a bounded set.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from typing import Any

__all__ = [
    "SecretRegistry",
    "mask",
    "redact",
    "redact_data",
    "register_secret",
    "registry",
    "scrub_exception_chain",
]

MARKER = "[redacted]"
MIN_SECRET_LENGTH = 8

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
# Where a known secret can start: a run of the characters keys, tokens and base64 are made of.
_TOKEN_CHARS = "A-Za-z0-9._~+/=-"
_RUN = re.compile(f"[{_TOKEN_CHARS}]{{{MIN_SECRET_LENGTH},}}")
_ONLY_TOKEN_CHARS = re.compile(f"[{_TOKEN_CHARS}]+")


class SecretRegistry:
    """Exact secret values to redact, in sets by length so a lookup costs the same for 1 or
    100,000 of them (a shared prefix such as `sk_live_` costs nothing either).

    Held secrets (a client's key, its Basic credential, a caller's token) are counted, since
    several clients may share one key, and removed with `release`. Minted tokens are `remember`ed
    in a bounded LRU set: they expire within hours, and a process minting tokens for thousands
    of businesses must not grow without bound.
    """

    def __init__(self, *, recent_limit: int = 100_000) -> None:
        self.recent_limit = recent_limit
        self._held: dict[str, int] = {}
        self._recent: OrderedDict[str, None] = OrderedDict()
        self._by_length: dict[int, set[str]] = {}
        self._unusual: frozenset[str] = frozenset()  # with characters outside _TOKEN_CHARS
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._held.keys() | self._recent.keys())

    def hold(self, secret: str | None) -> None:
        if not _worth_keeping(secret):
            return
        assert secret is not None
        with self._lock:
            self._held[secret] = self._held.get(secret, 0) + 1
            self._index(secret)

    def release(self, secret: str | None) -> None:
        if not _worth_keeping(secret):
            return
        assert secret is not None
        with self._lock:
            count = self._held.get(secret, 0) - 1
            if count > 0:
                self._held[secret] = count
                return
            self._held.pop(secret, None)
            if secret not in self._recent:
                self._unindex(secret)

    def remember(self, secret: str | None) -> None:
        if not _worth_keeping(secret):
            return
        assert secret is not None
        with self._lock:
            self._recent[secret] = None
            self._recent.move_to_end(secret)
            self._index(secret)
            while len(self._recent) > self.recent_limit:
                old, _ = self._recent.popitem(last=False)
                if old not in self._held:
                    self._unindex(old)

    def redact(self, text: str) -> str:
        for secret in self._unusual:
            text = text.replace(secret, MARKER)
        if not self._by_length:
            return text
        by_length = sorted(self._by_length.items(), reverse=True)  # the longest match wins
        spans: list[tuple[int, int]] = []
        for run in _RUN.finditer(text):
            value, start = run.group(), run.start()
            i, size = 0, len(value)
            while i <= size - MIN_SECRET_LENGTH:
                longest = 0
                for length, secrets in by_length:
                    if i + length <= size and value[i : i + length] in secrets:
                        longest = length
                        break
                if longest:
                    spans.append((start + i, start + i + longest))
                    i += longest
                else:
                    i += 1
        if not spans:
            return text
        pieces, position = [], 0
        for begin, end in spans:
            pieces.append(text[position:begin])
            pieces.append(MARKER)
            position = end
        pieces.append(text[position:])
        return "".join(pieces)

    def _index(self, secret: str) -> None:
        if _ONLY_TOKEN_CHARS.fullmatch(secret):
            self._by_length.setdefault(len(secret), set()).add(secret)
        else:
            self._unusual = self._unusual | {secret}

    def _unindex(self, secret: str) -> None:
        bucket = self._by_length.get(len(secret))
        if bucket is not None:
            bucket.discard(secret)
            if not bucket:
                del self._by_length[len(secret)]
        if secret in self._unusual:
            self._unusual = self._unusual - {secret}


def _worth_keeping(secret: str | None) -> bool:
    return isinstance(secret, str) and len(secret) >= MIN_SECRET_LENGTH


registry = SecretRegistry()


def register_secret(secret: str | None) -> None:
    """Redact this exact value wherever it appears until it ages out (minted tokens)."""
    registry.remember(secret)


def redact(text: str) -> str:
    """Replace anything that looks like a credential, or is a known one, with a marker."""
    if not text:
        return text
    text = registry.redact(text)
    text = _PATTERNS[0].sub(lambda m: f"{m.group(1)} {MARKER}", text)
    text = _PATTERNS[1].sub("[redacted-jwt]", text)
    return _PATTERNS[2].sub(lambda m: f"{m.group(1)}{MARKER}", text)


def redact_data(value: Any) -> Any:
    """`redact` applied to every string in decoded JSON (keys included); the rest unchanged."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {redact_data(k): redact_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact_data(v) for v in value]
    return value


def scrub_exception_chain(error: BaseException | None) -> None:
    """Redact the arguments of `error` and every exception it was raised from, in place.

    The SDK chains the transport's exception as `__cause__` (so a traceback shows what really
    happened), and that exception's text can hold a header value: h11 quotes the offending
    header, token included.
    """
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        seen.add(id(error))
        error.args = tuple(redact(a) if isinstance(a, str) else a for a in error.args)
        error = error.__cause__ or error.__context__


def mask(secret: str | None) -> str:
    """How a secret appears in a repr: present or not, never its value."""
    return "None" if secret is None else "'****'"
