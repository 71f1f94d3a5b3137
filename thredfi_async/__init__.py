"""thredfi-async: the async-first Python SDK for the Thredfi Partner API.

```python
from thredfi_async import AsyncThredfi

async with AsyncThredfi() as thredfi:          # THREDFI_PARTNER_UUID / THREDFI_API_KEY
    books = thredfi.business(business_id)
    async for invoice in books.invoices.list():
        ...
```
`Thredfi` is the same client for sync code (`with Thredfi() as thredfi:`, `for invoice in ...`).
Everything public is importable from here; modules starting with `_` are private.
"""

from typing import TYPE_CHECKING, Any

from . import models
from ._client import DEFAULT_TIMEOUT, ENVIRONMENTS, AsyncThredfi, BusinessView
from ._clock import Clock, SystemClock
from ._exceptions import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ClientClosedError,
    ConflictError,
    DeclaredFieldError,
    InternalServerError,
    InvalidRequestError,
    MissingCredentialsError,
    MissingFieldError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    ThredfiError,
    UnexpectedResponseError,
    UnprocessableEntityError,
    UsageError,
)
from ._extras import MissingExtraError
from ._hooks import PROTECTED_HEADERS, AttemptHeaders, AttemptInfo, CallInfo, Hook, HookError
from ._pagination import AsyncPaginator, Page
from ._response import APIResponse
from ._retry import RetryPolicy
from ._shared_tokens import SharedTokenStore
from ._sync_pagination import SyncPage, SyncPaginator
from ._throttle import Adaptive, LocalThrottle, Rate, Throttle, ThrottleStats
from ._tokens import InMemoryTokenStore, Token, TokenStore
from ._types import NOT_GIVEN, UNSET, File, NotGiven, Unset
from ._version import __version__

__all__ = [
    "DEFAULT_TIMEOUT",
    "ENVIRONMENTS",
    "NOT_GIVEN",
    "UNSET",
    "PROTECTED_HEADERS",
    "APIConnectionError",
    "APIResponse",
    "APIStatusError",
    "APITimeoutError",
    "AsyncPaginator",
    "AsyncThredfi",
    "AttemptHeaders",
    "AttemptInfo",
    "AuthenticationError",
    "BadRequestError",
    "ClientClosedError",
    "BusinessView",
    "CallInfo",
    "Clock",
    "ConflictError",
    "DeclaredFieldError",
    "File",
    "Hook",
    "HookError",
    "InMemoryTokenStore",
    "InternalServerError",
    "InvalidRequestError",
    "MissingCredentialsError",
    "MissingFieldError",
    "NotFoundError",
    "NotGiven",
    "Page",
    "PermissionDeniedError",
    "RateLimitError",
    "RetryPolicy",
    "SystemClock",
    "ThredfiError",
    "Token",
    "TokenStore",
    "UnexpectedResponseError",
    "UnprocessableEntityError",
    "UsageError",
    "Unset",
    "__version__",
    "models",
]

# Many workers: pacing within a budget (thredfi_async.redis shares it across processes), and
# the seam a token store implements to mint each token once across processes.
__all__ += [
    "Adaptive",
    "LocalThrottle",
    "MissingExtraError",
    "Rate",
    "SharedTokenStore",
    "Throttle",
    "ThrottleStats",
]

# The sync client, for Django, Celery and scripts: the same surface, blocking.
__all__ += [
    "SyncBusinessView",
    "SyncPage",
    "SyncPaginator",
    "Thredfi",
]

if TYPE_CHECKING:
    from ._sync_client import SyncBusinessView, Thredfi


def __getattr__(name: str) -> Any:
    """The sync client is imported on first use: its generated facade is a tenth of the
    package's import time, which async-only programs should not pay."""
    if name in ("Thredfi", "SyncBusinessView"):
        from . import _sync_client

        value = getattr(_sync_client, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
