"""Small shared types: the NOT_GIVEN sentinel and the per-call request options."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal

import httpx

__all__ = ["NOT_GIVEN", "NotGiven", "RequestOptions", "TimeoutTypes"]


class NotGiven:
    """Marks an argument the caller did not pass, where None is a meaningful value.

    `idempotency_key=None` means "send no key"; leaving it out means "generate one". The same
    holds for `timeout=None` (no timeout) versus the client default.
    """

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()

TimeoutTypes = float | httpx.Timeout | None


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """What a caller may override on one call; everything else comes from the client."""

    idempotency_key: str | NotGiven | None = NOT_GIVEN
    timeout: TimeoutTypes | NotGiven = NOT_GIVEN
    max_retries: int | NotGiven = NOT_GIVEN
    extra_headers: Mapping[str, str] | None = None
    extra_query: Mapping[str, Any] | None = None
