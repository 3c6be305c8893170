"""Service bindings across two real nodes sharing S3 (moto) and Redis: a gateway served by B's
listener calls an auth service deployed on A, the target's run lands in the one history, and a
new version of the target deployed on A is what B's binding calls at once (A tells B over
Redis, well before B's copy of the name would expire)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import aiohttp
import pytest

from tests.backends.conftest import MotoS3, RedisServer, call, s3_env
from tests.server import ServerProcess
from vortex.functions import POINTER_FRESH_FOR

pytestmark = pytest.mark.slow

AUTH = "export default { fetch: (request) => Response.json({ version: %d, url: request.url }) };"
GATEWAY = """export default {
  async fetch(request, env) {
    try {
      const res = await env.AUTH.fetch(request);
      const headers = new Headers(res.headers);
      headers.set('x-via', 'gateway');
      return new Response(res.body, { status: res.status, headers });
    } catch (e) {
      return Response.json({ code: e.code }, { status: 502 });
    }
  },
};
"""


async def deploy(
    client: aiohttp.ClientSession, node: ServerProcess, name: str, code: str, **extra: object
) -> None:
    body = {"code": code, "filename": "index.mjs", "name": name, **extra}
    await call(client, "POST", f"{node.url}/deploy", json=body)


async def test_a_binding_on_b_calls_the_target_deployed_on_a(
    server_factory: Callable[..., ServerProcess],
    moto_factory: Callable[[], MotoS3],
    bucket: str,
    redis_server: RedisServer,
    client: aiohttp.ClientSession,
) -> None:
    moto = moto_factory()
    env = s3_env(moto, bucket, REDIS_ADDR=redis_server.addr)
    a, b = server_factory(env, workers=1), server_factory(env, workers=1)
    await deploy(client, a, "gateway", GATEWAY, services=[{"binding": "AUTH", "service": "auth"}])
    url = f"http://gateway.localhost:{b.functions_port}/login"

    # Not deployed yet: B says so, and does not keep the miss.
    async with client.get(url) as response:
        assert response.status == 502
        assert await response.json() == {"code": "service_not_found"}
    await deploy(client, a, "auth", AUTH % 1)
    async with client.get(url) as response:
        assert response.status == 200
        assert response.headers["x-via"] == "gateway"
        assert await response.json() == {"version": 1, "url": url}

    # The target ran on B; its run is in the history A reads.
    deadline = time.monotonic() + 10
    while not (runs := (await call(client, "GET", f"{a.url}/functions/auth/runs"))["runs"]):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)
    assert [run["trigger"] for run in runs] == ["service:gateway"]

    await deploy(client, a, "auth", AUTH % 2)
    deployed_at = time.monotonic()
    while True:
        async with client.get(url) as response:
            if (await response.json())["version"] == 2:
                break
        assert time.monotonic() - deployed_at < POINTER_FRESH_FOR - 0.5
        await asyncio.sleep(0.02)
