"""The ``tokportal_sandbox`` fixture, used from a user's own test suite."""

from __future__ import annotations

import subprocess
import sys

import pytest

pytest_plugins = ["pytester"]


def test_fixture_gives_a_sandbox_and_ready_clients(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest
        from tokportal_async import NotFoundError

        def test_sync(tokportal_sandbox):
            assert tokportal_sandbox.base_url.startswith("http://127.0.0.1:")
            assert tokportal_sandbox.api_key.startswith("sk_")
            page = tokportal_sandbox.client.accounts.list()
            assert page.pagination.total == 250
            with pytest.raises(NotFoundError):
                tokportal_sandbox.client.accounts.get("missing")

        @pytest.mark.anyio
        async def test_async(tokportal_sandbox):
            async with tokportal_sandbox.async_client() as tp:
                first = tokportal_sandbox.state.accounts[0]["id"]
                assert (await tp.accounts.get(first)).id == first

        @pytest.mark.tokportal_sandbox(accounts=12, fault_rate=1.0, fault_kinds=("503",))
        def test_knobs(tokportal_sandbox):
            from tokportal_async import ServerError
            with pytest.raises(ServerError):  # the marker's options reached the sandbox
                tokportal_sandbox.client.accounts.list()
            tokportal_sandbox.state.faults.rate = 0
            assert tokportal_sandbox.client.accounts.list().pagination.total == 12

        @pytest.mark.tokportal_sandbox(accounts=3, latency=0.001)
        def test_client_kwargs(tokportal_sandbox):
            from tokportal_async import TokPortal
            assert tokportal_sandbox.state.latency == 0.001  # seconds, as everywhere
            with TokPortal(**tokportal_sandbox.client_kwargs()) as tp:
                assert tp.accounts.list().pagination.total == 3

        @pytest.mark.tokportal_sandbox(profile="seed", accounts=2)
        def test_seed_profile(tokportal_sandbox):
            first = tokportal_sandbox.state.accounts[0]["id"]
            assert tokportal_sandbox.client.accounts.get(first).credentials is not None

        @pytest.mark.tokportal_sandbox(accounts=2, credits=0, policy_version="v9")
        def test_live_policy_options(tokportal_sandbox):
            from tokportal_async import PolicyAcceptanceRequiredError
            first = tokportal_sandbox.state.accounts[0]["id"]
            with pytest.raises(PolicyAcceptanceRequiredError) as caught:
                tokportal_sandbox.client.accounts.reveal_credentials(first)
            assert caught.value.terms.policy_version == "v9"
            assert tokportal_sandbox.state.credits == 0

        def test_staging_in_one_line(tokportal_sandbox):
            first = tokportal_sandbox.state.accounts[0]["id"]
            tokportal_sandbox.acknowledge(first)
            sent = tokportal_sandbox.trigger_verification_code(first)
            code = tokportal_sandbox.client.accounts.verification_code(first)
            assert code.verification_code == sent
            assert tokportal_sandbox.client.accounts.reveal_credentials(first).password
            assert tokportal_sandbox.state.credits_charged == 0
        """
    )
    pytester.makeconftest(
        """
        import pytest

        @pytest.fixture
        def anyio_backend():
            return "asyncio"
        """
    )
    result = pytester.runpytest_subprocess("-p", "anyio", "-W", "error", "--strict-markers")
    result.assert_outcomes(passed=7)


@pytest.mark.parametrize(
    "statement",
    [
        "import tokportal_async",
        "import tokportal_async.testing",  # what pytest loads in every project using the SDK
    ],
)
def test_importing_loads_nothing_heavy(statement: str) -> None:
    code = (
        f"{statement}\n"
        "import sys\n"
        "heavy = {'aiohttp', 'cattrs', 'anyio', 'tokportal_async._client', "
        "'tokportal_async.sandbox'}\n"
        "print(sorted(heavy & set(sys.modules)))\n"
    )
    result = subprocess.run(  # noqa: S603 - our own interpreter
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert result.stdout.strip() == "[]"


def test_every_public_name_loads_on_first_use() -> None:
    import tokportal_async

    for name in tokportal_async.__all__:
        assert getattr(tokportal_async, name) is not None
    assert set(tokportal_async.__all__) <= set(dir(tokportal_async))
    with pytest.raises(AttributeError, match="no_such_name"):
        _ = tokportal_async.no_such_name
