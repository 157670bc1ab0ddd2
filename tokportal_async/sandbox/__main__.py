"""``python -m tokportal_async.sandbox`` (and ``tokportal-async sandbox``): serve until Ctrl+C.

The options are :class:`SandboxOptions`' own, one ``--flag`` per field, plus the files of a
TLS certificate. A bad value or a port already taken is one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ssl
import sys
from typing import NoReturn

from ._options import SandboxOptions
from ._server import Sandbox

#: The command line listens on a fixed port by default, so its URL stays the same.
COMMAND_LINE_PORT = 8765
#: The exit code of a bad option or a port that cannot be had (as argparse's own).
USAGE = 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        """One line, not argparse's usage block: ``prog: error: message``."""
        self.exit(USAGE, f"{self.prog}: error: {message}\n")


def _parser(prog: str) -> argparse.ArgumentParser:
    parser = _Parser(
        prog=prog, description="Serve a local TokPortal Accounts API with generated data."
    )
    SandboxOptions.add_arguments(parser, defaults={"port": COMMAND_LINE_PORT})
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate chain (PEM)")
    parser.add_argument("--tls-key", help="the private key of --tls-cert (PEM)")
    return parser


def _tls_context(tls_cert: str | None, tls_key: str | None) -> ssl.SSLContext | None:
    if not tls_cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tls_cert, tls_key)
    return context


async def _serve(sandbox: Sandbox) -> None:
    async with sandbox:
        print(f"TOKPORTAL_BASE_URL={sandbox.base_url}", flush=True)
        print(f"TOKPORTAL_API_KEY={sandbox.api_key}", flush=True)
        print("Serving the TokPortal sandbox; press Ctrl+C to stop.", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None, *, prog: str = "python -m tokportal_async.sandbox") -> None:
    """Run the sandbox in the foreground until interrupted."""
    parser = _parser(prog)
    args = parser.parse_args(argv)
    try:
        options = SandboxOptions.from_arguments(args)
    except ValueError as error:
        parser.error(str(error))
    serve(options, tls_cert=args.tls_cert, tls_key=args.tls_key, prog=prog)


def serve(
    options: SandboxOptions,
    *,
    tls_cert: str | None = None,
    tls_key: str | None = None,
    prog: str = "python -m tokportal_async.sandbox",
) -> None:
    """Serve ``options`` in the foreground until Ctrl+C; a problem is one line and exit 2."""
    try:
        context = _tls_context(tls_cert, tls_key)
        sandbox = Sandbox(options, ssl_context=context)
    except (ValueError, OSError) as error:  # a bad value, or an unreadable certificate
        print(f"{prog}: error: {error}", file=sys.stderr)
        sys.exit(USAGE)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(_serve(sandbox))
    except OSError as error:  # the port is taken, or the host is not ours
        where = f"{sandbox.state.options.host}:{sandbox.state.options.port}"
        reason = error.strerror or str(error)
        print(f"{prog}: error: cannot listen on {where}: {reason}", file=sys.stderr)
        sys.exit(USAGE)


if __name__ == "__main__":
    main()
