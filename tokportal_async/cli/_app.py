"""The commands: ``accounts list|get|reveal|bundles|code|export``, ``bans list``, ``sandbox``.

The commands with effects (coverage, edit requests, rewarm, analytics, credits) are
added to the same groups by :mod:`._care`.

Each command is a coroutine run against one ``AsyncTokPortal``: the real API by default,
or a sandbox started in this process with ``--sandbox``. Results go to stdout in the
chosen format and nothing else does; progress, notes and errors go to stderr.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import traceback
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

import anyio
import attrs
import click

from .._client import AsyncTokPortal
from .._constants import API_KEY_ENV, BASE_URL_ENV, DEFAULT_CODE_POLL_INTERVAL, DEFAULT_CONCURRENCY
from .._errors import (
    APIConnectionError,
    APIError,
    InsufficientCreditsError,
    PolicyAcceptanceRequiredError,
    PolicyChangedError,
    RateLimitError,
    TokPortalError,
)
from .._models import Account, AccountBan, AccountDetail, Bundle
from .._redis_rate_limit import RedisRateLimiter
from .._text import printable
from .._validation import path_segment
from .._version import __version__
from . import _exit
from ._output import FORMATS, Printer, to_record

__all__ = ["run"]

ACCOUNT_COLUMNS = ("id", "platform", "username", "country", "profile_url")
BUNDLE_COLUMNS = ("id", "title", "status", "bundle_type", "videos.total", "videos.pending")
BAN_COLUMNS = ("id", "account_id", "username", "status", "resolution.resolution", "updated_at")
Work = Callable[[AsyncTokPortal], Awaitable[None]]


@attrs.define
class Settings:
    """The global options, handed to every command."""

    api_key: str | None
    base_url: str | None
    sandbox: bool
    verbose: bool
    redis: str | None = None
    #: With ``--sandbox``: the key of the sandbox a command runs against, once started,
    #: for commands that tell another shell how to reach it (``webhooks listen``).
    sandbox_key: str | None = None

    def _limiter(self) -> RedisRateLimiter | bool:
        """The shared bucket in Redis with ``--redis``; else the client's own."""
        return RedisRateLimiter(self.redis) if self.redis else True

    def execute(self, work: Work) -> None:
        """Run ``work`` against the API (or a sandbox), turning errors into exit codes."""
        if not self.sandbox and not self.api_key:
            _fail(
                f"no API key: pass --api-key or set {API_KEY_ENV} (or try --sandbox)",
                _exit.AUTH,
            )
        try:
            anyio.run(self._run, work)
        except KeyboardInterrupt:
            # One line and the shell's code for SIGINT (130), not click's "Aborted!" and 1,
            # which this command line gives to "another API error".
            click.echo("\ntokportal-async: interrupted", err=True)
            sys.exit(_exit.INTERRUPTED)
        except BrokenPipeError:
            _reader_gone()
        except TokPortalError as error:
            if self.verbose:
                traceback.print_exc()
            _explain(error)
            _fail(_describe(error), _exit.exit_code_for(error))
        except (ValueError, ImportError) as error:  # bad input, or an extra not installed
            if self.verbose:
                traceback.print_exc()
            _fail(str(error), _exit.USAGE)

    async def _run(self, work: Work) -> None:
        if not self.sandbox:
            async with AsyncTokPortal(
                self.api_key, base_url=self.base_url, rate_limiter=self._limiter()
            ) as tp:
                await work(tp)
            return
        from ..sandbox import Sandbox  # only with --sandbox: the server is not loaded else

        async with (
            Sandbox() as sandbox,
            AsyncTokPortal(
                sandbox.api_key, base_url=sandbox.base_url, rate_limiter=self._limiter()
            ) as tp,
        ):
            self.sandbox_key = sandbox.api_key
            await work(tp)


def _describe(error: TokPortalError) -> str:
    """One line: the message, then the status, code and request id once each.

    The server wrote most of it: control characters (a CR, an ANSI escape) are shown
    escaped, so they cannot rewrite the user's terminal.
    """
    if isinstance(error, APIConnectionError):
        return printable(f"{type(error).__name__}: {error}")
    if isinstance(error, PolicyAcceptanceRequiredError | PolicyChangedError):
        # The lines above it said what to accept, as an option; the error's own summary
        # says it as Python (accept_policy='...'), which is not how to run a command.
        return printable(APIError._summary(error))
    return printable(str(error))  # an APIError says its status, code and request id


def _explain(error: TokPortalError) -> None:
    """What a human needs to decide, on stderr, before the one-line error."""
    if isinstance(error, PolicyAcceptanceRequiredError | PolicyChangedError):
        terms = error.terms
        cost = "unknown" if terms.expected_credit_cost is None else terms.expected_credit_cost
        first = (
            "TokPortal's terms for this account changed since they were shown, and nothing "
            "was charged: the account owner must accept the new terms."
            if isinstance(error, PolicyChangedError)
            else "The account owner must accept TokPortal's terms for this account first."
        )
        lines = [
            first,
            f"  policy version: {printable(terms.policy_version or 'not given')}",
            f"  expected credit cost: {cost}",
        ]
        for name in ("disclosure", "consequences"):
            value = terms.details.get(name)
            if isinstance(value, list):
                lines += [f"  {name}: {printable(str(item))}" for item in value]
            elif value is not None:
                lines.append(f"  {name}: {printable(str(value))}")
        lines.append(
            "Accepting may debit credits and permanently ends TokPortal support for the account."
        )
        if terms.policy_version:
            version = printable(terms.policy_version)
            lines.append(f"To accept, run the same command with --accept-policy {version}")
        click.echo("\n".join(lines), err=True)
    elif isinstance(error, RateLimitError):
        wait = "a moment" if error.retry_after is None else f"{error.retry_after:g}s"
        click.echo(
            f"The key's rate budget is spent: TokPortal asks to wait {wait} before the next "
            "request.",
            err=True,
        )
    elif isinstance(error, InsufficientCreditsError):
        click.echo(
            f"Credits: {error.required} required, {error.available} available, "
            f"{error.missing} missing. Nothing was charged.",
            err=True,
        )


def _reader_gone() -> None:
    """The output's reader left (``| head -1``): it has what it wanted, so exit with 0.

    Python would complain again while flushing stdout at exit: point it at /dev/null.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    sys.exit(0)


def _fail(message: str, code: int) -> None:
    click.echo(f"tokportal-async: error: {message}", err=True)
    sys.exit(code)


def _printer(
    output_format: str | None,
    stream: TextIO,
    columns: tuple[str, ...] | None,
    model: type | None = None,
) -> Printer:
    chosen = output_format or ("table" if stream.isatty() else "json")
    return Printer(
        format=chosen, stream=stream, columns=columns if chosen == "table" else None, model=model
    )


def _progress(total: int, label: str) -> Any:
    """A progress bar on stderr when it is a terminal; otherwise a silent stand-in."""
    if not sys.stderr.isatty():
        return _NoProgress()
    return click.progressbar(length=total, label=label, file=sys.stderr)


class _NoProgress:
    def __enter__(self) -> _NoProgress:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def update(self, steps: int) -> None:
        """Nothing to draw."""


format_option = click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    help="Output format (default: table on a terminal, json otherwise).",
)


def account_filters(command: Callable[..., None]) -> Callable[..., None]:
    """``--platform``, ``--country`` and ``--banned/--not-banned``: the filters of a listing."""
    for option in reversed(
        (
            click.option("--platform", help="Only this platform: tiktok, instagram..."),
            click.option("--country", help="Only this country code: US, FR, UK..."),
            click.option(
                "--banned/--not-banned", default=None, help="Only banned, or only active, accounts."
            ),
        )
    ):
        command = option(command)
    return command


def _refuse_paying_for_masked(accept_policy: str | None, show_secrets: bool, what: str) -> None:
    """Never charge for a secret and then mask it: refuse before anything is sent."""
    if accept_policy is not None and not show_secrets:
        raise click.UsageError(
            f"--accept-policy may debit credits for {what}, which would then be printed "
            "masked: add --show-secrets to see what you pay for"
        )


secrets_option = click.option(
    "--show-secrets",
    is_flag=True,
    help="Print passwords and verification codes (masked otherwise).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--api-key", envvar=API_KEY_ENV, help=f"Your API key (default: ${API_KEY_ENV}).")
@click.option(
    "--base-url", envvar=BASE_URL_ENV, help=f"The API's base URL (default: ${BASE_URL_ENV})."
)
@click.option("--sandbox", is_flag=True, help="Run against a sandbox started here; no key needed.")
@click.option("--verbose", "-v", is_flag=True, help="Log requests and print tracebacks.")
@click.option(
    "--redis",
    envvar="TOKPORTAL_REDIS_URL",
    metavar="URL",
    help="Share the key's rate budget with every process using this Redis (redis extra).",
)
@click.version_option(__version__, prog_name="tokportal-async")
@click.pass_context
def cli(
    ctx: click.Context,
    api_key: str | None,
    base_url: str | None,
    sandbox: bool,
    verbose: bool,
    redis: str | None,
) -> None:
    """Read your TokPortal accounts, their bundles and verification codes."""
    if verbose:
        logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
        logging.getLogger("tokportal_async").setLevel(logging.DEBUG)
    ctx.obj = Settings(
        api_key=api_key, base_url=base_url, sandbox=sandbox, verbose=verbose, redis=redis
    )


@cli.group()
def accounts() -> None:
    """Delivered accounts."""


@accounts.command("list")
@account_filters
@click.option("--page", type=int, help="Page number (default 1).")
@click.option("--per-page", type=int, help="Accounts per page, 1-100 (default 25).")
@click.option("--all", "every", is_flag=True, help="Every page, not just one.")
@format_option
@click.pass_obj
def list_accounts(
    settings: Settings,
    platform: str | None,
    country: str | None,
    banned: bool | None,
    page: int | None,
    per_page: int | None,
    every: bool,
    output_format: str | None,
) -> None:
    """List your accounts: one page, or --all of them."""
    printer = _printer(output_format, sys.stdout, ACCOUNT_COLUMNS, Account)
    filters: dict[str, Any] = {"platform": platform, "country": country, "banned": banned}

    async def work(tp: AsyncTokPortal) -> None:
        if not every:
            result = await tp.accounts.list(**filters, page=page, per_page=per_page)
            printer.page(result)
            return
        await _print_all(tp.accounts.pages(**filters, per_page=per_page or 100), printer)

    settings.execute(work)


async def _print_all(pages: Any, printer: Printer) -> None:
    """Every page's items, with a progress bar on a terminal, printed once all are in."""
    records: list[dict[str, Any]] = []
    async with aclosing(pages):
        with contextlib.ExitStack() as stack:
            bar: Any = None
            async for one_page in pages:
                if bar is None:  # the first page tells the total the bar counts to
                    total = one_page.pagination.total
                    bar = stack.enter_context(_progress(total, "items"))
                records.extend(to_record(item) for item in one_page)
                bar.update(len(one_page))
    printer.many(records)


@accounts.command("get")
@click.argument("account_id")
@secrets_option
@format_option
@click.pass_obj
def get_account(
    settings: Settings, account_id: str, show_secrets: bool, output_format: str | None
) -> None:
    """One account, with its credentials."""
    printer = _printer(output_format, sys.stdout, None)

    async def work(tp: AsyncTokPortal) -> None:
        detail = await tp.accounts.get(account_id)
        printer.one(to_record(detail, show_secrets=show_secrets))

    settings.execute(work)


@accounts.command("reveal")
@click.argument("account_id")
@click.option("--accept-policy", help="Accept this policy_version (may debit credits).")
@secrets_option
@format_option
@click.pass_obj
def reveal_credentials(
    settings: Settings,
    account_id: str,
    accept_policy: str | None,
    show_secrets: bool,
    output_format: str | None,
) -> None:
    """An account's passwords. A charged call behind TokPortal's policy.

    The first time, it prints the terms and exits with code 7; run it again with
    --accept-policy VERSION once the account owner agrees. Accepting may debit credits
    and permanently ends TokPortal support for the account.
    """
    _refuse_paying_for_masked(accept_policy, show_secrets, "the passwords")
    printer = _printer(output_format, sys.stdout, None)

    async def work(tp: AsyncTokPortal) -> None:
        credentials = await tp.accounts.reveal_credentials(account_id, accept_policy=accept_policy)
        printer.one(to_record(credentials, show_secrets=show_secrets))
        if not show_secrets:
            click.echo("(passwords are masked: pass --show-secrets to print them)", err=True)

    settings.execute(work)


@accounts.command("bundles")
@click.argument("account_id")
@click.option("--status", help="Only bundles in this status: accepted, pending_setup...")
@click.option("--open-slots", is_flag=True, help="Only bundles with free video slots.")
@format_option
@click.pass_obj
def list_bundles(
    settings: Settings,
    account_id: str,
    status: str | None,
    open_slots: bool,
    output_format: str | None,
) -> None:
    """The bundles (orders) tied to an account, with their video slots."""
    printer = _printer(output_format, sys.stdout, BUNDLE_COLUMNS, Bundle)

    async def work(tp: AsyncTokPortal) -> None:
        found: list[Bundle] = [
            bundle
            async for bundle in tp.accounts.iter_bundles(account_id, status=status)
            if not open_slots or bundle.open_slots > 0
        ]
        printer.many(to_record(b) for b in found)

    settings.execute(work)


@accounts.command("code")
@click.argument("account_id")
@click.option(
    "--wait",
    type=click.FloatRange(min=0),
    help=f"Poll up to this many seconds for the code to arrive (every "
    f"{DEFAULT_CODE_POLL_INTERVAL:g}s, as TokPortal advises).",
)
@click.option("--accept-policy", help="Accept this policy_version (may debit credits).")
@secrets_option
@format_option
@click.pass_obj
def verification_code(
    settings: Settings,
    account_id: str,
    wait: float | None,
    accept_policy: str | None,
    show_secrets: bool,
    output_format: str | None,
) -> None:
    """The latest verification code from the account's inbox."""
    _refuse_paying_for_masked(accept_policy, show_secrets, "the code")
    printer = _printer(output_format, sys.stdout, None)

    async def work(tp: AsyncTokPortal) -> None:
        if wait is None:
            code = await tp.accounts.verification_code(account_id, accept_policy=accept_policy)
        else:
            code = await tp.accounts.wait_for_verification_code(
                account_id, timeout=wait, accept_policy=accept_policy
            )
        printer.one(to_record(code, show_secrets=show_secrets))
        if not show_secrets:
            click.echo("(the code is masked: pass --show-secrets to print it)", err=True)

    settings.execute(work)


@accounts.command("export")
@account_filters
@click.option("--details", is_flag=True, help="Export every account's details, not the list.")
@click.option(
    "--output", type=click.Path(dir_okay=False, path_type=Path), help="File (default: stdout)."
)
@click.option("--concurrency", type=int, default=DEFAULT_CONCURRENCY, show_default=True)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(("jsonl", "json", "csv")),
    default="jsonl",
    show_default=True,
)
@secrets_option
@click.pass_obj
def export(
    settings: Settings,
    platform: str | None,
    country: str | None,
    banned: bool | None,
    details: bool,
    output: Path | None,
    concurrency: int,
    output_format: str,
    show_secrets: bool,
) -> None:
    """Every account (with --details, every account's details), for other tools.

    Details never include passwords on the live API: reveal them one account at a time
    with ``accounts reveal``, a charged call behind TokPortal's policy.
    """
    if details:
        click.echo(
            "note: the live API keeps passwords out of details; `accounts reveal ID` "
            "reveals them (a charged call behind TokPortal's policy).",
            err=True,
        )

    filters: dict[str, Any] = {"platform": platform, "country": country, "banned": banned}

    async def work(tp: AsyncTokPortal) -> None:
        total = (await tp.accounts.list(**filters, per_page=1)).pagination.total
        items = (
            tp.accounts.iter_details(**filters, concurrency=concurrency)
            if details
            else tp.accounts.iter(**filters, concurrency=concurrency)
        )
        stream = output.open("w", encoding="utf-8", newline="") if output else sys.stdout
        # Closed here, in order, whatever ends the loop (a reader that left: `| head -1`);
        # left to the loop's shutdown, the walk's nested generators would be closed all
        # at once, and one would be closed while another still runs it.
        async with aclosing(items):
            await _export(items, stream, output_format, details, total, show_secrets)

    settings.execute(work)


async def _export(
    items: Any, stream: Any, output_format: str, details: bool, total: int, show_secrets: bool
) -> None:
    """Write every item of ``items`` to ``stream``: jsonl as it comes, json and csv at the end."""
    try:
        model = AccountDetail if details else Account
        printer = Printer(format=output_format, stream=stream, model=model)
        records: list[dict[str, Any]] = []
        with _progress(total, "exporting") as bar:
            async for item in items:
                record = to_record(item, show_secrets=show_secrets)
                if output_format == "jsonl":
                    printer.many([record])  # streamed: memory stays flat
                else:
                    records.append(record)
                bar.update(1)
        if output_format != "jsonl":
            printer.many(records)
    finally:
        if stream is not sys.stdout:
            stream.close()


@cli.group()
def bans() -> None:
    """Bans of your accounts: appeal status and resolution."""


def _aware_datetime(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        raise click.BadParameter(f"{value!r} has no timezone: add Z or +00:00")
    return moment


@bans.command("list")
@click.option("--status", help="appeal_pending, appeal_accepted, appeal_refused, no_appeal_banned.")
@click.option("--resolution", help="refund, remake, no_remake, pending.")
@click.option("--account", "account_id", help="Only this account's bans.")
@click.option(
    "--since",
    callback=_aware_datetime,
    help="Only bans updated at or after this time (ISO 8601 with a timezone).",
)
@click.option("--page", type=int, help="Page number (default 1).")
@click.option("--per-page", type=int, help="Bans per page, 1-100 (default 25).")
@click.option("--all", "every", is_flag=True, help="Every page, not just one.")
@format_option
@click.pass_obj
def list_bans(
    settings: Settings,
    status: str | None,
    resolution: str | None,
    account_id: str | None,
    since: datetime | None,
    page: int | None,
    per_page: int | None,
    every: bool,
    output_format: str | None,
) -> None:
    """List bans: one page, or --all of them."""
    printer = _printer(output_format, sys.stdout, BAN_COLUMNS, AccountBan)
    filters: dict[str, Any] = {"status": status, "resolution": resolution, "account_id": account_id}

    async def work(tp: AsyncTokPortal) -> None:
        if not every:
            result = await tp.account_bans.list(
                **filters, since=since, page=page, per_page=per_page
            )
            printer.page(result)
            return
        pages = tp.account_bans.pages(**filters, since=since, per_page=per_page or 100)
        await _print_all(pages, printer)

    settings.execute(work)


@cli.group()
def stage() -> None:
    """Stage a scene in a running sandbox (not TokPortal): acceptances and codes."""


@stage.command("acknowledge")
@click.argument("account_ids", nargs=-1, required=True)
@click.pass_obj
def stage_acknowledge(settings: Settings, account_ids: tuple[str, ...]) -> None:
    """Record the owner's acceptance of the policy for accounts (no 428, no charge)."""

    async def work(tp: AsyncTokPortal) -> None:
        for account_id in account_ids:
            segment = path_segment("account_id", account_id)
            await tp.request("POST", f"/_sandbox/accounts/{segment}/acknowledge")
            click.echo(f"acknowledged {printable(account_id)}")

    settings.execute(work)


@stage.command("code")
@click.argument("account_id")
@click.option(
    "--delay", type=click.FloatRange(0, 3600), default=0.0, show_default=True,
    help="Seconds before the code is readable, as an email takes to arrive.",
)  # fmt: skip
@click.pass_obj
def stage_code(settings: Settings, account_id: str, delay: float) -> None:
    """Send a verification code to an account's inbox, as a login attempt would."""

    async def work(tp: AsyncTokPortal) -> None:
        segment = path_segment("account_id", account_id)
        await tp.request(
            "POST",
            f"/_sandbox/accounts/{segment}/verification-code/trigger",
            params={"delay_seconds": delay},
        )
        click.echo(f"a code is on its way to {printable(account_id)} (readable in {delay:g}s)")

    settings.execute(work)


@stage.command("coverage")
@click.argument("account_id")
@click.argument("status", type=click.Choice(["active", "lapsed", "cancelled", "ended"]))
@click.option("--price", type=click.IntRange(min=0), help="What reactivating is quoted at.")
@click.pass_obj
def stage_coverage(settings: Settings, account_id: str, status: str, price: int | None) -> None:
    """Set an account's coverage, as a missed renewal or a cancellation would."""

    async def work(tp: AsyncTokPortal) -> None:
        segment = path_segment("account_id", account_id)
        await tp.request(
            "POST", f"/_sandbox/accounts/{segment}/coverage",
            params={"status": status, "price": price},
        )  # fmt: skip
        click.echo(f"coverage of {printable(account_id)} is now {status}")

    settings.execute(work)


@stage.command("ban")
@click.argument("account_id")
@click.pass_obj
def stage_ban(settings: Settings, account_id: str) -> None:
    """Ban an account, as TikTok would (its ban record and account.banned event follow)."""

    async def work(tp: AsyncTokPortal) -> None:
        segment = path_segment("account_id", account_id)
        await tp.request("POST", f"/_sandbox/accounts/{segment}/ban")
        click.echo(f"{printable(account_id)} is now banned")

    settings.execute(work)


class _SandboxCommand(click.Command):
    """``tokportal-async sandbox``: one option per :class:`SandboxOptions` field.

    The options are made when the command is used (run, or its help shown), not when the
    command line starts: they come from the sandbox's own definition, whose import loads
    the server, which no other command needs.
    """

    def get_params(self, ctx: click.Context) -> list[click.Parameter]:
        if not self.params:
            self.params = [*_sandbox_options(), *super().get_params(ctx)]
        return self.params


def _sandbox_options() -> list[click.Parameter]:
    from ..sandbox.__main__ import COMMAND_LINE_PORT
    from ..sandbox._options import SandboxOptions

    params: list[click.Parameter] = []
    for option in SandboxOptions.command_line({"port": COMMAND_LINE_PORT}):
        help_text = option.help[0].upper() + option.help[1:]  # as every other command's help
        shown = option.shown_default
        help_text += "." if shown is None else f" (default: {shown})."
        if option.kind is bool:
            flag = f"{option.flag}/--no-{option.flag[2:]}"
            params.append(click.Option([flag, option.name], default=None, help=help_text))
            continue
        params.append(
            click.Option(
                [option.flag, option.name],
                type=click.Choice(option.choices) if option.choices else option.kind,
                default=option.default,
                metavar=option.metavar,
                help=help_text,
            )
        )
    params.append(click.Option(["--tls-cert"], help="Serve HTTPS with this certificate (PEM)."))
    params.append(click.Option(["--tls-key"], help="The private key of --tls-cert (PEM)."))
    return params


@cli.command("sandbox", cls=_SandboxCommand)
def serve_sandbox(tls_cert: str | None, tls_key: str | None, **given: Any) -> None:
    """Serve a local TokPortal sandbox on 127.0.0.1 until interrupted."""
    from ..sandbox.__main__ import serve
    from ..sandbox._options import SandboxOptions

    prog = "tokportal-async sandbox"
    try:
        options = SandboxOptions(**{k: v for k, v in given.items() if v is not None})
    except ValueError as error:  # one line, as every option error of the sandbox
        click.echo(f"{prog}: error: {error}", err=True)
        sys.exit(_exit.USAGE)
    serve(options, tls_cert=tls_cert, tls_key=tls_key, prog=prog)


def run(argv: list[str] | None = None) -> int:
    """Run the command line and return its exit code (click's usage errors give 2)."""
    try:
        cli.main(args=argv, prog_name="tokportal-async", standalone_mode=True)
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else _exit.API_ERROR
