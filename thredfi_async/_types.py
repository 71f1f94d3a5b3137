"""Small shared types: the sentinels (NOT_GIVEN, UNSET), File, and the per-call options.

UNSET and File are what generated models are built from; they live here, with the overlay,
and the generated `types` module re-exports them, so the overlay's core imports nothing
generated.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, BinaryIO, Final, Literal

import httpx
from attrs import define

__all__ = ["NOT_GIVEN", "UNSET", "File", "NotGiven", "RequestOptions", "TimeoutTypes", "Unset"]


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


class Unset:
    """The type of UNSET: a field the response did not carry, or a request field not to send.

    Distinct from None, which is an explicit JSON null. Falsy, so `if invoice.paid_at:` works.
    """

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "UNSET"

    def __copy__(self) -> Unset:
        return self

    def __deepcopy__(self, memo: object) -> Unset:
        return self


UNSET: Unset = Unset()


@define
class File:
    """A file to upload: multipart/form-data sends it as a file part, not a text field."""

    payload: BinaryIO
    file_name: str | None = None
    mime_type: str | None = None

    def to_tuple(self) -> tuple[str | None, BinaryIO, str | None]:
        """The part as httpx's `files=` takes it."""
        return self.file_name, self.payload, self.mime_type


TimeoutTypes = float | httpx.Timeout | None


@dataclass(frozen=True, slots=True)
class RequestOptions:
    """What a caller may override on one call; everything else comes from the client."""

    idempotency_key: str | NotGiven | None = NOT_GIVEN
    timeout: TimeoutTypes | NotGiven = NOT_GIVEN
    max_retries: int | NotGiven = NOT_GIVEN
    extra_headers: Mapping[str, str] | None = None
    extra_query: Mapping[str, Any] | None = None
