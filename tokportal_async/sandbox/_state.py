"""What the sandbox knows: accounts, bundles, bans, keys, codes, credits and policy terms.

Tests reach it as ``sandbox.state`` to arrange a scene (trigger a code, revoke a key,
change the terms, ban an account, add or remove accounts mid-walk) and to read what was
sent.

Two profiles: ``live`` (the default) behaves as TokPortal's API does today: details
without credentials, passwords and codes behind the policy flow with a per-account
acknowledgment, a credit balance, bans, ``sk_`` keys and the live headers. ``seed``
reproduces TokPortal's original Accounts page exactly: credentials in details, codes
without a policy, ``tok_live_`` keys, no bans.
"""

from __future__ import annotations

import random
import time
from collections import deque
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

import attrs

from ._care_state import CareState
from ._data import generate_accounts, generate_ban, generate_bundles, sandbox_key
from ._faults import Fault, FaultPlan
from ._limits import TokenBuckets
from ._options import PROFILES, Profile, SandboxOptions
from ._webhook_state import WebhookState

__all__ = ["PROFILES", "Profile", "RecordedRequest", "SandboxState"]

# PROFILES and Profile are defined with the options, and re-exported here.

#: How long a triggered code takes to "arrive" by default: the original page says a few seconds.
DEFAULT_CODE_DELAY = 3.0
#: Accounts owned by another TokPortal user, so that 403s have something to point at.
FOREIGN_ACCOUNTS = 5
#: What acknowledging the policy costs for accounts delivered on or after the cutoff
#: (TokPortal: 150 credits for accounts delivered after a cutoff; nothing before).
REVEAL_CREDIT_COST = 150
REVEAL_COST_CUTOFF = "2026-02-01T00:00:00Z"


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
        options: SandboxOptions | None = None,
        /,
        *,
        clock: Callable[[], float] = time.monotonic,
        **fields: Any,
    ) -> None:
        """Take a :class:`SandboxOptions`, its fields as keywords, or both (keywords win)."""
        options = SandboxOptions.of(options, **fields)
        #: The options the sandbox was made with (the attributes below may change since).
        self.options = options
        seed, profile = options.seed, options.profile
        self.seed = seed
        #: ``live`` or ``seed``: which TokPortal the sandbox plays.
        self.profile: Profile = profile
        #: Seconds added before every API answer, as a distant server would.
        self.latency = options.latency
        #: Faults to inject (``faults.rate`` may be changed between requests).
        self.faults = FaultPlan(
            rate=options.fault_rate,
            kinds=options.fault_kinds or tuple(Fault),
            seed=seed if options.fault_seed is None else options.fault_seed,
            stall_seconds=options.stall_seconds,
        )
        #: The documented token-bucket limiter, or None for no limit (and no headers).
        self.rate_limiter = (
            TokenBuckets(limit=options.rate_limit, window=options.rate_window)
            if options.rate_limit
            else None
        )
        api_key, accounts = options.api_key, options.accounts
        require_policy_acceptance = options.require_policy_acceptance
        omit_credentials = options.omit_credentials
        policy_version, credits = options.policy_version, options.credits
        live = profile == "live"
        self.api_key = api_key or sandbox_key(seed, live=live)
        #: The key of another TokPortal user, who owns :attr:`foreign_account_ids`.
        self.other_api_key = sandbox_key(seed + 1_000_003, live=live)
        self.revoked_keys: set[str] = set()
        #: Whether the secret-bearing calls need the policy acceptance (live: yes).
        self.require_policy_acceptance = (
            live if require_policy_acceptance is None else require_policy_acceptance
        )
        #: The version of the terms to accept; change it mid-run to make quotes change.
        self.policy_version = policy_version
        #: The sandbox user's credit balance, and what acknowledgments have debited.
        self.credits = credits
        self.credits_charged = 0
        #: Accounts whose owner accepted the policy: both sensitive calls answer them freely.
        self.acknowledged: set[str] = set()
        #: Whether account details leave credentials out (live: they always do).
        self.omit_credentials = live if omit_credentials is None else omit_credentials
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
        self._bans: list[dict[str, Any]] = []
        #: Registered webhook endpoints, emitted events and their delivery attempts.
        self.webhooks = WebhookState(
            retry_delay=options.webhook_retry_delay,
            max_attempts=options.webhook_max_attempts,
            timeout=options.webhook_timeout,
        )
        #: Coverage, edit requests, warming, analytics, the ledger and stored answers.
        self.care = CareState(seed, now=lambda: datetime.now(UTC), emit=self.webhooks.emit)
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

    @property
    def live(self) -> bool:
        """Whether the sandbox plays the live API (``profile == "live"``)."""
        return self.profile == "live"

    def add_accounts(self, count: int) -> list[dict[str, Any]]:
        """Deliver ``count`` more accounts to the sandbox user, at the end of the list."""
        added = self._generate(count)
        for account in added:
            self._owned.append(account)
            self._by_id[account["id"]] = account
            self._owner[account["id"]] = self.api_key
            if account["banned"]:
                self._bans.append(generate_ban(self.seed, account, self.bundles(account["id"])))
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
            self._bundles[account_id] = generate_bundles(
                self.seed, self._by_id[account_id], live=self.live
            )
        return self._bundles[account_id]

    # -- bans -----------------------------------------------------------------------------

    @property
    def bans(self) -> list[dict[str, Any]]:
        """Every ban, as ``GET /account-bans`` serves it (before filters and pages)."""
        return self._bans

    def ban_account(self, account_id: str, **fields: Any) -> dict[str, Any]:
        """Ban an account now: flag it ``banned`` and add its ban record.

        ``fields`` override the generated record (``status="appeal_pending"``,
        ``updated_at="2026-12-01T00:00:00Z"``, ``resolution=None`` ...).
        """
        account = self._by_id[account_id]
        account["banned"] = True
        ban = generate_ban(self.seed + len(self._bans), account, self.bundles(account_id))
        ban.update(fields)
        self._bans.append(ban)
        self.webhooks.emit(
            "account.banned",
            {
                "account_id": account_id,
                "saved_account_id": account_id,
                "ban_id": ban["id"],
                "bundle_id": ban.get("bundle_id"),
                "username": account["username"],
                "platform": account["platform"],
                "banned_at": ban.get("decided_at") or ban.get("updated_at"),
                "status": ban.get("status"),
            },
        )
        return ban

    # -- the policy flow and credits ------------------------------------------------------

    def acknowledge(self, *account_ids: str) -> None:
        """Stage accounts whose owner accepted the policy earlier: no 428, no charge."""
        for account_id in account_ids:
            if account_id not in self._by_id:
                raise KeyError(account_id)
            self.acknowledged.add(account_id)

    def debit(self, amount: int, kind: str, description: str, breakdown: Any = None) -> None:
        """Take ``amount`` credits (the caller checked there are enough), in the ledger."""
        self.credits -= amount
        self.credits_charged += amount
        if amount:
            self.care.record(-amount, self.credits, kind, description, breakdown)

    def restore_credits(self, amount: int, description: str = "Credits restored") -> None:
        """Give ``amount`` credits back (a refund), in the ledger."""
        self.credits += amount
        self.care.record(amount, self.credits, "restore", description)
        self.webhooks.emit(
            "credits.restored",
            {"amount": amount, "total_credits": self.credits, "reason": description},
        )

    def policy_terms(self, account_id: str) -> dict[str, Any]:
        """The terms a 428 quotes for an account: version, expected cost, consequences."""
        account = self._by_id[account_id]
        recent = account["created_at"] >= REVEAL_COST_CUTOFF
        return {
            "policy_version": self.policy_version,
            "expected_credit_cost": REVEAL_CREDIT_COST if recent else 0,
            "disclosure": "Revealing credentials or codes hands the account over to you.",
            "consequences": [
                "TokPortal support for this account ends permanently.",
                "TokPortal stops managing the account (management_ended).",
            ],
        }

    # -- verification codes ---------------------------------------------------------------

    def trigger_verification_code(
        self, account_id: str, *, delay: float = DEFAULT_CODE_DELAY, code: str | None = None
    ) -> str:
        """Send a code to the account's inbox; it becomes readable ``delay`` seconds later."""
        if account_id not in self._by_id:
            raise KeyError(account_id)
        code = code or f"{self._rng.randrange(1_000_000):06d}"
        self._codes[account_id] = _CodeState(code=code, arrives_at=self.clock() + delay)
        # The event says a code came, never which: webhooks carry no secrets.
        self.webhooks.emit("account.verification_code.received", {"account_id": account_id})
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
