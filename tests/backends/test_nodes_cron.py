"""Cron triggers on two real nodes sharing S3 (moto) and Redis: a tick runs on exactly one of
them, a module's ``scheduled`` handler gets its event and its KV, a script runs whole, the run is
in the shared history with ``trigger: "cron"``, and only a name's active version is scheduled.

The tick is a real minute of the wall clock: the test waits for one (at most about a minute)."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from tests.backends.conftest import MotoS3, RedisServer, call, s3_env
from tests.server import ServerProcess

pytestmark = pytest.mark.slow

TICKER = """
export default {
  async scheduled(event, env, ctx) {
    const n = Number((await env.KV.get("ticks")) ?? 0) + 1;
    await env.KV.put("ticks", String(n));
    ctx.waitUntil(env.KV.put("last", String(event.scheduledTime)));
    console.log("tick", n, event.type, event.cron, event.scheduledTime);
  },
  async fetch(request, env) {
    return Response.json({ ticks: await env.KV.get("ticks"), last: await env.KV.get("last") });
  },
};
"""


async def cron_runs(client: aiohttp.ClientSession, node: ServerProcess, ref: str) -> list[Any]:
    runs = (await call(client, "GET", f"{node.url}/functions/{ref}/runs"))["runs"]
    return [run for run in runs if run["trigger"] == "cron"]


def ticks_counted(metrics: str, result: str) -> float:
    found = re.search(rf'vortex_cron_ticks_total\{{result="{result}"\}} ([0-9.]+)', metrics)
    assert found is not None, metrics
    return float(found.group(1))


async def test_each_tick_runs_once_across_two_nodes(
    server_factory: Callable[..., ServerProcess],
    moto_factory: Callable[[], MotoS3],
    bucket: str,
    redis_server: RedisServer,
    client: aiohttp.ClientSession,
) -> None:
    moto = moto_factory()
    env = s3_env(moto, bucket, REDIS_ADDR=redis_server.addr, VORTEX_CRON_REFRESH_MS="300")
    a, b = server_factory(env, workers=1), server_factory(env, workers=1)

    # Both nodes must have read the schedules before the tick: keep clear of the boundary.
    if time.time() % 60 > 50:
        await asyncio.sleep(61 - time.time() % 60)
    deploy = f"{a.url}/deploy"
    every_minute = "* * * * *"
    await call(
        client,
        "POST",
        deploy,
        json={"code": TICKER, "filename": "ticker.mjs", "name": "ticker", "schedule": every_minute},
    )
    await call(
        client,
        "POST",
        f"{b.url}/deploy",
        json={"code": 'console.log("script tick");', "name": "sweeper", "schedule": every_minute},
    )
    # A name whose active version has no schedule is not run, whatever older versions had (a
    # new version keeps the schedule unless its deploy clears it: docs/versions.md).
    await call(client, "POST", deploy, json={"code": "1", "name": "off", "schedule": every_minute})
    await call(client, "POST", deploy, json={"code": "2", "name": "off", "schedule": None})
    tick = (int(time.time()) // 60 + 1) * 60

    deadline = tick + 30
    while not (await cron_runs(client, a, "ticker") and await cron_runs(client, b, "sweeper")):
        assert time.time() < deadline, "no cron run within 30 s of the tick"
        await asyncio.sleep(0.5)
    await asyncio.sleep(1.0)  # a second run of the same tick, if there were one, has started
    assert time.time() < tick + 55, "the check must finish before the next tick"

    ticker_runs = await cron_runs(client, b, "ticker")
    assert len(ticker_runs) == 1, ticker_runs
    run = ticker_runs[0]
    assert run["ok"] is True and run["version"] == 1
    detail = await call(client, "GET", f"{a.url}/functions/ticker/runs/{run['run_id']}")
    assert [line["message"] for line in detail["logs"]] == [
        f"tick 1 scheduled {every_minute} {tick * 1000}"
    ]
    # Node b's functions listener serves what node a's cron wrote to the shared KV.
    async with client.get(b.fn_url("ticker", "/")) as response:
        assert await response.json() == {"ticks": "1", "last": str(tick * 1000)}

    sweeper_runs = await cron_runs(client, a, "sweeper")
    assert len(sweeper_runs) == 1
    detail = await call(
        client, "GET", f"{b.url}/functions/sweeper/runs/{sweeper_runs[0]['run_id']}"
    )
    assert [line["message"] for line in detail["logs"]] == ["script tick"]

    assert await cron_runs(client, a, "off") == []

    # Every tick claimed once: two fired in all, and each seen as taken by the other node.
    texts = [await (await client.get(f"{node.url}/metrics")).text() for node in (a, b)]
    assert sum(ticks_counted(text, "fired") for text in texts) == 2
    assert sum(ticks_counted(text, "claimed_elsewhere") for text in texts) == 2
    assert redis_server.client().keys("vortex:cron:*")
