"""Two real nodes sharing S3 (moto) and Redis: a name deployed and rolled back on A is run by B
within the pointer's cache time, warm runs by name do not read S3, and both nodes' runs land in
one shared history."""

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


async def test_rollback_on_a_reaches_b_and_history_is_shared(
    server_factory: Callable[..., ServerProcess],
    moto_factory: Callable[[], MotoS3],
    bucket: str,
    redis_server: RedisServer,
    client: aiohttp.ClientSession,
) -> None:
    moto = moto_factory()
    env = s3_env(moto, bucket, REDIS_ADDR=redis_server.addr)
    a, b = server_factory(env, workers=1), server_factory(env, workers=1)
    for n in (1, 2):
        await call(
            client,
            "POST",
            f"{a.url}/deploy",
            json={"code": f"Vortex.return({n});", "name": "hello"},
        )
    assert (await call(client, "POST", f"{b.url}/execute/hello"))["output"] == 2

    # Warm by name on B: neither the pointer nor the record is read again within the cache time.
    before = len(moto.requests)
    assert (await call(client, "POST", f"{b.url}/execute/hello"))["output"] == 2
    assert moto.requests[before:] == []

    await call(client, "POST", f"{a.url}/functions/hello/rollback")
    rolled_back_at = time.monotonic()
    while (await call(client, "POST", f"{b.url}/execute/hello"))["output"] != 1:
        assert time.monotonic() - rolled_back_at < POINTER_FRESH_FOR + 1.0, "B never rolled back"
        await asyncio.sleep(0.1)
    assert (await call(client, "GET", f"{b.url}/functions/hello/versions"))["active"] == 1

    # One history for both nodes (Redis): A sees B's runs, newest first.
    runs = (await call(client, "GET", f"{a.url}/functions/hello/runs"))["runs"]
    assert runs[0]["version"] == 1 and runs[-1]["version"] == 2
    assert len(runs) >= 3

    # Deleted on A: gone on B once its pointer copy expires; the history goes too.
    await call(client, "DELETE", f"{a.url}/functions/hello")
    await asyncio.sleep(POINTER_FRESH_FOR + 0.2)
    async with client.post(f"{b.url}/execute/hello") as response:
        assert response.status == 404
    assert redis_server.client().keys("vortex:runs:*") == []
