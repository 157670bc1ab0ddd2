"""``tokportal-async webhooks``: manage endpoints, and ``listen`` for events locally.

``listen`` serves a receiver on 127.0.0.1 that verifies each event with the endpoint's
secret, prints it, and can forward it, signed as received, to a local app. With
``--sandbox`` it registers itself with the in-process sandbox and prints the sandbox's
address, so that commands from another shell (``stage ban``, ``accounts rewarm``) make
events arrive.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

import anyio
import click

from .._client import AsyncTokPortal
from .._loopback import serve_post
from .._text import printable
from .._webhook_models import WebhookDelivery, WebhookEndpoint
from ._app import Settings, _printer, cli, format_option
from ._care import _confirm, _record, yes_option
from ._output import to_record

if TYPE_CHECKING:
    from aiohttp import web

    from ..webhooks import WebhookEvent

__all__ = ["webhooks"]

ENDPOINT_COLUMNS = ("id", "url", "enabled", "events", "description")
DELIVERY_COLUMNS = ("id", "event_type", "attempt", "success", "status_code", "created_at")
EVENT_COLUMNS = ("id", "type", "created_at")


@cli.group()
def webhooks() -> None:
    """Webhook endpoints, their deliveries, and a local listener."""


@webhooks.command("create")
@click.argument("url")
@click.option("--event", "events", multiple=True, required=True, help="An event type (repeat).")
@click.option("--description", help="What the endpoint is for.")
@click.option("--disabled", is_flag=True, help="Create it disabled.")
@click.option(
    "--show-secrets", is_flag=True, help="Print the signing secret (returned only this once)."
)
@format_option
@click.pass_obj
def create(
    settings: Settings,
    url: str,
    events: tuple[str, ...],
    description: str | None,
    disabled: bool,
    show_secrets: bool,
    output_format: str | None,
) -> None:
    """Register URL for events. TokPortal returns its signing secret only this once."""
    if not show_secrets:
        # Creating without seeing the secret would make an endpoint nobody can verify.
        raise click.UsageError(
            "the signing secret is returned only once, by this call: add --show-secrets to "
            "print it (and store it where your receiver reads it)"
        )
    printer = _printer(output_format, sys.stdout, None)

    async def work(tp: AsyncTokPortal) -> None:
        endpoint = await tp.webhooks.create(
            url, list(events), description=description, enabled=not disabled
        )
        printer.one(to_record(endpoint, show_secrets=True))

    settings.execute(work)


@webhooks.command("list")
@format_option
@click.pass_obj
def list_endpoints(settings: Settings, output_format: str | None) -> None:
    """Every webhook endpoint."""
    printer = _printer(output_format, sys.stdout, ENDPOINT_COLUMNS, WebhookEndpoint)

    async def work(tp: AsyncTokPortal) -> None:
        printer.many([to_record(e) async for e in tp.webhooks.iter()])

    settings.execute(work)


@webhooks.command("delete")
@click.argument("endpoint_id")
@yes_option
@click.pass_obj
def delete(settings: Settings, endpoint_id: str, yes: bool) -> None:
    """Delete an endpoint: TokPortal stops sending it events."""
    _confirm(f"Delete webhook endpoint {printable(endpoint_id)}?", yes=yes)

    async def work(tp: AsyncTokPortal) -> None:
        await tp.webhooks.delete(endpoint_id)
        click.echo(f"deleted {printable(endpoint_id)}", err=True)

    settings.execute(work)


@webhooks.command("deliveries")
@click.argument("endpoint_id")
@click.option("--event-type", help="Only deliveries of this event type.")
@click.option("--failed/--succeeded", "failed", default=None, help="Only failed, or successful.")
@format_option
@click.pass_obj
def deliveries(
    settings: Settings,
    endpoint_id: str,
    event_type: str | None,
    failed: bool | None,
    output_format: str | None,
) -> None:
    """An endpoint's delivery attempts, newest first."""
    printer = _printer(output_format, sys.stdout, DELIVERY_COLUMNS, WebhookDelivery)
    success = None if failed is None else not failed

    async def work(tp: AsyncTokPortal) -> None:
        found = tp.webhooks.iter_deliveries(endpoint_id, event_type=event_type, success=success)
        printer.many([_record(d) async for d in found])

    settings.execute(work)


@webhooks.command("test")
@click.argument("endpoint_id")
@format_option
@click.pass_obj
def test(settings: Settings, endpoint_id: str, output_format: str | None) -> None:
    """Send a webhook.test event to an endpoint."""
    printer = _printer(output_format, sys.stdout, None)

    async def work(tp: AsyncTokPortal) -> None:
        printer.one(_record(await tp.webhooks.test(endpoint_id)))

    settings.execute(work)


@webhooks.command("listen")
@click.option("--secret", envvar="TOKPORTAL_WEBHOOK_SECRET", help="The signing secret.")
@click.option("--port", type=click.IntRange(0, 65_535), default=0, help="Port (0: a free one).")
@click.option("--path", default="/tokportal/events", show_default=True)
@click.option("--forward-to", help="Also POST each verified event, signed as received, here.")
@format_option
@click.pass_obj
def listen(
    settings: Settings,
    secret: str | None,
    port: int,
    path: str,
    forward_to: str | None,
    output_format: str | None,
) -> None:
    """Receive events on 127.0.0.1, verify and print them, until Ctrl+C."""
    if not secret and not settings.sandbox:
        raise click.UsageError("--secret (or $TOKPORTAL_WEBHOOK_SECRET) is needed, or --sandbox")
    printer = _printer(output_format or "jsonl", sys.stdout, EVENT_COLUMNS)

    async def serve(tp: AsyncTokPortal | None) -> None:
        listener = _Listener(secret, printer, forward_to)
        url = await listener.start(port, path)
        try:
            if tp is not None:  # --sandbox: registered with it, for every event it sends
                types = [t.type for t in await tp.webhooks.event_types()]
                endpoint = await tp.webhooks.create(url, types, description="webhooks listen")
                listener.secret = endpoint.signing_secret
                # The in-process sandbox's own key, for commands run from another shell
                # against it: a sandbox key, never a user's.
                click.echo(
                    f"sandbox: TOKPORTAL_BASE_URL={tp.base_url} "
                    f"TOKPORTAL_API_KEY={settings.sandbox_key} (endpoint {endpoint.id})",
                    err=True,
                )
            click.echo(f"listening on {url} (Ctrl+C to stop)", err=True)
            await anyio.sleep_forever()
        finally:
            await listener.stop()

    if settings.sandbox:
        try:
            settings.execute(serve)
        except SystemExit as stop:
            if stop.code == 130:  # Ctrl+C is how a listener stops
                sys.exit(0)
            raise
        return
    try:  # no API call: no key needed
        anyio.run(serve, None)
    except KeyboardInterrupt:
        click.echo("tokportal-async: stopped", err=True)
    except OSError as error:  # the port is taken
        raise click.UsageError(f"cannot listen on port {port}: {error.strerror or error}") from None


class _Listener:
    """The server behind ``listen``: verify, print, forward."""

    def __init__(self, secret: str | None, printer: Any, forward_to: str | None) -> None:
        self.secret = secret
        self._printer = printer
        self._forward_to = forward_to
        self._runner: web.AppRunner | None = None

    async def start(self, port: int, path: str) -> str:
        self._runner, url = await serve_post(path, self._handle, port)
        return url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        from aiohttp import web

        from ..webhooks import (
            EVENT_ID_HEADER,
            EVENT_TYPE_HEADER,
            SIGNATURE_HEADER,
            WebhookPayloadError,
            WebhookSignatureError,
            construct_event,
        )

        body = await request.content.read(1024 * 1024 + 1)
        if len(body) > 1024 * 1024:
            return web.json_response({"error": "body too large"}, status=413)
        signature = request.headers.get(SIGNATURE_HEADER, "")
        try:
            event = construct_event(body, signature, self.secret or "")
        except (WebhookSignatureError, WebhookPayloadError, ValueError) as error:
            click.echo(f"tokportal-async: refused a delivery: {printable(str(error))}", err=True)
            return web.json_response({"error": "refused"}, status=400)
        self._print(event)
        if self._forward_to:
            headers = {
                name: request.headers[name]
                for name in (SIGNATURE_HEADER, EVENT_ID_HEADER, EVENT_TYPE_HEADER)
                if name in request.headers
            }
            status = await self._forward(body, headers)
            if not 200 <= status < 300:  # the app failed: let TokPortal redeliver
                click.echo(f"tokportal-async: the app answered {status}", err=True)
                return web.json_response({"forwarded": status}, status=502)
        return web.json_response({"received": event.id})

    def _print(self, event: WebhookEvent) -> None:
        data = event.data
        record = {
            "id": event.id,
            "type": str(event.type),
            "created_at": to_record(event)["created_at"],
            "data": data if isinstance(data, dict) else _record(data),
        }
        self._printer.one(record)
        sys.stdout.flush()

    async def _forward(self, body: bytes, headers: dict[str, str]) -> int:
        import aiohttp

        assert self._forward_to is not None
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.post(
                    self._forward_to,
                    data=body,
                    headers={**headers, "Content-Type": "application/json"},
                    timeout=aiohttp.ClientTimeout(total=30),
                ) as response,
            ):
                return response.status
        except (aiohttp.ClientError, TimeoutError) as error:
            click.echo(f"tokportal-async: forwarding failed: {type(error).__name__}", err=True)
            return 502
