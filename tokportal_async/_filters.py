"""The filters of each paged list, declared once: typed for callers, checked from the types.

Each ``TypedDict`` is the one declaration of a list's filters. The resource's ``list``,
``pages`` and ``iter`` take them as ``**filters: Unpack[...]``, so a type checker and an
editor see every name and type, and :class:`~tokportal_async._paged.PagedEndpoint` derives
the checks and the query string from the same annotations.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TypedDict

from ._models import BanResolutionKind, BanStatus, BundleStatus, Platform
from ._public import show_as_public

__all__ = [
    "AccountFilters",
    "BanFilters",
    "BundleFilters",
    "CreditHistoryFilters",
    "VideoAnalyticsFilters",
    "WebhookDeliveryFilters",
    "WebhookEndpointFilters",
]


class AccountFilters(TypedDict, total=False):
    """Filters of ``tp.accounts.list``, ``pages``, ``iter`` and ``iter_details``.

    ``platform``: only this platform (``"tiktok"``, ``"instagram"``, or a newer one).
    ``country``: only this country code (``"US"``, ``"FR"``, ``"UK"``: not validated).
    ``banned``: only banned (``True``) or only active (``False``) accounts.
    """

    platform: Platform | str | None
    country: str | None
    banned: bool | None


class BundleFilters(TypedDict, total=False):
    """Filters of ``tp.accounts.bundles``, ``bundle_pages`` and ``iter_bundles``.

    ``status``: only bundles in this status (``"accepted"``, ``"pending_setup"`` ...).
    """

    status: BundleStatus | str | None


class BanFilters(TypedDict, total=False):
    """Filters of ``tp.account_bans.list``, ``pages`` and ``iter``.

    ``status``: only bans in this status (``"appeal_pending"``, ``"appeal_accepted"``,
    ``"appeal_refused"``, ``"no_appeal_banned"``). ``resolution``: only bans settled this
    way (``"refund"``, ``"remake"``, ``"no_remake"``, ``"pending"``). ``account_id``: only
    the bans of this account. ``since``: only bans updated at or after this
    timezone-aware time (pass the highest ``updated_at`` seen). ``include_screenshots``:
    add ``screenshot_url``, a signed evidence URL valid 7 days.
    """

    status: BanStatus | str | None
    resolution: BanResolutionKind | str | None
    account_id: str | None
    since: datetime | None
    include_screenshots: bool | None


class VideoAnalyticsFilters(TypedDict, total=False):
    """Filters of ``tp.accounts.video_analytics`` and its iterators.

    ``sort_by``: the field to sort by (``"views"``, ``"likes"``, ``"published_at"`` ...;
    not validated). ``sort_order``: ``"asc"`` or ``"desc"``.
    """

    sort_by: str | None
    sort_order: str | None


class CreditHistoryFilters(TypedDict, total=False):
    """Filters of ``tp.credits.history`` and its iterators.

    ``date_from`` and ``date_to``: only movements from or until this day (a ``date``) or
    instant (a timezone-aware ``datetime``).
    """

    date_from: date | datetime | None
    date_to: date | datetime | None


class WebhookEndpointFilters(TypedDict, total=False):
    """Filters of ``tp.webhooks.list`` and its iterators.

    ``enabled``: only enabled (``True``) or disabled (``False``) endpoints. ``event``:
    only endpoints subscribed to this event type.
    """

    enabled: bool | None
    event: str | None


class WebhookDeliveryFilters(TypedDict, total=False):
    """Filters of ``tp.webhooks.deliveries`` and its iterators.

    ``event_type``: only deliveries of this event type. ``success``: only successful
    (``True``) or failed (``False``) attempts.
    """

    event_type: str | None
    success: bool | None


show_as_public(globals())
