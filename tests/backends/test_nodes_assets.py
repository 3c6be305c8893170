"""Static assets on two real nodes sharing S3 (moto) and Redis: a site deployed on A is served
by B's listener, env.ASSETS included, and a rollback on A brings back v1's files on B."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import aiohttp
import pytest

from tests.assets.site import SITE, deploy_site
from tests.backends.conftest import MotoS3, RedisServer, call, s3_env
from tests.server import ServerProcess
from vortex.isolates.route import ROUTE_FRESH_FOR

pytestmark = pytest.mark.slow


async def _get(client: aiohttp.ClientSession, url: str) -> tuple[int, bytes]:
    async with client.get(url, allow_redirects=False) as response:
        return response.status, await response.read()


async def _eventually(client: aiohttp.ClientSession, url: str, want: bytes) -> None:
    deadline = time.monotonic() + ROUTE_FRESH_FOR + 5
    while True:
        status, body = await _get(client, url)
        if body == want or time.monotonic() > deadline:
            assert (status, body) == (200, want)
            return
        await asyncio.sleep(0.1)


async def test_a_site_deployed_on_a_is_served_by_b(
    server_factory: Callable[..., ServerProcess],
    moto: MotoS3,
    bucket: str,
    redis_server: RedisServer,
    client: aiohttp.ClientSession,
) -> None:
    env = s3_env(moto, bucket, REDIS_ADDR=redis_server.addr)
    a, b = server_factory(env, workers=1), server_factory(env, workers=1)
    async with aiohttp.ClientSession(base_url=a.url) as on_a:
        await deploy_site(on_a, "site", {**SITE, "/v.txt": b"v1"}, not_found_handling="404-page")
        await deploy_site(on_a, "site", {**SITE, "/v.txt": b"v2"}, not_found_handling="404-page")
    url = b.fn_url
    assert await _get(client, url("site", "/")) == (200, SITE["/index.html"])
    assert await _get(client, url("site", "/blog/first")) == (200, SITE["/blog/first.html"])
    assert await _get(client, url("site", "/via-binding")) == (
        200,
        b"binding:200:" + SITE["/about.html"],
    )
    assert await _get(client, url("site", "/nope/x")) == (404, SITE["/404.html"])
    assert await _get(client, url("site", "/v.txt")) == (200, b"v2")
    await call(client, "POST", f"{a.url}/functions/site/rollback", json={"to": 1})
    await _eventually(client, url("site", "/v.txt"), b"v1")
