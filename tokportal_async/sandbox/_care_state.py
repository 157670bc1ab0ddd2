"""What the sandbox keeps of the operations with effects, and of credits.

Coverage, edits, warming, analytics, the commenting profile, the credit ledger, and the
answers stored under idempotency keys.

Prices are TokPortal's: an edit request 8 credits, a rewarm 5 a term, a coverage
reactivation its quote. Tests stage scenes through the methods here
(``sandbox.state.care.set_coverage(account_id, "lapsed")``), and read what happened.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import attrs

from ._data import timestamp
from ._faults import Fault

__all__ = [
    "COVERAGE_PRICE",
    "EDIT_REQUEST_PRICE",
    "REWARM_PRICE_PER_TERM",
    "CareState",
    "StoredAnswer",
]

EDIT_REQUEST_PRICE = 8
REWARM_PRICE_PER_TERM = 5
#: What reactivating a lapsed coverage costs in the sandbox (TokPortal quotes per account).
COVERAGE_PRICE = 40
#: Terms a warming session verifies each time its sessions are read.
TERMS_VERIFIED_PER_READ = 3
#: Videos each account has analytics for.
VIDEOS_PER_ACCOUNT = 7


@attrs.frozen(kw_only=True)
class StoredAnswer:
    """A keyed write's answer, replayed for a later request with the same key."""

    fingerprint: tuple[str, str, bytes]
    status: int
    body: bytes


class CareState:
    """The sandbox's records of coverage, edit requests, warming, analytics and credits."""

    def __init__(
        self,
        seed: int,
        now: Callable[[], datetime],
        emit: Callable[[str, dict[str, Any]], object] = lambda kind, data: None,
    ) -> None:
        self._rng = random.Random(f"care-{seed}")
        self._now = now
        #: Tells the webhooks what changed (an event type and its data).
        self.emit = emit
        self._ids = itertools.count(1)
        #: Coverage by account id: ``status``, period bounds, ``lock_version``, ``price``.
        self.coverage: dict[str, dict[str, Any]] = {}
        #: The active edit request of each account that has one.
        self.edit_requests: dict[str, dict[str, Any]] = {}
        #: Warming sessions by account id, oldest first.
        self.warming: dict[str, list[dict[str, Any]]] = {}
        #: Commenting profiles by account id, as last updated.
        self.commenting_profiles: dict[str, dict[str, Any]] = {}
        #: Accounts whose analytics refresh is under way (``can-refresh`` says no).
        self.refreshing: set[str] = set()
        #: Every movement of credits, newest last.
        self.transactions: list[dict[str, Any]] = []
        #: Answers of keyed writes, by (API key, Idempotency-Key).
        self.stored_answers: dict[tuple[str, str], StoredAnswer] = {}
        #: Faults to answer the next keyed writes with *after* they took effect (a 5xx, a
        #: dropped connection, a stall), one per write, in order.
        self.after_effect_faults: list[Fault] = []
        #: Which shape ``GET /credits/balance`` answers: ``"new"`` or the older ``"old"``.
        self.balance_shape = "new"

    def new_id(self, prefix: str) -> str:
        """A fresh id, readable in test output (``er_0001``)."""
        return f"{prefix}_{next(self._ids):04d}"

    # -- coverage ---------------------------------------------------------------------------

    def coverage_of(self, account_id: str) -> dict[str, Any]:
        """The account's coverage, made on first use (active, renewing in 30 days)."""
        if account_id not in self.coverage:
            start = self._now().replace(microsecond=0) - timedelta(days=self._rng.randrange(30))
            self.coverage[account_id] = {
                "status": "active",
                "current_period_start": timestamp(start),
                "current_period_end": timestamp(start + timedelta(days=30)),
                "lock_version": 1,
                "price": COVERAGE_PRICE,
            }
        return self.coverage[account_id]

    def set_coverage(self, account_id: str, status: str, *, price: int | None = None) -> None:
        """Stage the account's coverage as ``status`` (``active``, ``lapsed`` ...)."""
        coverage = self.coverage_of(account_id)
        coverage["status"] = status
        coverage["lock_version"] += 1
        if price is not None:
            coverage["price"] = price
        self.coverage_changed(account_id)

    def coverage_changed(self, account_id: str) -> None:
        """Tell the webhooks the coverage's new status (``subscription.<status>``)."""
        coverage = self.coverage_of(account_id)
        kind = {"active": "reactivated"}.get(coverage["status"], coverage["status"])
        self.emit(
            f"subscription.{kind}",
            {
                "account_id": account_id,
                "saved_account_id": account_id,
                "status": coverage["status"],
                "current_period_end": coverage["current_period_end"],
            },
        )

    def change_coverage_quote(self, account_id: str, *, price: int | None = None) -> None:
        """Make the account's current quote stale: a new version, at ``price`` if given."""
        coverage = self.coverage_of(account_id)
        coverage["lock_version"] += 1
        if price is not None:
            coverage["price"] = price

    def quote(self, account_id: str) -> dict[str, Any] | None:
        """The reactivation quote of a lapsed or cancelled coverage, else ``None``."""
        coverage = self.coverage_of(account_id)
        if coverage["status"] not in ("lapsed", "cancelled"):
            return None
        period_end = self._now().replace(microsecond=0) + timedelta(days=30)
        return {
            "credits": coverage["price"],
            "current_period_end": timestamp(period_end),
            "lock_version": coverage["lock_version"],
        }

    def coverage_answer(self, account_id: str) -> dict[str, Any]:
        """The coverage as ``GET .../managed-subscription`` serves it."""
        coverage = self.coverage_of(account_id)
        return {
            "account_id": account_id,
            "status": coverage["status"],
            "current_period_start": coverage["current_period_start"],
            "current_period_end": coverage["current_period_end"],
            "reactivation_quote": self.quote(account_id),
        }

    # -- warming ----------------------------------------------------------------------------

    def start_warming(self, account_id: str, terms: list[str]) -> dict[str, Any]:
        """A new warming session on ``terms``, in progress."""
        session = {
            "id": self.new_id("ws"),
            "account_id": account_id,
            "status": "in_progress",
            "terms_total": len(terms),
            "terms_configured": len(terms),
            "terms_verified": 0,
            "started_at": timestamp(self._now()),
            "completed_at": None,
            "terms": [{"term": term, "verified": False, "proof_url": None} for term in terms],
        }
        self.warming.setdefault(account_id, []).append(session)
        self.emit("warming.session_started", self._warming_data(session))
        return session

    @staticmethod
    def _warming_data(session: dict[str, Any], term: str | None = None) -> dict[str, Any]:
        return {
            "account_id": session["account_id"],
            "session_id": session["id"],
            "term": term,
            "terms_verified": session["terms_verified"],
            "terms_total": session["terms_total"],
            "status": session["status"],
        }

    def progress_warming(self, account_id: str, terms: int = TERMS_VERIFIED_PER_READ) -> None:
        """Verify up to ``terms`` more terms of each session in progress; complete it at the end."""
        for session in self.warming.get(account_id, []):
            if session["status"] != "in_progress":
                continue
            for report in session["terms"]:
                if terms == 0:
                    break
                if not report["verified"]:
                    report["verified"] = True
                    report["proof_url"] = (
                        f"https://sandbox.tokportal.invalid/proof/{session['id']}/{report['term']}"
                    )
                    session["terms_verified"] += 1
                    terms -= 1
                    self.emit("warming.term_verified", self._warming_data(session, report["term"]))
            if session["terms_verified"] == session["terms_total"]:
                session["status"] = "completed"
                session["completed_at"] = timestamp(self._now())
                self.emit("warming.session_completed", self._warming_data(session))

    # -- analytics --------------------------------------------------------------------------

    def analytics(self, account_id: str) -> dict[str, Any]:
        """The account's analytics, the same on every read (derived from its id)."""
        rng = random.Random(f"analytics-{account_id}")
        return {
            "account_id": account_id,
            "followers": rng.randrange(100, 50_000),
            "following": rng.randrange(0, 500),
            "likes": rng.randrange(1_000, 900_000),
            "videos": VIDEOS_PER_ACCOUNT,
            "views": rng.randrange(10_000, 5_000_000),
            "engagement_rate": round(rng.uniform(0.01, 0.2), 4),
            "updated_at": timestamp(self._now()),
        }

    def videos(self, account_id: str) -> list[dict[str, Any]]:
        """The account's videos with their analytics, in publication order."""
        rng = random.Random(f"videos-{account_id}")
        first = datetime(2026, 6, 1, tzinfo=UTC)
        return [
            {
                "id": f"vid_{account_id[:8]}_{index}",
                "video_url": f"https://www.tiktok.com/@sandbox/video/{rng.getrandbits(60)}",
                "description": f"Sandbox video {index}",
                "views": rng.randrange(100, 1_000_000),
                "likes": rng.randrange(0, 100_000),
                "comments": rng.randrange(0, 5_000),
                "shares": rng.randrange(0, 2_000),
                "published_at": timestamp(first + timedelta(days=3 * index)),
            }
            for index in range(VIDEOS_PER_ACCOUNT)
        ]

    # -- credits ----------------------------------------------------------------------------

    def record(self, amount: int, balance_after: int, kind: str, description: str,
               breakdown: Any = None) -> dict[str, Any]:  # fmt: skip
        """Add a movement of ``amount`` credits (negative: a debit) to the ledger."""
        transaction = {
            "id": self.new_id("txn"),
            "type": kind,
            "amount": amount,
            "description": description,
            "breakdown": breakdown,
            "balance_after": balance_after,
            "created_at": timestamp(self._now()),
        }
        self.transactions.append(transaction)
        return transaction
