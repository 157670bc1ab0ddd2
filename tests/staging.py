"""Picking sandbox accounts fit for a scene."""

from __future__ import annotations

from tokportal_async.sandbox import Sandbox


def managed_account(sandbox: Sandbox) -> str:
    """An account with a community manager (edit requests need one) and coverage."""
    return next(str(a["id"]) for a in sandbox.state.accounts if a["current_cm_id"])
