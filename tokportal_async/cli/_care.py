"""The commands with effects, and ``credits balance|history``.

Under ``accounts``: ``coverage``, ``reactivate-coverage``, ``cancel-coverage``,
``edit-request``, ``rewarm``, ``warming`` and ``analytics``.

A paid command (``reactivate-coverage``, ``edit-request --create``, ``rewarm``) takes
``--dry-run`` to print the price without paying, and prints the charge after paying. A
paid or destructive command asks for confirmation when stdin is a terminal, unless
``--yes``; a script (no terminal) is not asked, as it could not answer.
"""

from __future__ import annotations

import sys
from datetime import date
from typing import Any

import click

from .._care_models import VideoAnalytics, WarmingSession
from .._client import AsyncTokPortal
from .._credit_models import CreditTransaction, PaidResult
from ._app import Settings, _printer, accounts, cli, format_option
from ._output import to_record

__all__ = ["credits"]

WARMING_COLUMNS = ("id", "status", "terms_verified", "terms_total", "started_at", "completed_at")
VIDEO_COLUMNS = ("id", "views", "likes", "comments", "shares", "published_at")
HISTORY_COLUMNS = ("created_at", "type", "amount", "balance_after", "description")

dry_run_option = click.option(
    "--dry-run", is_flag=True, help="Print what it would cost; change and charge nothing."
)
yes_option = click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
key_option = click.option(
    "--idempotency-key",
    help="Send this Idempotency-Key (to retry a call whose outcome you do not know).",
)


def _confirm(question: str, *, yes: bool, dry_run: bool = False) -> None:
    """Ask on a terminal before a paid or destructive call; abort (exit 1) on no."""
    if yes or dry_run or not sys.stdin.isatty():
        return
    if not click.confirm(question, default=False, err=True):
        click.echo("tokportal-async: nothing was done", err=True)
        sys.exit(1)


def _record(model: Any) -> dict[str, Any]:
    """A model as a record, with what its ``raw`` holds beyond the typed fields."""
    record = to_record(model)
    raw = record.pop("raw", None)
    if isinstance(raw, dict):
        record.update({key: value for key, value in raw.items() if key not in record})
    return record


def _print_paid(result: PaidResult[Any], output_format: str | None) -> None:
    """The result of a paid call, then its charge on stderr in words."""
    printer = _printer(output_format, sys.stdout, None)
    data = result.data
    record = {
        "data": _record(data) if data is not None and not isinstance(data, dict) else data,
        "charge": to_record(result.charge),
    }
    printer.one(record)
    charge = result.charge
    if charge.dry_run:
        said = f"dry run: would charge {charge.credits_would_charge} credits; nothing was charged"
    else:
        said = f"charged {charge.credits_charged} credits, {charge.credits_remaining} remaining"
        if charge.replayed:
            said += " (a replay of an earlier identical call: charged once)"
    click.echo(f"tokportal-async: {said}", err=True)


# -- coverage -----------------------------------------------------------------------------


@accounts.command("coverage")
@click.argument("account_id")
@format_option
@click.pass_obj
def coverage(settings: Settings, account_id: str, output_format: str | None) -> None:
    """An account's TokPortal Coverage, and its reactivation quote when lapsed."""
    printer = _printer(output_format, sys.stdout, None)

    async def work(tp: AsyncTokPortal) -> None:
        printer.one(_record(await tp.accounts.coverage(account_id)))

    settings.execute(work)


@accounts.command("reactivate-coverage")
@click.argument("account_id")
@dry_run_option
@yes_option
@key_option
@format_option
@click.pass_obj
def reactivate_coverage(
    settings: Settings,
    account_id: str,
    dry_run: bool,
    yes: bool,
    idempotency_key: str | None,
    output_format: str | None,
) -> None:
    """Reactivate a lapsed coverage at its current quote. Paid."""

    async def work(tp: AsyncTokPortal) -> None:
        quote = (await tp.accounts.coverage(account_id)).reactivation_quote
        if quote is None:
            raise click.ClickException("this account's coverage has no reactivation quote")
        _confirm(f"Reactivate coverage for {quote.credits} credits?", yes=yes, dry_run=dry_run)
        result = await tp.accounts.reactivate_coverage(
            account_id, quote, dry_run=dry_run, idempotency_key=idempotency_key
        )
        _print_paid(result, output_format)

    settings.execute(work)


@accounts.command("cancel-coverage")
@click.argument("account_id")
@yes_option
@key_option
@format_option
@click.pass_obj
def cancel_coverage(
    settings: Settings,
    account_id: str,
    yes: bool,
    idempotency_key: str | None,
    output_format: str | None,
) -> None:
    """Cancel an account's coverage. Not refunded; rewarms and edits then stop."""
    _confirm(f"Cancel the coverage of {account_id}? It is not refunded.", yes=yes)
    printer = _printer(output_format, sys.stdout, None)

    async def work(tp: AsyncTokPortal) -> None:
        done = await tp.accounts.cancel_coverage(account_id, idempotency_key=idempotency_key)
        printer.one(_record(done))

    settings.execute(work)


# -- edit requests ------------------------------------------------------------------------


@accounts.command("edit-request")
@click.argument("account_id")
@click.option("--create", is_flag=True, help="Create one (paid: 8 credits), not just read it.")
@click.option("--username", help="The new username (with --create).")
@click.option("--visible-name", help="The new visible name (with --create).")
@click.option("--biography", help="The new biography.")
@click.option("--profile-picture-url", help="An https URL of the new profile picture.")
@click.option("--link-in-bio", help="The new link in bio.")
@dry_run_option
@yes_option
@key_option
@format_option
@click.pass_obj
def edit_request(
    settings: Settings,
    /,
    account_id: str,
    create: bool,
    dry_run: bool,
    yes: bool,
    idempotency_key: str | None,
    output_format: str | None,
    **profile: str | None,
) -> None:
    """The account's active edit request; with --create, a new one. Paid."""
    if not create:
        given = [f"--{name.replace('_', '-')}" for name, value in profile.items() if value]
        if given or dry_run or idempotency_key:
            raise click.UsageError(f"{', '.join(given) or 'that option'} needs --create")
        printer = _printer(output_format, sys.stdout, None)

        async def read(tp: AsyncTokPortal) -> None:
            found = await tp.accounts.edit_request(account_id)
            if found is None:
                click.echo("tokportal-async: no active edit request", err=True)
                return
            printer.one(_record(found))

        settings.execute(read)
        return
    if not profile["username"] or not profile["visible_name"]:
        raise click.UsageError("--create needs --username and --visible-name")
    _confirm("Create this edit request for 8 credits?", yes=yes, dry_run=dry_run)

    async def work(tp: AsyncTokPortal) -> None:
        result = await tp.accounts.create_edit_request(
            account_id,
            username=profile["username"] or "",
            visible_name=profile["visible_name"] or "",
            biography=profile["biography"],
            profile_picture_url=profile["profile_picture_url"],
            link_in_bio=profile["link_in_bio"],
            dry_run=dry_run,
            idempotency_key=idempotency_key,
        )
        _print_paid(result, output_format)

    settings.execute(work)


# -- warming ------------------------------------------------------------------------------


@accounts.command("rewarm")
@click.argument("account_id")
@click.argument("search_terms", nargs=-1, required=True)
@dry_run_option
@yes_option
@key_option
@format_option
@click.pass_obj
def rewarm(
    settings: Settings,
    account_id: str,
    search_terms: tuple[str, ...],
    dry_run: bool,
    yes: bool,
    idempotency_key: str | None,
    output_format: str | None,
) -> None:
    """Warm an account again on 3 to 30 search terms (by threes). Paid: 5 credits a term."""
    cost = 5 * len(search_terms)
    _confirm(f"Rewarm on {len(search_terms)} terms for {cost} credits?", yes=yes, dry_run=dry_run)

    async def work(tp: AsyncTokPortal) -> None:
        result = await tp.accounts.rewarm(
            account_id, list(search_terms), dry_run=dry_run, idempotency_key=idempotency_key
        )
        _print_paid(result, output_format)

    settings.execute(work)


@accounts.command("warming")
@click.argument("account_id")
@format_option
@click.pass_obj
def warming(settings: Settings, account_id: str, output_format: str | None) -> None:
    """An account's warming sessions and how far each has come."""
    printer = _printer(output_format, sys.stdout, WARMING_COLUMNS, WarmingSession)

    async def work(tp: AsyncTokPortal) -> None:
        sessions = await tp.accounts.warming_sessions(account_id)
        printer.many(_record(session) for session in sessions)

    settings.execute(work)


# -- analytics ----------------------------------------------------------------------------


@accounts.command("analytics")
@click.argument("account_id")
@click.option("--videos", is_flag=True, help="Each video's analytics, not the account's.")
@click.option("--sort-by", help="With --videos: views, likes, comments, shares, published_at.")
@click.option("--sort-order", type=click.Choice(["asc", "desc"]), help="With --videos.")
@click.option("--refresh", is_flag=True, help="Ask TokPortal to refresh them first.")
@format_option
@click.pass_obj
def analytics(
    settings: Settings,
    account_id: str,
    videos: bool,
    sort_by: str | None,
    sort_order: str | None,
    refresh: bool,
    output_format: str | None,
) -> None:
    """An account's analytics, or each of its videos' with --videos."""
    if (sort_by or sort_order) and not videos:
        raise click.UsageError("--sort-by and --sort-order need --videos")
    columns = VIDEO_COLUMNS if videos else None
    printer = _printer(output_format, sys.stdout, columns, VideoAnalytics if videos else None)

    async def work(tp: AsyncTokPortal) -> None:
        if refresh:
            state = await tp.accounts.can_refresh_analytics(account_id)
            if state.can_refresh is False:
                click.echo(f"tokportal-async: no refresh now ({state.reason})", err=True)
            else:
                await tp.accounts.refresh_analytics(account_id)
                click.echo("tokportal-async: refresh requested", err=True)
        if not videos:
            printer.one(_record(await tp.accounts.analytics(account_id)))
            return
        found = tp.accounts.iter_video_analytics(account_id, sort_by=sort_by, sort_order=sort_order)
        printer.many([_record(video) async for video in found])

    settings.execute(work)


# -- credits ------------------------------------------------------------------------------


@cli.group()
def credits() -> None:
    """Your credit balance and its history."""


@credits.command("balance")
@format_option
@click.pass_obj
def balance(settings: Settings, output_format: str | None) -> None:
    """The credit balance, and what expires soon."""
    printer = _printer(output_format, sys.stdout, None)

    async def work(tp: AsyncTokPortal) -> None:
        printer.one(to_record(await tp.credits.balance()))

    settings.execute(work)


@credits.command("history")
@click.option("--from", "date_from", type=click.DateTime(["%Y-%m-%d"]), help="From this day.")
@click.option("--to", "date_to", type=click.DateTime(["%Y-%m-%d"]), help="Until this day.")
@format_option
@click.pass_obj
def history(settings: Settings, date_from: Any, date_to: Any, output_format: str | None) -> None:
    """Every movement of credits, newest first."""
    printer = _printer(output_format, sys.stdout, HISTORY_COLUMNS, CreditTransaction)
    start: date | None = date_from.date() if date_from else None
    end: date | None = date_to.date() if date_to else None

    async def work(tp: AsyncTokPortal) -> None:
        rows = tp.credits.iter_history(date_from=start, date_to=end)
        printer.many([to_record(row) async for row in rows])

    settings.execute(work)
