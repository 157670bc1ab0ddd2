"""``with About(account_id):``: a TokPortal error raised inside names that account."""

from __future__ import annotations

from ._errors import TokPortalError

__all__ = ["About"]


class About:
    """Names the account of a failed call on its error (``error.account_id``).

    Bulk helpers hand errors on from many accounts at once; each says whose it is.
    """

    __slots__ = ("account_id",)

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: object, error: BaseException | None, traceback: object) -> None:
        if isinstance(error, TokPortalError):
            error.account_id = self.account_id
