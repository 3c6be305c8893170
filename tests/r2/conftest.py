"""Helpers of the R2 tests: deploy the uploads app (tests/r2/apps.py) under a fresh name with
a fresh bucket, so tests sharing the session's server never see each other's objects."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import aiohttp
import pytest

from tests.r2.apps import UPLOADS
from tests.server import ServerProcess


@dataclass
class App:
    name: str
    bucket: str
    url: Callable[[str], str]


async def deploy_app(
    http: aiohttp.ClientSession,
    server: ServerProcess,
    code: str = UPLOADS,
    bucket: str | None = None,
    headers: dict[str, str] | None = None,
) -> App:
    name = f"r2-{uuid.uuid4().hex[:10]}"
    bucket = bucket or f"b-{uuid.uuid4().hex[:10]}"
    body = {
        "code": code,
        "filename": "index.mjs",
        "name": name,
        "r2_buckets": [{"binding": "BUCKET", "bucket_name": bucket}],
    }
    async with http.post("/deploy", json=body, headers=headers or {}) as response:
        assert response.status == 200, await response.text()
    return App(name, bucket, lambda path: server.fn_url(name, path))


@pytest.fixture
def app_factory(
    http: aiohttp.ClientSession, server: ServerProcess
) -> Callable[..., Awaitable[App]]:
    async def make(code: str = UPLOADS, bucket: str | None = None) -> App:
        return await deploy_app(http, server, code, bucket)

    return make


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        yield session
