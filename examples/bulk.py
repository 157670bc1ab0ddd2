"""Bulk reads against the sandbox: many details at once, and where the free video slots are.

Run: python examples/bulk.py
"""

import asyncio

from tokportal_async import AsyncTokPortal, NotFoundError
from tokportal_async.sandbox import Sandbox


async def main() -> None:
    async with (
        Sandbox(accounts=500) as sandbox,
        AsyncTokPortal(sandbox.api_key, base_url=sandbox.base_url) as tp,
    ):
        ids = [account.id async for account in tp.accounts.iter(concurrency=4)]
        details = await tp.accounts.get_many(ids[:200], concurrency=20)
        managed = sum(1 for detail in details if detail.current_cm_id)
        print(f"{len(details)} details fetched; {managed} have an account manager")

        results = await tp.accounts.get_many([ids[0], "no-such-id"], return_exceptions=True)
        print([type(result).__name__ for result in results])
        assert isinstance(results[1], NotFoundError)

        free = 0
        async for found in tp.accounts.iter_open_slots(ids[:50], concurrency=10):
            free += found.bundle.open_slots
        print(f"{free} free video slots across the first 50 accounts")


if __name__ == "__main__":
    asyncio.run(main())
