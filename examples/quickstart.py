"""List accounts and read one, against an in-process sandbox: no API key needed.

Run: python examples/quickstart.py
Against the real API, drop the sandbox and let AsyncTokPortal() read TOKPORTAL_API_KEY.
"""

import asyncio

from tokportal_async import AsyncTokPortal, VerificationCodeNotFoundError
from tokportal_async.sandbox import Sandbox


async def main() -> None:
    async with (
        Sandbox(accounts=250) as sandbox,
        AsyncTokPortal(sandbox.api_key, base_url=sandbox.base_url) as tp,
    ):
        page = await tp.accounts.list(platform="tiktok", per_page=5)
        print(f"{page.pagination.total} TikTok accounts; the first {len(page)}:")
        for account in page:
            print(f"  {account.username:<24} {account.country}  {account.profile_url}")

        detail = await tp.accounts.get(page[0].id)
        print(f"\n{detail.username}: {detail!r}\n")

        open_slots = 0
        async for bundle in tp.accounts.iter_bundles(detail.id):
            open_slots += bundle.videos.pending
        print(f"{open_slots} free video slots across {detail.username}'s bundles")

        total = 0
        async for _account in tp.accounts.iter():
            total += 1
        print(f"iterated {total} accounts, page by page")

        try:
            await tp.accounts.verification_code(detail.id)
        except VerificationCodeNotFoundError as error:
            print(f"no code yet ({error.code}, request id {error.request_id})")


if __name__ == "__main__":
    asyncio.run(main())
