"""List accounts, read one, and reveal its credentials, against an in-process sandbox.

Run: python examples/quickstart.py
Against the real API, drop the sandbox and let AsyncTokPortal() read TOKPORTAL_API_KEY.
The sandbox plays the live API: revealing credentials is a charged call behind TokPortal's
policy, and accepting it ends TokPortal support for that account.
"""

import asyncio

from tokportal_async import AsyncTokPortal, PolicyAcceptanceRequiredError, PolicyTerms
from tokportal_async.sandbox import Sandbox


def owner_agrees(terms: PolicyTerms) -> bool:
    """Ask a human. Here the example says yes; your code must really ask."""
    print(f"terms {terms.policy_version}: costs {terms.expected_credit_cost} credits")
    return True


async def main() -> None:
    async with (
        Sandbox(accounts=250) as sandbox,
        AsyncTokPortal(sandbox.api_key, base_url=sandbox.base_url) as tp,
    ):
        page = await tp.accounts.list(platform="tiktok", per_page=5)
        print(f"{page.pagination.total} TikTok accounts; the first {len(page)}:")
        for account in page:
            print(f"  {account.username:<24} {account.country}  {account.profile_url}")

        detail = await tp.accounts.get(page[0].id)  # metadata only: no passwords
        print(f"\n{detail.username}: banned={detail.banned}, credentials={detail.credentials}")

        try:
            credentials = await tp.accounts.reveal_credentials(detail.id)
        except PolicyAcceptanceRequiredError as error:
            if not owner_agrees(error.terms):
                return
            credentials = await tp.accounts.reveal_credentials(
                detail.id, accept_policy=error.terms.policy_version
            )
        print(f"revealed: {credentials!r}\n")  # passwords show as '***' in reprs

        open_slots = 0
        async for bundle in tp.accounts.iter_bundles(detail.id):
            open_slots += bundle.open_slots
        print(f"{open_slots} free video slots across {detail.username}'s bundles")

        total = 0
        async for _account in tp.accounts.iter():
            total += 1
        print(f"iterated {total} accounts, page by page")

        async for ban in tp.account_bans.iter(resolution="pending"):
            print(f"ban pending for {ban.username}: {ban.status}")


if __name__ == "__main__":
    asyncio.run(main())
