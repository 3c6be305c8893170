"""Helpers of the D1 tests: deploy an app (tests/d1/apps.py) under a fresh name bound to a
fresh database, so tests sharing the session's server never see each other's rows."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from tests.d1.apps import USERS
from tests.server import ServerProcess


@dataclass
class App:
    name: str
    database: str
    url: Callable[[str], str]


async def deploy_app(
    http: aiohttp.ClientSession,
    server: ServerProcess,
    code: str = USERS,
    database: str | None = None,
    binding: str = "DB",
    headers: dict[str, str] | None = None,
) -> App:
    name = f"d1-{uuid.uuid4().hex[:10]}"
    database = database or f"db-{uuid.uuid4().hex[:10]}"
    body = {
        "code": code,
        "filename": "index.mjs",
        "name": name,
        "d1_databases": [{"binding": binding, "database_name": database}],
    }
    async with http.post("/deploy", json=body, headers=headers or {}) as response:
        assert response.status == 200, await response.text()
    return App(name, database, lambda path: server.fn_url(name, path))


@pytest.fixture
def app_factory(
    http: aiohttp.ClientSession, server: ServerProcess
) -> Callable[..., Awaitable[App]]:
    async def make(code: str = USERS, database: str | None = None, binding: str = "DB") -> App:
        return await deploy_app(http, server, code, database, binding)

    return make


async def call(
    client: aiohttp.ClientSession, method: str, url: str, status: int = 200, **kw: Any
) -> Any:
    async with client.request(method, url, **kw) as response:
        body = await response.json()
        assert response.status == status, body
        return body
