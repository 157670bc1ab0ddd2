"""``python -m tokportal_async.sandbox``: serve the sandbox until interrupted."""

from __future__ import annotations

import argparse
import asyncio
import contextlib

from ._server import Sandbox


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
        "--require-policy-acceptance",
        action="store_true",
        help="answer verification-code calls with the live API's 428 policy flow",
    )
    parser.add_argument(
        "--omit-credentials",
        action="store_true",
        help="leave credentials out of account details, as newer deployments do",
    )
    return parser.parse_args(argv)


async def _serve(args: argparse.Namespace) -> None:
    sandbox = Sandbox(
        accounts=args.accounts,
        seed=args.seed,
        host=args.host,
        port=args.port,
        require_policy_acceptance=args.require_policy_acceptance,
        omit_credentials=args.omit_credentials,
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
