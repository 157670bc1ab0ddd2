"""A pytest plugin for users' own tests: the ``tokportal_sandbox`` fixture.

Installed with the package (entry point ``pytest11``), so any project that depends on
``tokportal_async`` gets it::

    def test_lists_my_accounts(tokportal_sandbox):
        page = tokportal_sandbox.client.accounts.list()
        assert page.pagination.total == 250

    async def test_async(tokportal_sandbox):          # with your async test runner
        async with tokportal_sandbox.async_client() as tp:
            detail = await tp.accounts.get(tokportal_sandbox.state.accounts[0]["id"])

    @pytest.mark.tokportal_sandbox(accounts=20, fault_rate=0.2, latency=0.01)
    def test_survives_faults(tokportal_sandbox): ...

The sandbox runs on its own event loop thread on 127.0.0.1, so it serves sync and async
tests alike; the marker takes the fields of :class:`~tokportal_async.sandbox.SandboxOptions`
as keywords, under the same names and units as everywhere else (seconds for durations).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

import pytest

if TYPE_CHECKING:
    from ._client import AsyncTokPortal
    from ._sync_client import TokPortal
    from ._webhook_inbox import WebhookInbox
    from .sandbox import Sandbox, SandboxState

# pytest loads this plugin in every project that installs the SDK, for every run: the
# clients and the sandbox are imported only when a test asks for the fixture.

__all__ = ["SandboxFixture", "WebhookInbox", "fast_retries", "tokportal_sandbox"]


def __getattr__(name: str) -> Any:
    # WebhookInbox loads the webhooks module: only for the tests that use it.
    if name == "WebhookInbox":
        from ._webhook_inbox import WebhookInbox

        return WebhookInbox
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


MARKER = "tokportal_sandbox"

#: The waits of :func:`fast_retries`: the policy's shape, in milliseconds.
FAST_BASE_DELAY = 0.001
FAST_MAX_DELAY = 0.01

Client = TypeVar("Client", bound=Any)


def fast_retries(
    client: Client, *, max_retries: int | None = None, deadline: float | None = None
) -> Client:
    """For tests: ``client``'s retries wait milliseconds instead of seconds.

    Everything else about retrying stays: what is retried and what is not, how many
    times, the deadline, and the server's ``Retry-After``, which is never undercut (a
    sandbox asking for a second still costs a second). Takes an ``AsyncTokPortal`` or a
    ``TokPortal`` and returns it::

        async with fast_retries(AsyncTokPortal(**sandbox.client_kwargs())) as tp: ...

    Args:
        client: the client to change.
        max_retries: retries per request instead of the client's own.
        deadline: seconds after the first attempt past which no retry starts (0: none
            after the first), instead of the client's own.
    """
    import attrs

    from ._client import AsyncTokPortal
    from ._validation import check_positive_seconds, check_retries

    target = client if isinstance(client, AsyncTokPortal) else getattr(client, "_async", None)
    if not isinstance(target, AsyncTokPortal):
        raise TypeError(f"fast_retries takes an AsyncTokPortal or a TokPortal, got {client!r}")
    changes: dict[str, Any] = {"base_delay": FAST_BASE_DELAY, "max_delay": FAST_MAX_DELAY}
    if max_retries is not None:
        changes["max_retries"] = check_retries(max_retries)
    if deadline is not None:
        check_positive_seconds("deadline", deadline, allow_zero=True)
        changes["deadline"] = float(deadline)
    target._retry_policy = attrs.evolve(target._retry_policy, **changes)
    return client


class SandboxFixture:
    """A running sandbox, with what a test needs to talk to it."""

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox
        self._inboxes: list[WebhookInbox] = []

    @property
    def base_url(self) -> str:
        """Where the sandbox serves the API: ``http://127.0.0.1:<port>/api/ext``."""
        return self._sandbox.base_url

    @property
    def api_key(self) -> str:
        """The sandbox user's key."""
        return self._sandbox.api_key

    @property
    def state(self) -> SandboxState:
        """The sandbox's data and knobs: ``faults``, ``latency``, ``trigger_verification_code``."""
        return self._sandbox.state

    @functools.cached_property
    def client(self) -> TokPortal:
        """A blocking client pointed at the sandbox, closed after the test."""
        from ._sync_client import TokPortal

        return TokPortal(self.api_key, base_url=self.base_url)

    def set_coverage(self, account_id: str, status: str, *, price: int | None = None) -> None:
        """Stage the account's TokPortal Coverage as ``status`` (``"lapsed"`` ...).

        A lapsed or cancelled coverage is quoted for reactivation (at ``price`` credits if
        given); without active coverage, rewarms and edit requests are refused with
        ``MANAGED_ACCOUNT_TASK_BLOCKED``.
        """
        self._sandbox.state.care.set_coverage(account_id, status, price=price)

    def fail_after_acting(self, fault: str = "500", *, times: int = 1) -> None:
        """The next ``times`` writes take effect, then their answer is lost.

        ``fault`` is how: ``"500"``, ``"502"``, ``"503"`` (an error status), ``"drop"``
        (the connection closes) or ``"stall"`` (no answer until the client gives up).
        What a client must survive to charge at most once::

            tokportal_sandbox.fail_after_acting("drop")
            done = tokportal_sandbox.client.accounts.rewarm(account_id, terms)
            assert done.charge.replayed  # the retry got the first answer back
        """
        from .sandbox import Fault

        self._sandbox.state.care.after_effect_faults.extend([Fault(fault)] * times)

    def acknowledge(self, *account_ids: str) -> None:
        """Stage the policy as accepted for these accounts, as the live API records it.

        Their credentials and codes then come without a 428 and without a charge, as for
        an account whose owner accepted TokPortal's terms on an earlier call::

            tokportal_sandbox.acknowledge(account_id)
            creds = tokportal_sandbox.client.accounts.reveal_credentials(account_id)
        """
        self._sandbox.state.acknowledge(*account_ids)

    def trigger_verification_code(
        self, account_id: str, *, delay: float = 0.0, code: str | None = None
    ) -> str:
        """Send a verification code to the account's inbox and return it.

        As requesting a login code on TikTok would; readable after ``delay`` seconds
        (default: at once). ``code`` picks the code (default: a random 6 digits).
        """
        return self._sandbox.state.trigger_verification_code(account_id, delay=delay, code=code)

    def webhook_inbox(self, events: Iterable[str] | None = None) -> WebhookInbox:
        """A webhook receiver on 127.0.0.1, closed after the test.

        With ``events``, it is registered with the sandbox for them (its signing secret
        kept), ready to await what the test's actions send::

            inbox = tokportal_sandbox.webhook_inbox(["account.banned"])
            tokportal_sandbox.state.ban_account(account_id)
            event = inbox.wait_for("account.banned")
        """
        from ._webhook_inbox import WebhookInbox

        inbox = WebhookInbox()
        inbox.start()
        self._inboxes.append(inbox)
        if events is not None:
            inbox.register(self.client, events)
        return inbox

    def client_kwargs(self) -> dict[str, Any]:
        """``api_key`` and ``base_url`` for a client of yours: ``TokPortal(**kwargs)``."""
        return self._sandbox.client_kwargs()

    def async_client(self, **options: Any) -> AsyncTokPortal:
        """A new async client pointed at the sandbox; use it with ``async with``."""
        from ._client import AsyncTokPortal

        return AsyncTokPortal(self.api_key, base_url=self.base_url, **options)

    def _close(self) -> None:
        for inbox in self._inboxes:
            inbox.close()
        if "client" in self.__dict__:
            self.client.close()


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker, so ``--strict-markers`` accepts it."""
    config.addinivalue_line(
        "markers",
        f"{MARKER}(**options): SandboxOptions fields for the tokportal_sandbox fixture's "
        "sandbox (accounts, seed, profile, credits, latency, fault_rate, rate_limit...)",
    )


@pytest.fixture
def tokportal_sandbox(request: pytest.FixtureRequest) -> Iterator[SandboxFixture]:
    """A TokPortal sandbox on 127.0.0.1 for this test, with a key and ready clients."""
    marker = request.node.get_closest_marker(MARKER)
    options: dict[str, Any] = dict(marker.kwargs) if marker else {}
    from .sandbox import serve_in_thread

    with serve_in_thread(**options) as sandbox:
        fixture = SandboxFixture(sandbox)
        try:
            yield fixture
        finally:
            fixture._close()
