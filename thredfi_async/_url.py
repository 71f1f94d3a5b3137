"""Request URLs built on the base URL parsed once, not re-parsed on every call.

`httpx.URL(base_url + path, params=...)` parses and validates the whole string character by
character on every call: about 25 us, more than the rest of the SDK's own work on a call. The
base URL is the same for every call of a client, and the part that changes is made here from
parts that need no validation: the operation's path template (ASCII from the spec) with every
parameter percent-encoded as a single segment, and the query encoded by httpx.QueryParams. So
the URL is the base's parse result with its path and query replaced.

That result is a field of httpx.URL that httpx does not document. The shortcut checks itself
against httpx's own parsing when a builder is made, and a builder whose check fails (another
httpx version, an unusual base URL) parses every URL as httpx would.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

__all__ = ["URLBuilder"]

_PROBE_PATH = "/v1/platform/businesses/0b5f6c1e-9a43-4a8e-8a2d-4f7b2c1d9e01/invoices/a%2Fb%20c/"
_PROBE_QUERY = {"page": "2", "q": ["a b&c=d", "é/?#"], "status": "SENT"}


class URLBuilder:
    """Absolute request URLs under one base URL (which may carry a path prefix)."""

    __slots__ = ("_base", "_prefix", "_reference", "base_url")

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._base = httpx.URL(self.base_url)
        self._prefix = self._base.raw_path.decode("ascii").split("?", 1)[0].rstrip("/")
        self._reference: Any = None
        try:
            self._reference = self._base._uri_reference
            probe = self.build(_PROBE_PATH, _PROBE_QUERY)
            agrees = probe == self._parse(_PROBE_PATH, _PROBE_QUERY) and str(probe) == str(
                self._parse(_PROBE_PATH, _PROBE_QUERY)
            )
        except (AttributeError, TypeError, ValueError):
            agrees = False
        if not agrees:
            self._reference = None

    @property
    def fast(self) -> bool:
        """Whether URLs skip httpx's parsing (False: httpx parses each one)."""
        return self._reference is not None

    def build(self, path: str, query: Mapping[str, Any] | None) -> httpx.URL:
        """`path` is already encoded (segments percent-encoded); `query` values are str or
        lists of str, encoded here as httpx encodes `params=`."""
        reference = self._reference
        if reference is None:
            return self._parse(path, query)
        url = httpx.URL.__new__(httpx.URL)
        url._uri_reference = reference._replace(
            path=self._prefix + path,
            query=str(httpx.QueryParams(query)) if query else None,
            fragment=None,
        )
        return url

    def _parse(self, path: str, query: Mapping[str, Any] | None) -> httpx.URL:
        return httpx.URL(self.base_url + path, params=query or None)
