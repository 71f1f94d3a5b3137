"""Request URLs made on the base URL parsed once are the URLs httpx itself would parse."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import httpx
import pytest

from thredfi_async._url import URLBuilder

from .test_operations import OPERATIONS

BASES = [
    "https://sandbox.thredfi.com",
    "http://127.0.0.1:8080",
    "https://gateway.example/thredfi/api/",
    "http://[::1]:9000",
]
ODD_VALUES = ["0b5f6c1e-9a43-4a8e-8a2d-4f7b2c1d9e01", "a/b", "%2e%2e", "é ü", "x?y#z", "a;b=c"]
QUERIES: list[dict[str, Any] | None] = [
    None,
    {},
    {"page": "2", "page_size": "100"},
    {"status": ["SENT", "PAID"], "q": "a b&c=d/é?#"},
]


def encoded_path(template: str, value: str) -> str:
    """As the client encodes a path: every parameter one percent-encoded segment."""
    segment = quote(value, safe="")
    parts = template.split("{")
    return parts[0] + "".join(segment + part.split("}", 1)[1] for part in parts[1:])


@pytest.mark.parametrize("base", BASES)
def test_every_operation_path_builds_the_url_httpx_parses(base: str) -> None:
    builder = URLBuilder(base)
    assert builder.fast  # the shortcut is in use, so the comparison below means something
    checked = 0
    for operation in OPERATIONS:
        for value in ODD_VALUES:
            for query in QUERIES:
                path = encoded_path(operation.path, value)
                built = builder.build(path, query)
                parsed = httpx.URL(base.rstrip("/") + path, params=query or None)
                assert built == parsed
                assert str(built) == str(parsed)
                assert built.raw_path == parsed.raw_path
                assert (built.host, built.port, built.scheme) == (
                    parsed.host,
                    parsed.port,
                    parsed.scheme,
                )
                checked += 1
    assert checked == len(OPERATIONS) * len(ODD_VALUES) * len(QUERIES)


def test_a_builder_whose_self_check_fails_parses_every_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """If httpx's internals ever differ, the builder falls back to httpx's parsing."""
    from httpx import _urlparse

    def wrong(self: Any, **fields: Any) -> Any:
        return tuple.__new__(type(self), (*self[:4], "/elsewhere", None, None))

    monkeypatch.setattr(_urlparse.ParseResult, "_replace", wrong)
    builder = URLBuilder("https://sandbox.thredfi.com")
    assert not builder.fast
    url = builder.build("/v1/platform/businesses/", {"page": "2"})
    assert str(url) == "https://sandbox.thredfi.com/v1/platform/businesses/?page=2"
