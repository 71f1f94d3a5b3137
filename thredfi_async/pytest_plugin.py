"""pytest fixtures for code that calls Thredfi: a fresh fake API per test and a client on it.

pytest loads this module through the package's ``pytest11`` entry point. It lives outside
``thredfi_async.testing`` and imports the fake only inside the fixtures, because the entry point
is registered whether or not the ``[testing]`` extra is installed: a project that has the SDK
but not the fake's dependencies must still be able to run pytest.

The fixtures are synchronous, so they serve async tests under pytest-asyncio (strict or auto
mode) and anyio's plugin alike: nothing in the fake or the client is bound to an event loop
until the test's first request, and closing an in-process client awaits no I/O.

::

    async def test_retries_a_flaky_list(thredfi, thredfi_fake, thredfi_clock):
        thredfi_fake.faults.fail(503, times=2, operation_id="list_businesses")
        await thredfi.businesses.list()
        assert thredfi_fake.requests.count("list_businesses") == 3
        assert len(thredfi_clock.sleeps) == 2

Sync code is tested the same way with ``thredfi_sync`` (a ``Thredfi``) and
``thredfi_sync_business``, in plain ``def`` tests::

    def test_a_celery_task_lists_invoices(thredfi_sync, thredfi_sync_business):
        assert import_invoices(thredfi_sync, thredfi_sync_business.business_id) == 0

``@pytest.mark.thredfi_fake(seed=1, now=datetime(...), envelope="next")`` passes keyword
arguments to ``FakeThredfi`` for one test (or a class or module); a ``thredfi_fake_options``
fixture overridden in a conftest.py sets them for a whole directory.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import anyio
import pytest

if TYPE_CHECKING:
    from thredfi_async import AsyncThredfi, BusinessView, SyncBusinessView, Thredfi
    from thredfi_async.testing import FakeThredfi, RecordingClock

__all__ = [
    "thredfi",
    "thredfi_business",
    "thredfi_clock",
    "thredfi_fake",
    "thredfi_fake_options",
    "thredfi_sync",
    "thredfi_sync_business",
]

MARKER = "thredfi_fake"


def pytest_configure(config: pytest.Config) -> None:
    # Registered so that suites running with --strict-markers accept it.
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): keyword arguments for this test's FakeThredfi "
        "(seed=, now=, envelope=, token_ttl=, raise_server_errors=, ...)",
    )


@pytest.fixture
def thredfi_fake_options() -> dict[str, Any]:
    """Keyword arguments for every ``FakeThredfi`` the fixture makes; override to change them."""
    return {}


@pytest.fixture
def thredfi_fake(
    request: pytest.FixtureRequest, thredfi_fake_options: dict[str, Any]
) -> FakeThredfi:
    """A fresh, empty fake Thredfi API for each test; ``thredfi_fake.seed(...)`` fills it."""
    options = dict(thredfi_fake_options)
    # iter_markers yields the closest first; apply the module's, then the class's, then the
    # test's, so the most specific one wins.
    for marker in reversed(list(request.node.iter_markers(MARKER))):
        if marker.args:
            raise TypeError(
                f"@pytest.mark.{MARKER} takes FakeThredfi's keyword arguments only, "
                f"got positional {marker.args!r}"
            )
        options.update(marker.kwargs)
    with _testing_extra():
        from thredfi_async.testing import FakeThredfi
    return FakeThredfi(**options)


@pytest.fixture
def thredfi_clock() -> RecordingClock:
    """The client's clock: retry waits are recorded in ``thredfi_clock.sleeps``, not slept."""
    with _testing_extra():
        from thredfi_async.testing import RecordingClock
    return RecordingClock()


@pytest.fixture
def thredfi(thredfi_fake: FakeThredfi, thredfi_clock: RecordingClock) -> Iterator[AsyncThredfi]:
    """An ``AsyncThredfi`` wired to ``thredfi_fake`` in process, closed after the test."""
    client = thredfi_fake.client(clock=thredfi_clock)
    yield client
    # The in-process transport holds no connections, so the close needs no particular event
    # loop (the test's may already be gone); it releases the client's redacted secrets.
    anyio.run(client.aclose)


@pytest.fixture
def thredfi_business(thredfi: AsyncThredfi, thredfi_fake: FakeThredfi) -> BusinessView:
    """One business of the fake's partner, created without a request (none is recorded)."""
    (business_id,) = thredfi_fake.seed().business_ids
    return thredfi.business(business_id)


@pytest.fixture
def thredfi_sync(thredfi_fake: FakeThredfi, thredfi_clock: RecordingClock) -> Iterator[Thredfi]:
    """A sync ``Thredfi`` wired to ``thredfi_fake`` in process, closed after the test (for
    Django views, Celery tasks and scripts tested without an event loop)."""
    with thredfi_fake.sync_client(clock=thredfi_clock) as client:
        yield client


@pytest.fixture
def thredfi_sync_business(thredfi_sync: Thredfi, thredfi_fake: FakeThredfi) -> SyncBusinessView:
    """One business of the fake's partner on the sync client, created without a request."""
    (business_id,) = thredfi_fake.seed().business_ids
    return thredfi_sync.business(business_id)


@contextmanager
def _testing_extra() -> Iterator[None]:
    """Turn a missing dependency of the fake into the one line that installs it."""
    try:
        yield
    except ImportError as missing:
        raise ImportError(
            f"the thredfi fixtures need the fake API's dependencies ({missing}): "
            "pip install 'thredfi-async[testing]'"
        ) from missing
