"""TLS: certificates are verified by default; a client that trusts the CA connects."""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator

import aiohttp
import pytest
import trustme

from tokportal_async import APIConnectionError, AsyncTokPortal
from tokportal_async.sandbox import Sandbox

pytestmark = pytest.mark.anyio


@pytest.fixture(scope="module")
def authority() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
async def https_sandbox(authority: trustme.CA) -> AsyncIterator[Sandbox]:
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("127.0.0.1").configure_cert(server_context)
    async with Sandbox(accounts=5, ssl_context=server_context) as sandbox:
        yield sandbox


async def test_untrusted_certificate_is_refused_and_not_retried(
    https_sandbox: Sandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="tokportal_async")
    assert https_sandbox.base_url.startswith("https://")
    async with AsyncTokPortal(https_sandbox.api_key, base_url=https_sandbox.base_url) as tp:
        with pytest.raises(APIConnectionError) as caught:
            await tp.accounts.list()
    assert isinstance(caught.value.__cause__, aiohttp.ClientConnectorCertificateError)
    assert len(https_sandbox.state.requests) == 0  # no HTTP request crossed the handshake
    assert not [r for r in caplog.records if r.getMessage().startswith("Retrying")]


async def test_a_session_that_trusts_the_authority_connects(
    https_sandbox: Sandbox, authority: trustme.CA
) -> None:
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    connector = aiohttp.TCPConnector(ssl=client_context)
    async with (
        aiohttp.ClientSession(connector=connector) as session,
        AsyncTokPortal(
            https_sandbox.api_key, base_url=https_sandbox.base_url, session=session
        ) as tp,
    ):
        page = await tp.accounts.list()
    assert len(page) == 5
