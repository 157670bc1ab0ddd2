"""The blocking facade: the same API as AsyncTokPortal, with no await, against the sandbox.

Run: python examples/sync_quickstart.py
"""

from tokportal_async import PolicyAcceptanceRequiredError, TokPortal, VerificationCodeNotFoundError
from tokportal_async.sandbox import serve_in_thread


def main() -> None:
    with (
        serve_in_thread(accounts=250) as sandbox,
        TokPortal(sandbox.api_key, base_url=sandbox.base_url) as tp,
    ):
        page = tp.accounts.list(platform="instagram", per_page=3)
        print(f"{page.pagination.total} Instagram accounts; the first {len(page)}:")
        for account in page:
            print(f"  {account.username:<24} {account.country}")

        detail = tp.accounts.get(page[0].id)
        total = sum(1 for _ in tp.accounts.iter())  # one request per page of 100
        print(f"iterated {total} accounts, page by page")

        sandbox.state.trigger_verification_code(detail.id, delay=0.5)
        try:
            tp.accounts.verification_code(detail.id)
        except PolicyAcceptanceRequiredError as error:
            # A real program shows error.terms to the account owner and asks first.
            version = error.terms.policy_version
            print(f"accepting terms {version} ({error.terms.expected_credit_cost} credits)")
        else:
            version = None
        try:
            code = tp.accounts.wait_for_verification_code(
                detail.id, timeout=10, interval=0.2, accept_policy=version
            )
        except VerificationCodeNotFoundError as error:
            print(f"no code: {error}")
        else:
            print(f"a {len(code.verification_code or '')}-digit code arrived from {code.source}")


if __name__ == "__main__":
    main()
