"""``python -m tokportal_async.sandbox``: serve the sandbox until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ssl

from ._server import Sandbox
from ._state import DEFAULT_CREDITS, DEFAULT_POLICY_VERSION, PROFILES


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m tokportal_async.sandbox",
        description="Serve a local TokPortal Accounts API with generated data.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8765, help="port (0 picks a free one)")
    parser.add_argument("--accounts", type=int, default=250, help="accounts to generate")
    parser.add_argument("--seed", type=int, default=0, help="same seed, same data")
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default="live",
        help="live: TokPortal's API as it is now (the default); seed: its original "
        "Accounts page (credentials in details, no policy, no bans)",
    )
    parser.add_argument(
        "--require-policy-acceptance",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="guard credentials and codes with the 428 policy flow (default: per profile)",
    )
    parser.add_argument(
        "--omit-credentials",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="leave credentials out of account details (default: per profile)",
    )
    parser.add_argument(
        "--policy-version",
        default=DEFAULT_POLICY_VERSION,
        help="the version of the terms an acceptance must name",
    )
    parser.add_argument(
        "--credits", type=int, default=DEFAULT_CREDITS, help="the user's credit balance"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="milliseconds added to every answer"
    )
    parser.add_argument(
        "--fault-rate",
        type=float,
        default=0.0,
        help="share of requests (0-1) answered with a fault: 5xx, HTML 502, drop, stall, "
        "truncated body",
    )
    parser.add_argument("--fault-seed", type=int, default=None, help="seed of the fault draw")
    parser.add_argument(
        "--rate-limit",
        type=int,
        default=None,
        help="enforce a token bucket of this many requests per --rate-window per key",
    )
    parser.add_argument(
        "--rate-window", type=float, default=60.0, help="seconds of the rate limit's window"
    )
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate chain (PEM)")
    parser.add_argument("--tls-key", help="the private key of --tls-cert (PEM)")
    return parser.parse_args(argv)


def _tls_context(args: argparse.Namespace) -> ssl.SSLContext | None:
    if not args.tls_cert:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(args.tls_cert, args.tls_key)
    return context


async def _serve(args: argparse.Namespace) -> None:
    sandbox = Sandbox(
        accounts=args.accounts,
        seed=args.seed,
        host=args.host,
        port=args.port,
        profile=args.profile,
        require_policy_acceptance=args.require_policy_acceptance,
        omit_credentials=args.omit_credentials,
        policy_version=args.policy_version,
        credits=args.credits,
        latency=args.latency_ms / 1000,
        fault_rate=args.fault_rate,
        fault_seed=args.fault_seed,
        rate_limit=args.rate_limit,
        rate_window=args.rate_window,
        ssl_context=_tls_context(args),
    )
    async with sandbox:
        print(f"TOKPORTAL_BASE_URL={sandbox.base_url}", flush=True)
        print(f"TOKPORTAL_API_KEY={sandbox.api_key}", flush=True)
        print("Serving the TokPortal sandbox; press Ctrl+C to stop.", flush=True)
        await asyncio.Event().wait()


def main(argv: list[str] | None = None) -> None:
    """Run the sandbox in the foreground."""
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(_parse_args(argv)))


if __name__ == "__main__":
    main()
