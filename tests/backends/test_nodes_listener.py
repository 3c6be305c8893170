"""Two real nodes sharing S3 (moto) and Redis, on the functions listener: a function deployed on A
answers on B's listener by name, its logs reach a tail opened on A, its run lands in the one
history and in B's metrics, and a new version deployed on A is what B serves at once (A tells B
over Redis)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import aiohttp
import orjson
import pytest

from tests.backends.conftest import MotoS3, RedisServer, call, s3_env
from tests.server import ServerProcess
from vortex.functions import POINTER_FRESH_FOR
from vortex.isolates.route import ROUTE_FRESH_FOR

pytestmark = pytest.mark.slow

MODULE = """export default {
  async fetch(request) {
    console.log("version %d saw", request.url);
    return Response.json({ version: %d, url: request.url });
  },
};
"""


async def deploy(client: aiohttp.ClientSession, node: ServerProcess, version: int) -> str:
    body = await call(
        client,
        "POST",
        f"{node.url}/deploy",
        json={"code": MODULE % (version, version), "filename": "index.mjs", "name": "hello"},
    )
    return str(body["function_id"])


async def test_deployed_on_a_served_by_bs_listener(
    server_factory: Callable[..., ServerProcess],
    moto_factory: Callable[[], MotoS3],
    bucket: str,
    redis_server: RedisServer,
    client: aiohttp.ClientSession,
) -> None:
    moto = moto_factory()
    env = s3_env(moto, bucket, REDIS_ADDR=redis_server.addr)
    a, b = server_factory(env, workers=1), server_factory(env, workers=1)
    first = await deploy(client, a, 1)
    url = f"http://hello.localhost:{b.functions_port}/api/items?q=1"

    async with client.ws_connect(f"{a.ws_url}/ws/{first}") as tail:
        async with client.get(url) as response:
            assert response.status == 200
            assert await response.json() == {"version": 1, "url": url}
            run_id = response.headers["x-vortex-run-id"]
        async with asyncio.timeout(10):
            while True:
                message = await tail.receive()
                assert message.type == aiohttp.WSMsgType.TEXT, message
                line = orjson.loads(message.data)
                if line.get("run_id") == run_id:
                    break
        assert line["message"] == f"version 1 saw {url}"

    # B's hosts send their run records in batches: the shared history has the run soon.
    deadline = time.monotonic() + 10
    while True:
        runs = (await call(client, "GET", f"{a.url}/functions/hello/runs"))["runs"]
        if any(run["run_id"] == run_id for run in runs):
            break
        assert time.monotonic() < deadline, runs
        await asyncio.sleep(0.1)
    async with client.get(f"{b.url}/metrics") as response:
        metrics = await response.text()
    series = f'vortex_runs_total{{function="{first}",name="hello",outcome="ok"}} 1.0'
    assert series in metrics.splitlines()

    # A new version on A: A tells B over Redis, and B's listener serves it at once, well before
    # its copies of the name would expire (POINTER_FRESH_FOR, ROUTE_FRESH_FOR).
    async with client.get(url) as response:  # B's copies are fresh now
        assert (await response.json())["version"] == 1
    await deploy(client, a, 2)
    deployed_at = time.monotonic()
    while True:
        async with client.get(url) as response:
            if (await response.json())["version"] == 2:
                break
        assert time.monotonic() - deployed_at < min(POINTER_FRESH_FOR, ROUTE_FRESH_FOR) - 0.5
        await asyncio.sleep(0.02)
    print(f"\nB served version 2 {time.monotonic() - deployed_at:.3f} s after A's deploy")


async def test_a_route_claimed_on_a_is_served_by_bs_listener(
    server_factory: Callable[..., ServerProcess],
    moto_factory: Callable[[], MotoS3],
    bucket: str,
    redis_server: RedisServer,
    client: aiohttp.ClientSession,
) -> None:
    moto = moto_factory()
    env = s3_env(moto, bucket, REDIS_ADDR=redis_server.addr)
    a, b = server_factory(env, workers=1), server_factory(env, workers=1)

    async def claim(name: str, version: int, routes: list[str]) -> None:
        code = MODULE % (version, version)
        body = {"code": code, "filename": "index.mjs", "name": name, "routes": routes}
        await call(client, "POST", f"{a.url}/deploy", json=body)

    async def on_b(path: str) -> tuple[int, dict[str, object]]:
        url = f"http://127.0.0.1:{b.functions_port}{path}"
        async with client.get(url, headers={"Host": "api.example.com"}) as response:
            return response.status, await response.json()

    await claim("api", 1, ["api.example.com/*"])
    assert await on_b("/v1/items?q=1") == (
        200,
        {"version": 1, "url": "http://api.example.com/v1/items?q=1"},
    )
    # Another function claims /v2/* on A: B's hosts, told over Redis, ask again at once.
    assert (await on_b("/v2/x"))[1]["version"] == 1
    await claim("v2", 2, ["api.example.com/v2/*"])
    claimed_at = time.monotonic()
    while (await on_b("/v2/x"))[1].get("version") != 2:
        assert time.monotonic() - claimed_at < min(POINTER_FRESH_FOR, ROUTE_FRESH_FOR) - 0.5
        await asyncio.sleep(0.02)
    assert (await on_b("/v1/x"))[1]["version"] == 1
    # A delete on A releases the claim everywhere.
    await call(client, "DELETE", f"{a.url}/functions/api")
    deleted_at = time.monotonic()
    while (await on_b("/v1/x"))[0] != 404:
        assert time.monotonic() - deleted_at < min(POINTER_FRESH_FOR, ROUTE_FRESH_FOR) - 0.5
        await asyncio.sleep(0.02)
    assert (await on_b("/v2/x"))[1]["version"] == 2
