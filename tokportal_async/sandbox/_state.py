"""What the sandbox knows: accounts, bundles, keys, verification codes and policy terms.

Tests reach it as ``sandbox.state`` to arrange a scene (trigger a code, revoke a key,
change the terms, add or remove accounts mid-walk) and to read what was sent.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

import attrs

from ._data import generate_accounts, generate_bundles, sandbox_key
from ._faults import Fault, FaultPlan
from ._limits import TokenBuckets

__all__ = ["RecordedRequest", "SandboxState"]

#: How long a triggered code takes to "arrive" by default: the seed says a few seconds.
DEFAULT_CODE_DELAY = 3.0
#: Accounts owned by another TokPortal user, so that 403s have something to point at.
FOREIGN_ACCOUNTS = 5
#: The terms version the policy flow starts with, and what an accepted call costs.
DEFAULT_POLICY_VERSION = "2026-11-01"
DEFAULT_POLICY_CREDIT_COST = 1


@attrs.frozen(kw_only=True)
class RecordedRequest:
    """One request the sandbox received (the API key header is never recorded)."""

    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]  # case-insensitive, as HTTP headers are
    body: bytes


@attrs.define
class _CodeState:
    code: str
    arrives_at: float
    served: bool = False


class SandboxState:
    """The sandbox's data and knobs; mutate it between requests to stage a test."""

    def __init__(
        self,
        *,
        seed: int = 0,
        accounts: int = 250,
        api_key: str | None = None,
        require_policy_acceptance: bool = False,
        omit_credentials: bool = False,
        latency: float = 0.0,
        fault_rate: float = 0.0,
        fault_kinds: tuple[Fault | str, ...] | None = None,
        fault_seed: int | None = None,
        stall_seconds: float = 30.0,
        rate_limit: int | None = None,
        rate_window: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seed = seed
        #: Seconds added before every API answer, as a distant server would.
        self.latency = latency
        #: Faults to inject (``faults.rate`` may be changed between requests).
        self.faults = FaultPlan(
            rate=fault_rate,
            kinds=tuple(Fault(kind) for kind in fault_kinds) if fault_kinds else tuple(Fault),
            seed=seed if fault_seed is None else fault_seed,
            stall_seconds=stall_seconds,
        )
        #: The documented token-bucket limiter, or None for no limit (and no headers).
        self.rate_limiter = (
            TokenBuckets(limit=rate_limit, window=rate_window) if rate_limit else None
        )
        self.api_key = api_key or sandbox_key(seed)
        #: The key of another TokPortal user, who owns :attr:`foreign_account_ids`.
        self.other_api_key = sandbox_key(seed + 1_000_003)
        self.revoked_keys: set[str] = set()
        self.require_policy_acceptance = require_policy_acceptance
        self.policy_version = DEFAULT_POLICY_VERSION
        self.policy_credit_cost = DEFAULT_POLICY_CREDIT_COST
        self.credits_charged = 0
        self.omit_credentials = omit_credentials
        self.clock = clock
        self.requests: deque[RecordedRequest] = deque(maxlen=10_000)
        #: Called with each request as it arrives, before it is answered: tests use it to
        #: act at the moment a request is in flight, without waiting on a clock.
        self.request_hooks: list[Callable[[RecordedRequest], None]] = []
        #: Requests being answered right now, and the most there ever were at once.
        self.in_flight = 0
        self.max_in_flight = 0
        self._rng = random.Random(f"codes-{seed}")
        self._next_index = 0
        self._owned: list[dict[str, Any]] = []
        self._by_id: dict[str, dict[str, Any]] = {}
        self._owner: dict[str, str] = {}
        self._bundles: dict[str, list[dict[str, Any]]] = {}
        self._codes: dict[str, _CodeState] = {}
        self.add_accounts(accounts)
        foreign = self._generate(FOREIGN_ACCOUNTS)
        for account in foreign:
            self._by_id[account["id"]] = account
            self._owner[account["id"]] = self.other_api_key
        self.foreign_account_ids = [account["id"] for account in foreign]

    def _generate(self, count: int) -> list[dict[str, Any]]:
        accounts = generate_accounts(self.seed, count, first_index=self._next_index)
        self._next_index += count
        return accounts

    # -- accounts -------------------------------------------------------------------------

    @property
    def accounts(self) -> list[dict[str, Any]]:
        """The sandbox user's accounts, in list order (detail records)."""
        return self._owned

    def add_accounts(self, count: int) -> list[dict[str, Any]]:
        """Deliver ``count`` more accounts to the sandbox user, at the end of the list."""
        added = self._generate(count)
        for account in added:
            self._owned.append(account)
            self._by_id[account["id"]] = account
            self._owner[account["id"]] = self.api_key
        return added

    def remove_accounts(self, count: int) -> None:
        """Remove the first ``count`` accounts, shifting later ones to earlier pages."""
        for account in self._owned[:count]:
            del self._by_id[account["id"]]
            del self._owner[account["id"]]
        del self._owned[:count]

    def find(self, account_id: str) -> tuple[dict[str, Any] | None, str | None]:
        """The account with that id and the key of its owner, or ``(None, None)``."""
        return self._by_id.get(account_id), self._owner.get(account_id)

    def bundles(self, account_id: str) -> list[dict[str, Any]]:
        """The bundles tied to an account, made on first use and then kept."""
        if account_id not in self._bundles:
            self._bundles[account_id] = generate_bundles(self.seed, self._by_id[account_id])
        return self._bundles[account_id]

    # -- verification codes ---------------------------------------------------------------

    def trigger_verification_code(
        self, account_id: str, *, delay: float = DEFAULT_CODE_DELAY, code: str | None = None
    ) -> str:
        """Send a code to the account's inbox; it becomes readable ``delay`` seconds later."""
        if account_id not in self._by_id:
            raise KeyError(account_id)
        code = code or f"{self._rng.randrange(1_000_000):06d}"
        self._codes[account_id] = _CodeState(code=code, arrives_at=self.clock() + delay)
        return code

    def read_verification_code(self, account_id: str) -> tuple[str, str] | None:
        """``(code, source)`` once a triggered code has arrived, else ``None``.

        The first read after arrival comes from ``email``; later ones are ``cached``.
        """
        state = self._codes.get(account_id)
        if state is None or self.clock() < state.arrives_at:
            return None
        source = "cached" if state.served else "email"
        state.served = True
        self._by_id[account_id]["last_verification_code"] = state.code
        return state.code, source

    # -- the request log ------------------------------------------------------------------

    def record(self, request: RecordedRequest) -> None:
        """Log a request as it arrives, and tell the hooks."""
        self.requests.append(request)
        for hook in self.request_hooks:
            hook(request)

    def last_request(self, path_suffix: str = "") -> RecordedRequest:
        """The most recent request whose path ends with ``path_suffix``."""
        for request in reversed(self.requests):
            if request.path.endswith(path_suffix):
                return request
        raise LookupError(f"no request to a path ending with {path_suffix!r}")
