"""The pytest plugin as a user's suite meets it: installed, loaded by its entry point.

Each user suite runs in a subprocess, as it would in the user's project: only the entry point
can have loaded the fixtures there, and no plugin state leaks into this session.
"""

from __future__ import annotations

import textwrap

import pytest

from tests._readme import readme_block

pytest_plugins = ["pytester"]

# Hypothesis (loaded by schemathesis's plugin) is irrelevant here and slow to start.
ARGS = ("-p", "no:schemathesis", "-p", "no:cacheprovider")

# The README's "The pytest plugin" example, as written there.
README_EXAMPLE = readme_block("async def test_retries_a_flaky_list(")


def user_suite(pytester: pytest.Pytester, source: str, **files: str) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_user=textwrap.dedent(source), **files)


def test_the_readme_example_runs_under_anyio_without_pytest_asyncio(
    pytester: pytest.Pytester,
) -> None:
    user_suite(pytester, README_EXAMPLE)
    result = pytester.runpytest_subprocess(*ARGS, "-p", "no:asyncio", "-v")
    # anyio's plugin runs each test on every backend installed: asyncio and trio here.
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(["*test_retries_a_flaky_list?trio? PASSED*"])


@pytest.mark.parametrize("mode", ["strict", "auto"])
def test_the_fixtures_serve_pytest_asyncio_in_either_mode(
    pytester: pytest.Pytester, mode: str
) -> None:
    marker = "pytestmark = pytest.mark.anyio  # with pytest-asyncio: pytest.mark.asyncio"
    assert marker in README_EXAMPLE
    source = README_EXAMPLE.replace(
        marker, "pytestmark = pytest.mark.asyncio" if mode == "strict" else ""
    )
    user_suite(pytester, source)
    result = pytester.runpytest_subprocess(*ARGS, "-p", "no:anyio", "-o", f"asyncio_mode={mode}")
    result.assert_outcomes(passed=4)


def test_each_test_gets_a_fresh_fake_and_a_client_closed_after_it(
    pytester: pytest.Pytester,
) -> None:
    user_suite(
        pytester,
        """
        import pytest

        from thredfi_async import ClientClosedError

        pytestmark = pytest.mark.anyio
        earlier = []


        @pytest.fixture
        def anyio_backend():
            return "asyncio"


        async def test_first(thredfi, thredfi_fake, thredfi_clock, thredfi_business):
            assert len(thredfi_fake.requests) == 0  # the business was seeded, not requested
            assert thredfi_fake.business_ids == [thredfi_business.business_id]
            thredfi_fake.faults.fail(503, times=1, operation_id="list_businesses")
            await thredfi.businesses.list()
            earlier.append((thredfi, thredfi_fake, thredfi_clock))


        async def test_second(thredfi, thredfi_fake, thredfi_clock):
            ((client, fake, clock),) = earlier
            assert thredfi_fake is not fake and thredfi_fake.business_ids == []
            assert len(thredfi_fake.requests) == 0 and not thredfi_fake.faults.rules
            assert thredfi_clock is not clock and thredfi_clock.sleeps == []
            assert len(clock.sleeps) == 1
            with pytest.raises(ClientClosedError):
                await client.businesses.list()
            assert thredfi is not client
            await thredfi.businesses.list()
        """,
    )
    pytester.runpytest_subprocess(*ARGS).assert_outcomes(passed=2)


def test_sync_tests_get_a_sync_client_on_the_fake_closed_after_them(
    pytester: pytest.Pytester,
) -> None:
    user_suite(
        pytester,
        """
        import pytest

        from thredfi_async import ClientClosedError, Thredfi

        earlier = []


        def test_first(thredfi_sync, thredfi_fake, thredfi_clock, thredfi_sync_business):
            assert isinstance(thredfi_sync, Thredfi)
            assert len(thredfi_fake.requests) == 0  # the business was seeded, not requested
            thredfi_fake.faults.fail(503, times=1, operation_id="list_customers")
            assert list(thredfi_sync_business.customers.list()) == []
            assert thredfi_fake.requests.count("list_customers") == 2
            assert len(thredfi_clock.sleeps) == 1
            earlier.append(thredfi_sync)


        def test_second(thredfi_sync, thredfi_fake):
            (client,) = earlier
            with pytest.raises(ClientClosedError):
                client.businesses.list().first_page()
            assert len(thredfi_sync.businesses.list().first_page()) == 0
        """,
    )
    pytester.runpytest_subprocess(*ARGS).assert_outcomes(passed=2)


def test_markers_override_the_options_fixture_closest_first(pytester: pytest.Pytester) -> None:
    user_suite(
        pytester,
        """
        from datetime import UTC, datetime

        import pytest

        from thredfi_async.testing import FakeThredfi

        pytestmark = pytest.mark.thredfi_fake(now=datetime(2024, 2, 1, tzinfo=UTC))


        def seeded_ids(seed):
            return FakeThredfi(seed=seed).seed(businesses=2).business_ids


        def test_the_module_marker_over_the_conftest_options(thredfi_fake):
            assert thredfi_fake.clock.now() == datetime(2024, 2, 1, tzinfo=UTC)
            assert thredfi_fake.seed(businesses=2).business_ids == seeded_ids(5)


        @pytest.mark.thredfi_fake(now=datetime(2024, 3, 1, tzinfo=UTC))
        class TestMarked:
            def test_the_class_marker_over_the_module_one(self, thredfi_fake):
                assert thredfi_fake.clock.now() == datetime(2024, 3, 1, tzinfo=UTC)

            @pytest.mark.thredfi_fake(now=datetime(2024, 4, 1, tzinfo=UTC), seed=6)
            def test_the_test_marker_over_all(self, thredfi_fake):
                assert thredfi_fake.clock.now() == datetime(2024, 4, 1, tzinfo=UTC)
                assert thredfi_fake.seed(businesses=2).business_ids == seeded_ids(6)
        """,
        conftest="""
        from datetime import UTC, datetime

        import pytest


        @pytest.fixture
        def thredfi_fake_options():
            return {"seed": 5, "now": datetime(2024, 1, 1, tzinfo=UTC)}
        """,
    )
    # --strict-markers: the plugin registers its marker.
    pytester.runpytest_subprocess(*ARGS, "--strict-markers").assert_outcomes(passed=3)


def test_a_positional_marker_argument_is_refused(pytester: pytest.Pytester) -> None:
    user_suite(
        pytester,
        """
        import pytest


        @pytest.mark.thredfi_fake(7)
        def test_seeded(thredfi_fake):
            pass
        """,
    )
    result = pytester.runpytest_subprocess(*ARGS)
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*thredfi_fake takes FakeThredfi's keyword arguments only*"])


def test_without_the_testing_extra_pytest_runs_and_the_fixture_names_the_install(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The entry point is installed with the SDK alone; stand in for a missing Starlette by
    # shadowing it with a package that cannot be imported.
    shadow = pytester.mkdir("shadow")
    (shadow / "starlette").mkdir()
    (shadow / "starlette" / "__init__.py").write_text(
        "raise ModuleNotFoundError(\"No module named 'starlette'\", name='starlette')\n"
    )
    monkeypatch.setenv("PYTHONPATH", str(shadow))
    user_suite(
        pytester,
        """
        def test_unrelated():
            assert True


        def test_with_the_fake(thredfi_fake):
            pass
        """,
    )
    result = pytester.runpytest_subprocess(*ARGS)
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "E * the thredfi fixtures need the fake API's dependencies (*'starlette'*)*"
            ": pip install 'thredfi-async[[]testing[]]'"
        ]
    )
