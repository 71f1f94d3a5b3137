"""The seam for token stores shared by many processes: one mint per token across all of them.

A `TokenStore` on its own lets every process that finds a token missing fetch its own. A store
that also implements `SharedTokenStore.mint_once` is asked instead, and makes the processes
sharing it agree on one fetch (Redis does it with a short lock, thredfi_async.redis). The
TokenManager's in-process single flight stays in front: one task per process reaches the store.

The store is a cache, and its outage must not fail a call: `mint_shared` tells the caller a
store error apart from the fetch's own error, so the manager can go on with a token it holds in
this process while the store is down, instead of losing a token that was minted.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:  # _tokens imports this module
    from ._tokens import Token

__all__ = ["SharedTokenStore", "mint_shared"]

Mint = Callable[[], Awaitable["Token"]]
Usable = Callable[["Token"], bool]


@runtime_checkable
class SharedTokenStore(Protocol):
    """What a TokenStore adds to make the processes sharing it mint each token once."""

    async def mint_once(self, key: str, fetch: Mint, usable: Usable) -> Token:
        """The token for `key`: one another process stored and `usable` accepts, or else
        `fetch()`'s, called by one process at a time and stored for the others.

        `usable` is the caller's judgement (fresh, or newer than the token a 401 rejected):
        the store cannot make it, as it knows neither the clock nor the rejected token. An
        error raised by `fetch` propagates unchanged; any other error is the store's.
        """
        ...


async def mint_shared(
    store: SharedTokenStore, key: str, fetch: Mint, usable: Usable
) -> tuple[Token, Exception | None]:
    """The token `store.mint_once` gives, and None; or, when the store failed, a token fetched
    in this process and the store's error (the caller holds that token itself).

    The fetch runs at most once: a token minted before the store failed is returned, not
    fetched again; an error of the fetch itself propagates.
    """
    minted: list[Token] = []
    fetch_failed = False

    async def tracked() -> Token:
        nonlocal fetch_failed
        try:
            token = await fetch()
        except BaseException:
            fetch_failed = True
            raise
        minted.append(token)
        return token

    try:
        return await store.mint_once(key, tracked, usable), None
    except Exception as exc:
        if fetch_failed:
            raise
        return (minted[-1] if minted else await fetch()), exc
