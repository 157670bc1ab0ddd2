"""Deterministic fake data for the sandbox: the same seed always gives the same accounts.

Records are kept as the JSON the API would send (timestamps already formatted), so
serving a page is a slice, not a conversion.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

__all__ = ["generate_accounts", "generate_ban", "generate_bundles", "sandbox_key", "timestamp"]

_PLATFORMS = ("tiktok", "tiktok", "tiktok", "instagram", "instagram", "youtube")
#: Account filter codes (note UK, not ISO GB) and how the same country reads on a bundle.
_COUNTRIES = {"US": "USA", "FR": "FRA", "UK": "GBR", "DE": "DEU", "BR": "BRA", "ES": "ESP"}
_WORDS = (
    "cool",
    "trend",
    "daily",
    "urban",
    "sunny",
    "pixel",
    "vibe",
    "chef",
    "travel",
    "fit",
    "glow",
    "retro",
    "nova",
    "wild",
    "zen",
    "lofi",
    "style",
    "snack",
    "craft",
    "beat",
)
_ROLES = ("creator", "watcher", "maker", "lover", "hunter", "studio", "club", "life")
_BIOS = (
    "Lifestyle & trends | DM for collabs",
    "Following the latest trends",
    "Recipes in 60 seconds",
    "Daily outfit inspiration",
    "",
)
#: Bundle statuses the original Accounts page knows, and those the live API adds.
ORIGINAL_PAGE_BUNDLE_STATUSES = (
    "pending_setup",
    "published",
    "accepted",
    "completed",
    "in_review",
    "finalized",
    "published_priority",
)
LIVE_BUNDLE_STATUSES = (*ORIGINAL_PAGE_BUNDLE_STATUSES, "draft", "cancelled")
BAN_STATUSES = ("appeal_pending", "appeal_accepted", "appeal_refused", "no_appeal_banned")
BAN_RESOLUTIONS = ("refund", "remake", "no_remake", "pending")
_EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def timestamp(moment: datetime) -> str:
    """``moment`` as TokPortal writes times: ISO 8601, UTC, ``Z``, whole seconds."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def sandbox_key(seed: int, *, live: bool = True) -> str:
    """The sandbox user's key, derived from the seed.

    Shaped as TokPortal issues keys now (``sk_`` and 64 hex digits), or as the original
    Accounts page shows them (``tok_live_`` and 32).
    """
    rng = random.Random(f"key-{seed}")
    if live:
        return "sk_" + f"{rng.getrandbits(256):064x}"
    return "tok_live_" + uuid.UUID(int=rng.getrandbits(128)).hex


def _profile_url(platform: str, username: str) -> str:
    host = {"tiktok": "www.tiktok.com/@", "instagram": "www.instagram.com/"}.get(
        platform, f"www.{platform}.com/@"
    )
    return f"https://{host}{username}"


def _account(rng: random.Random, index: int) -> dict[str, Any]:
    platform = rng.choice(_PLATFORMS)
    country = rng.choice(tuple(_COUNTRIES))
    first, role = rng.choice(_WORDS), rng.choice(_ROLES)
    username = f"{first}{role}{index:03d}"
    created = _EPOCH + timedelta(minutes=rng.randrange(0, 60 * 24 * 60))
    updated = created + timedelta(minutes=rng.randrange(0, 60 * 24 * 20))
    email = f"{username}@tokmail.io"
    has_picture = rng.random() < 0.7
    has_link = rng.random() < 0.5
    return {
        "id": _uuid(rng),
        "platform": platform,
        "username": username,
        "visible_name": f"{first.title()} {role.title()}",
        "biography": rng.choice(_BIOS),
        "profile_picture_url": (
            f"https://pub-sandbox.r2.dev/profile-pictures/pfp-{index:04d}.jpg"
            if has_picture
            else None
        ),
        "country": country,
        "link_in_bio": f"https://linktr.ee/{username}" if has_link else None,
        "profile_url": _profile_url(platform, username),
        "tokmail_email": email,
        "created_at": timestamp(created),
        "updated_at": timestamp(updated),
    }


def _credentials(rng: random.Random, email: str) -> dict[str, Any]:
    alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789#$!_"
    return {
        "tokmail_email": email,
        "password": "".join(rng.choice(alphabet) for _ in range(15)),
        "social_credentials": {
            "email": email,
            "password": "".join(rng.choice(alphabet) for _ in range(13)),
        },
    }


def generate_accounts(seed: int, count: int, *, first_index: int = 0) -> list[dict[str, Any]]:
    """``count`` delivered accounts, as detail records (list fields plus detail fields).

    ``banned`` is served by the live profile only.
    """
    rng = random.Random(f"accounts-{seed}-{first_index}")
    accounts = []
    for index in range(first_index, first_index + count):
        account = _account(rng, index)
        account["credentials"] = _credentials(rng, account["tokmail_email"])
        account["last_verification_code"] = None
        account["current_cm_id"] = f"cm_{rng.getrandbits(24):06x}" if rng.random() < 0.8 else None
        account["banned"] = rng.random() < 0.1
        accounts.append(account)
    return accounts


def _slots(rng: random.Random, quantity: int, status: str) -> dict[str, int]:
    if status == "pending_setup":
        return {"total": quantity, "pending": quantity, "configured": 0, "published": 0,
                "accepted": 0, "finalized": 0}  # fmt: skip
    remaining = quantity
    counts = {}
    for name in ("finalized", "accepted", "published", "configured"):
        counts[name] = rng.randint(0, remaining)
        remaining -= counts[name]
    return {"total": quantity, "pending": remaining, **counts}


def generate_bundles(
    seed: int, account: dict[str, Any], *, live: bool = True
) -> list[dict[str, Any]]:
    """The bundles tied to ``account``: the one that created it, and some videos_only ones.

    Live bundles have the live API's drift: ``draft`` and ``cancelled`` statuses, some
    null titles, and no ``wants_deep_warming`` or ``wants_moderation`` (discontinued).
    """
    rng = random.Random(f"bundles-{seed}-{account['id']}")
    statuses = LIVE_BUNDLE_STATUSES if live else ORIGINAL_PAGE_BUNDLE_STATUSES
    created = datetime.fromisoformat(account["created_at"]) - timedelta(days=3)
    bundles = []
    for number in range(rng.randint(1, 6)):
        bundle_type = "account_and_videos" if number == 0 else "videos_only"
        status = rng.choice(statuses)
        quantity = rng.choice((0, 3, 5, 10, 20)) if number == 0 else rng.choice((3, 5, 10))
        edits = rng.randint(0, 3)
        start = created + timedelta(days=number * 7)
        bundle = {
            "id": _uuid(rng),
            "title": f"{_COUNTRIES[account['country']]} {account['platform'].title()} "
            f"Campaign {number + 1}",
            "bundle_type": bundle_type,
            "platform": account["platform"],
            "country": _COUNTRIES[account["country"]],
            "status": status,
            "videos_quantity": quantity,
            "edits_quantity": edits,
            "used_edits": rng.randint(0, edits),
            "credit_cost": 20 + quantity * 3,
            "external_ref": f"campaign-{number + 1}" if rng.random() < 0.5 else None,
            "existing_account_id": None if number == 0 else account["id"],
            "auto_finalize_videos": rng.random() < 0.5,
            "wants_niche_warming": rng.random() < 0.5,
            "wants_deep_warming": rng.random() < 0.3,
            "wants_moderation": rng.random() < 0.2,
            "created_at": timestamp(start),
            "updated_at": timestamp(start + timedelta(days=rng.randint(0, 20))),
            "videos": _slots(rng, quantity, status),
        }
        if live:
            del bundle["wants_deep_warming"], bundle["wants_moderation"]
            if rng.random() < 0.2:
                bundle["title"] = None
        bundles.append(bundle)
    return bundles


def generate_ban(
    seed: int, account: dict[str, Any], bundles: list[dict[str, Any]]
) -> dict[str, Any]:
    """The ban record of a banned ``account``, as ``GET /account-bans`` serves it."""
    rng = random.Random(f"ban-{seed}-{account['id']}")
    status = rng.choice(BAN_STATUSES)
    reported = datetime.fromisoformat(account["updated_at"]) + timedelta(
        hours=rng.randrange(1, 24 * 30)
    )
    decided = None if status == "appeal_pending" else reported + timedelta(days=rng.randint(1, 7))
    kind = "pending" if decided is None else rng.choice(BAN_RESOLUTIONS[:3])
    return {
        "id": _uuid(rng),
        "account_id": account["id"],
        "username": account["username"],
        "platform": account["platform"],
        "bundle_id": bundles[0]["id"] if bundles else None,
        "order_id": f"ord_{rng.getrandbits(40):010x}",
        "status": status,
        "reported_at": timestamp(reported),
        "decided_at": timestamp(decided) if decided else None,
        "updated_at": timestamp(decided or reported),
        "resolution": {
            "resolution": kind,
            "reason_code": None if decided is None else rng.choice(("TOS_VIOLATION", "SPAM")),
            "refund_credits": 150 if kind == "refund" else None,
            "resolved_at": timestamp(decided) if decided else None,
        },
    }
