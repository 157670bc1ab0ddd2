"""One POST endpoint served on 127.0.0.1: how the local webhook receivers listen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # aiohttp's server loads with the first receiver, not on import
    from aiohttp import web

__all__ = ["serve_post"]


async def serve_post(
    path: str, handler: Callable[[web.Request], Awaitable[web.StreamResponse]], port: int = 0
) -> tuple[web.AppRunner, str]:
    """Serve ``handler`` for POSTs to ``path`` on 127.0.0.1 (``port`` 0: a free one).

    Returns the runner (``await runner.cleanup()`` stops it) and the endpoint's URL.
    """
    from aiohttp import web

    app = web.Application()
    app.router.add_post(path, handler)
    runner = web.AppRunner(app, access_log=None, handle_signals=False)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{runner.addresses[0][1]}{path}"
