"""Shared fixtures: a real sandbox on loopback and clients pointed at it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio

from tokportal_async import AsyncTokPortal
from tokportal_async.sandbox import Sandbox

from .drivers import KINDS, Driver, make_driver
from .redis_server import redis_server

SAMPLES = Path(__file__).parent / "samples"


@pytest.fixture
def anyio_backend() -> str:
    # aiohttp runs on asyncio only.
    return "asyncio"


@pytest.fixture(autouse=True)
def _no_environment_leaks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never pick up a developer's real key or base URL."""
    monkeypatch.delenv("TOKPORTAL_API_KEY", raising=False)
    monkeypatch.delenv("TOKPORTAL_BASE_URL", raising=False)


@pytest.fixture
async def sandbox() -> AsyncIterator[Sandbox]:
    async with Sandbox(accounts=250) as running:
        yield running


@pytest.fixture
async def tp(sandbox: Sandbox) -> AsyncIterator[AsyncTokPortal]:
    async with AsyncTokPortal(sandbox.api_key, base_url=sandbox.base_url) as client:
        yield client


@pytest.fixture(params=KINDS)
def client(request: pytest.FixtureRequest, sandbox: Sandbox) -> Iterator[Driver]:
    """Each client in turn (async, then the blocking facade), on the module's sandbox."""
    driver = make_driver(request.param, **sandbox.client_kwargs())
    yield driver
    driver.close()


def sample(name: str) -> bytes:
    """A response body from the original Accounts page, verbatim."""
    return (SAMPLES / f"{name}.json").read_bytes()


def client_for(sandbox: Sandbox, **kwargs: Any) -> AsyncTokPortal:
    return AsyncTokPortal(sandbox.api_key, base_url=sandbox.base_url, **kwargs)


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """One real redis-server for the module's tests."""
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@pytest.fixture
async def fresh_redis(redis_url: str) -> str:
    """The module's redis-server, emptied for this test."""
    client = redis.asyncio.Redis.from_url(redis_url)
    await client.flushall()
    await client.aclose()
    return redis_url
