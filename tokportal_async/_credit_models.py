"""The models of money: what a paid write charged, and the credit balance and history."""

from collections.abc import Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

import attrs

from ._public import show_as_public

__all__ = ["Charge", "CreditBalance", "CreditExpiration", "CreditTransaction", "PaidResult"]

T = TypeVar("T")


@attrs.frozen(kw_only=True)
class Charge:
    """What a paid write cost, from the fields TokPortal sends beside ``data``.

    After a real call, ``credits_charged`` and ``credits_remaining``. After a dry run
    (``dry_run`` true), ``credits_charged`` is 0 and ``credits_would_charge`` and
    ``cost_breakdown`` say what the call would cost. ``replayed`` is true when TokPortal
    answered from its idempotency store (``Idempotent-Replayed: true``): the first
    attempt had already been charged, and this answer repeats it, charging nothing more.
    """

    credits_charged: int | None = None
    credits_remaining: int | None = None
    credits_would_charge: int | None = None
    cost_breakdown: Mapping[str, Any] | None = None
    dry_run: bool = False
    dry_run_notice: str | None = None
    replayed: bool = False
    #: The ``Idempotency-Key`` the call was sent with (record it to retry it yourself).
    idempotency_key: str | None = None


@attrs.frozen(kw_only=True)
class PaidResult(Generic[T]):
    """The answer to a paid write: what it did (``data``) and what it cost (``charge``).

    In a dry run nothing happened: ``data`` is whatever preview the server sent (a
    mapping, or ``None``), not a record.
    """

    data: T
    charge: Charge


@attrs.frozen(kw_only=True)
class CreditExpiration:
    """Credits that expire at ``expires_at``."""

    amount: int | None = None
    expires_at: datetime | None = None
    source: str | None = None


@attrs.frozen(kw_only=True)
class CreditBalance:
    """Your credit balance: ``GET /credits/balance``.

    TokPortal documents two shapes; both are read. The older one sends only
    ``credits``, read here as ``total_credits`` (the other fields are then ``None``).
    """

    total_credits: int | None = None
    expiring_within_7_days: int | None = None
    upcoming_expirations: list[CreditExpiration] | None = None
    last_updated: datetime | None = None


@attrs.frozen(kw_only=True)
class CreditTransaction:
    """One movement of credits: ``GET /credits/history``, paged, newest first."""

    id: str
    type: str | None = None
    amount: int | None = None
    description: str | None = None
    #: How the amount was made up, as the server sends it (an object or a list).
    breakdown: Any = None
    balance_after: int | None = None
    created_at: datetime | None = None


show_as_public(globals())
