"""The base of every generated resource class: business scoping and the call into the client.

Generated methods stay thin (build the request, name the parser) and hand over here. A
resource is bound to at most one business: `thredfi.invoices` takes `business_id=` per call,
`thredfi.business(id).invoices` has it bound and refuses a different one before sending.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar
from uuid import UUID

from ._exceptions import InvalidRequestError
from ._operation import Operation, RequestParts
from ._pagination import AsyncPaginator
from ._types import RequestOptions

if TYPE_CHECKING:
    from ._client import AsyncThredfi

__all__ = ["LazyEndpoint", "Resource"]

T = TypeVar("T")


class Resource:
    """The base of one resource's generated class (`InvoicesResource`): its methods, bound to a
    client and at most one business. ResourceFacade (generated) holds one of each."""

    def __init__(self, client: AsyncThredfi, business_id: str | None = None) -> None:
        self._client = client
        self._bound_business_id = business_id

    def __repr__(self) -> str:
        scope = f" business_id={self._bound_business_id!r}" if self._bound_business_id else ""
        return f"<{type(self).__name__}{scope}>"

    def _business_id(self, given: str | UUID | None) -> str:
        """The business this call is for: the bound one, or the one passed, never both apart."""
        bound = self._bound_business_id
        if given is None:
            if bound is None:
                raise InvalidRequestError(
                    "business_id is required: pass business_id=... or use thredfi.business(id)"
                )
            return bound
        if not isinstance(given, str | UUID):
            raise InvalidRequestError(
                f"business_id must be a str or UUID, got {type(given).__name__}"
            )
        given_text = str(given)
        if not given_text:
            raise InvalidRequestError("business_id must not be empty")
        if bound is not None and given_text != bound:
            raise InvalidRequestError(
                f"this view is bound to business {bound!r}; got business_id={given_text!r}. "
                "Use thredfi.business(other_id) for another business."
            )
        return given_text

    def _call(
        self,
        operation: Operation,
        parts: RequestParts,
        parse: Callable[[Any], T],
        options: RequestOptions,
    ) -> Coroutine[Any, Any, T]:
        # The client's coroutine itself, not one awaiting it: every resumption of a call
        # passes through each frame of its await chain.
        return self._client._call(operation, parts, parse, options)

    def _paginate(
        self,
        operation: Operation,
        parts: RequestParts,
        parse: Callable[[Any], Any],
        options: RequestOptions,
        *,
        item_type: type[T],
        prefetch: int,
    ) -> AsyncPaginator[T]:
        async def fetch(page_parts: RequestParts) -> Any:
            return await self._client._call(operation, page_parts, parse, options)

        return AsyncPaginator(fetch, parts, item_type=item_type, prefetch=prefetch)


class LazyEndpoint:
    """A generated endpoint module, imported when a facade method first uses it.

    The facade names every endpoint module (about ninety, each importing its models) and a
    program calls a few: importing them all up front was a third of `import thredfi_async`.
    On the first attribute read the module is imported and its names copied onto this object,
    so later reads are plain instance attribute reads (`__getattr__` runs only on a miss).
    """

    def __init__(self, module: str, package: str) -> None:
        self._lazy_module = (module, package)

    def __repr__(self) -> str:
        module, package = self._lazy_module
        return f"<LazyEndpoint {package}{module}>"

    def __getattr__(self, name: str) -> Any:
        module = importlib.import_module(*self._lazy_module)
        self.__dict__.update(vars(module))
        return getattr(module, name)
