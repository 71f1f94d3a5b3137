"""Where the client's settings come from when they are not passed: the environment.

Arguments always win; then the `THREDFI_*` variables (the ones `python -m thredfi_async.testing`
prints for the fake); then, for the credentials, the `THRED_*` spellings the Thredfi MCP server
reads (https://docs.thredfi.com/implementation/mcp-server), so one set of exports serves both.
Reading the base URL from the environment matters as much as the credentials: with only the
credentials honoured, exporting what the fake prints sent the fake's credentials to the sandbox.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import httpx

from ._exceptions import InvalidRequestError

__all__ = ["ENVIRONMENTS", "CREDENTIAL_VARIABLES", "Settings", "from_environment"]

ENVIRONMENTS: dict[str, str] = {
    "sandbox": "https://sandbox.thredfi.com",
    "production": "https://api.thredfi.com",
}

CREDENTIAL_VARIABLES = {
    "partner_uuid": ("THREDFI_PARTNER_UUID", "THRED_PARTNER_UUID"),
    "api_key": ("THREDFI_API_KEY", "THRED_API_KEY"),
}


@dataclass(frozen=True)
class Settings:
    partner_uuid: str | None
    api_key: str | None
    base_url: str


def from_environment(
    partner_uuid: str | None,
    api_key: str | None,
    environment: str | None,
    base_url: str | None,
) -> Settings:
    """The settings to use: each argument if given, else the environment's, else the default
    (the sandbox)."""
    return Settings(
        partner_uuid or _first_set(CREDENTIAL_VARIABLES["partner_uuid"]),
        api_key or _first_set(CREDENTIAL_VARIABLES["api_key"]),
        _base_url(environment, base_url),
    )


def _first_set(names: tuple[str, ...]) -> str | None:
    for name in names:
        value = os.environ.get(name)
        if value:
            return value
    return None


def _base_url(environment: str | None, base_url: str | None) -> str:
    if base_url is not None:
        return _checked_url(base_url, "base_url")
    if environment is not None:
        return _environment_url(environment, "environment")
    from_env = os.environ.get("THREDFI_BASE_URL")
    if from_env:
        return _checked_url(from_env, "THREDFI_BASE_URL")
    named = os.environ.get("THREDFI_ENVIRONMENT")
    if named:
        return _environment_url(named, "THREDFI_ENVIRONMENT")
    return ENVIRONMENTS["sandbox"]


def _environment_url(name: str, source: str) -> str:
    if name not in ENVIRONMENTS:
        raise InvalidRequestError(
            f"{source} must be one of {sorted(ENVIRONMENTS)}, got {name!r}"
            + (" (or set base_url)" if source == "environment" else " (or set THREDFI_BASE_URL)")
        )
    return ENVIRONMENTS[name]


def _checked_url(url: str, source: str) -> str:
    """A base URL refused now, naming where it came from, rather than at the first call."""
    if not isinstance(url, str):
        raise InvalidRequestError(f"{source} must be a str, got {type(url).__name__}")
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError) as exc:
        raise InvalidRequestError(f"{source} is not a URL: {url!r} ({exc})") from None
    if parsed.scheme not in {"http", "https"} or not parsed.host:
        raise InvalidRequestError(
            f"{source} must be an http(s) URL with a host, like https://sandbox.thredfi.com; "
            f"got {url!r}"
        )
    if parsed.query or parsed.fragment:
        raise InvalidRequestError(f"{source} cannot carry a query or fragment: {url!r}")
    return url
