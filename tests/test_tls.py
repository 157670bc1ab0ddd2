"""TLS: certificates are verified by default; a client that trusts the CA connects."""

from __future__ import annotations

import logging
import ssl
from collections.abc import AsyncIterator

import aiohttp
import pytest
import trustme

from tokportal_async import APICertificateError, APIConnectionError, AsyncTokPortal
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


async def test_https_to_a_server_that_speaks_http_says_so_and_is_not_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="tokportal_async")
    async with Sandbox(accounts=2) as sandbox:
        https_url = sandbox.base_url.replace("http://", "https://")
        async with AsyncTokPortal(sandbox.api_key, base_url=https_url) as tp:
            with pytest.raises(APIConnectionError) as caught:
                await tp.accounts.list()
    error = caught.value
    assert not isinstance(error, APICertificateError)  # no certificate was involved
    assert "does not speak TLS; is the URL http?" in str(error)
    assert "WRONG_VERSION_NUMBER" in str(error)
    assert "ClientConnectorSSLError" not in str(error)
    assert error.retryable is False
    assert error.request_sent is False
    assert not [r for r in caplog.records if r.getMessage().startswith("Retrying")]


async def test_an_untrusted_certificate_says_why_in_words(https_sandbox: Sandbox) -> None:
    async with AsyncTokPortal(https_sandbox.api_key, base_url=https_sandbox.base_url) as tp:
        with pytest.raises(APICertificateError) as caught:
            await tp.accounts.list()
    assert "certificate is not trusted" in str(caught.value)
    assert "certificate" in caught.value.message
