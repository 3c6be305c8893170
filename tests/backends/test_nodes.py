"""Two real ``vortex serve`` nodes sharing S3 (moto) and Redis: deploy on A, run on B, watch on
A; then the faults: S3 gone, Redis gone and back."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson
import pytest

from tests.backends.conftest import MotoS3, RedisServer, bucket_keys, s3_client, s3_env
from tests.server import ServerProcess
from vortex.storage.s3 import code_key, record_key

CODE = """console.log("hello from", "vortex");
await new Promise((resolve) => setTimeout(resolve, 1));
console.warn("careful");
Vortex.return({ sum: [1, 2, 3].reduce((a, b) => a + b, 0) });
"""
WARM_RUNS = 50

pytestmark = pytest.mark.slow


def node_env(moto: MotoS3, bucket: str, redis_server: RedisServer) -> dict[str, str]:
    return s3_env(moto, bucket, REDIS_ADDR=redis_server.addr)


async def deploy(client: aiohttp.ClientSession, node: ServerProcess, code: str = CODE) -> str:
    async with client.post(f"{node.url}/deploy", json={"code": code}) as response:
        body = await response.json()
        assert response.status == 200, body
        return str(body["function_id"])


async def execute(
    client: aiohttp.ClientSession, node: ServerProcess, function_id: str, run_id: str
) -> dict[str, Any]:
    async with client.post(
        f"{node.url}/execute/{function_id}", headers={"X-Vortex-Run-Id": run_id}
    ) as response:
        body: dict[str, Any] = await response.json()
        assert response.status == 200, body
        assert "error" not in body, body
        assert body["output"] == {"sum": 6}
        assert [line["message"] for line in body["logs"]] == ["hello from vortex", "careful"]
        return body


async def health(client: aiohttp.ClientSession, node: ServerProcess) -> dict[str, Any]:
    async with client.get(f"{node.url}/health") as response:
        assert response.status == 200
        body: dict[str, Any] = await response.json()
        return body


async def receive_until(
    ws: aiohttp.ClientWebSocketResponse,
    done: Callable[[dict[str, Any]], bool],
    within: float = 10.0,
) -> list[dict[str, Any]]:
    """Messages of the WebSocket up to and including the first one ``done`` accepts."""
    seen: list[dict[str, Any]] = []
    async with asyncio.timeout(within):
        while True:
            message = await ws.receive()
            assert message.type == aiohttp.WSMsgType.TEXT, message
            seen.append(orjson.loads(message.data))
            if done(seen[-1]):
                return seen


def of_run(run_id: str, count: int) -> Callable[[dict[str, Any]], bool]:
    got = 0

    def done(message: dict[str, Any]) -> bool:
        nonlocal got
        got += message.get("run_id") == run_id
        return got == count

    return done


def notice(code: str) -> Callable[[dict[str, Any]], bool]:
    return lambda message: message.get("type") == "notice" and message.get("code") == code


async def test_deploy_on_a_run_on_b_watch_on_a(
    server_factory: Callable[..., ServerProcess],
    moto_factory: Callable[[], MotoS3],
    bucket: str,
    redis_server: RedisServer,
    client: aiohttp.ClientSession,
) -> None:
    moto = moto_factory()
    env = node_env(moto, bucket, redis_server)
    node_a = server_factory(env, workers=1)
    node_b = server_factory(env, workers=1)
    for node in (node_a, node_b):
        body = await health(client, node)
        assert body["status"] == "healthy", body
        assert body["storage"] == {
            "backend": "s3",
            "ok": True,
            "bucket": bucket,
            "endpoint": f"http://127.0.0.1:{moto.port}",
        }
        assert body["logbus"]["backend"] == "redis" and body["logbus"]["ok"] is True
        for component in ("kv", "auth"):
            where = f"redis://127.0.0.1:{redis_server.port}"  # without the database number
            assert body[component] == {"backend": "redis", "ok": True, "url": where}

    function_id = await deploy(client, node_a)
    async with client.ws_connect(f"{node_a.ws_url}/ws/{function_id}") as ws:
        # Cold on B: B has never seen the function; it reads record and code from S3, once.
        before = len(moto.requests)
        started = time.perf_counter()
        cold = await execute(client, node_b, function_id, "cold")
        cold_ms = (time.perf_counter() - started) * 1000
        cold_requests = moto.requests[before:]
        code_path = f"/{bucket}/{code_key(cold_sha(moto, bucket, function_id))}"
        assert [(r.method, r.path) for r in cold_requests if "/code/" in r.path] == [
            ("GET", code_path)
        ]
        assert [(r.method, r.path) for r in cold_requests if "/functions/" in r.path] == [
            ("GET", f"/{bucket}/{record_key(function_id)}")
        ]

        lines = await receive_until(ws, of_run("cold", 2))
        assert [m["message"] for m in lines] == ["hello from vortex", "careful"]
        assert [m["level"] for m in lines] == ["log", "warn"]
        assert all(set(m) == {"level", "message", "timestamp", "run_id"} for m in lines)
        assert lines == [{**entry, "run_id": "cold"} for entry in cold["logs"]]

        # Warm on B: served from B's memory; S3 sees nothing at all.
        before = len(moto.requests)
        wall: list[float] = []
        server_side: list[float] = []
        for n in range(WARM_RUNS):
            started = time.perf_counter()
            body = await execute(client, node_b, function_id, f"warm-{n}")
            wall.append((time.perf_counter() - started) * 1000)
            server_side.append(body["execution_time_ms"])
        assert moto.requests[before:] == []
        await receive_until(ws, of_run(f"warm-{WARM_RUNS - 1}", 2))

        # And the proof by absence: with S3 gone, B still runs the function.
        moto.stop()
        await execute(client, node_b, function_id, "s3-gone")
        await receive_until(ws, of_run("s3-gone", 2))

    wall.sort()
    print(
        f"\nnode B cold run: {cold_ms:.1f} ms client wall "
        f"(execution_time_ms {cold['execution_time_ms']}; {len(cold_requests)} S3 requests)"
        f"\nnode B warm runs ({WARM_RUNS}): client wall p50 {statistics.median(wall):.2f} ms, "
        f"p95 {wall[int(0.95 * len(wall)) - 1]:.2f} ms, min {wall[0]:.2f} ms; "
        f"execution_time_ms p50 {statistics.median(server_side):.2f}; 0 S3 requests"
    )


def cold_sha(moto: MotoS3, bucket: str, function_id: str) -> str:
    """The code hash from the record in the bucket (read through boto3, not through a node)."""
    record = s3_client(moto).get_object(Bucket=bucket, Key=record_key(function_id))
    return str(orjson.loads(record["Body"].read())["code_sha256"])


async def test_s3_down_deploy_fails_fast_and_cached_code_still_runs(
    server_factory: Callable[..., ServerProcess],
    moto: MotoS3,
    moto_factory: Callable[[], MotoS3],
    bucket: str,
    redis_server: RedisServer,
    client: aiohttp.ClientSession,
) -> None:
    private = moto_factory()
    env = node_env(private, bucket, redis_server)
    node_a = server_factory(env, workers=1)
    node_b = server_factory(env, workers=1)
    function_id = await deploy(client, node_a)
    await execute(client, node_b, function_id, "warm-up")
    stored = bucket_keys(moto, bucket)
    # The code and the record, besides the keys of the function index.
    assert len([key for key in stored if not key.startswith("index/")]) == 2

    private.stop()
    started = time.monotonic()
    async with client.post(
        f"{node_a.url}/deploy", json={"code": "Vortex.return('new')"}
    ) as response:
        body = await response.json()
    elapsed = time.monotonic() - started
    assert response.status == 503, body
    assert body["error"]["code"] == "storage_unavailable"
    assert elapsed < 5, elapsed
    # Nothing of the failed deploy was written: the bucket (read through the other moto
    # server, which shares moto's backend) holds exactly what it held.
    assert bucket_keys(moto, bucket) == stored

    # Code both nodes have cached still runs, on both.
    await execute(client, node_b, function_id, "b-without-s3")
    await execute(client, node_a, function_id, "a-without-s3")

    status = await health(client, node_a)
    assert status["status"] == "degraded"
    assert status["storage"]["ok"] is False and "unreachable" in status["storage"]["error"]
    assert status["logbus"]["ok"] is True
    assert status["active_workers"] == status["max_workers"]


async def test_redis_down_runs_go_on_subscribers_are_told_and_tail_resumes(
    server_factory: Callable[..., ServerProcess],
    moto: MotoS3,
    bucket: str,
    redis_factory: Callable[[], RedisServer],
    client: aiohttp.ClientSession,
) -> None:
    redis_server = redis_factory()
    # The API keys live in Redis too, and the API fails closed once its last look at them is
    # older than VORTEX_AUTH_CACHE_MS (tests/auth/test_middleware.py::test_store_outage_is_503):
    # a long cache here, so that what is seen is the runs, the bus and the KV.
    env = {**node_env(moto, bucket, redis_server), "VORTEX_AUTH_CACHE_MS": "60000"}
    node_a = server_factory(env, workers=1)
    node_b = server_factory(env, workers=1)
    function_id = await deploy(client, node_a)
    async with client.ws_connect(f"{node_a.ws_url}/ws/{function_id}") as ws:
        await execute(client, node_b, function_id, "before")
        await receive_until(ws, of_run("before", 2))

        redis_server.stop()
        [down] = await receive_until(ws, notice("logbus_unavailable"), within=10)
        assert down["level"] == "warn" and "Redis" in down["message"]

        # Runs go on, with their logs in the response.
        during = await execute(client, node_b, function_id, "during")
        assert len(during["logs"]) == 2
        status = await health(client, node_b)
        assert status["status"] == "degraded"
        assert status["logbus"]["ok"] is False
        assert status["storage"]["ok"] is True
        # The KV keeps its last answer a few seconds (vortex/kv/redis.py, HEALTH_EVERY).
        deadline = time.monotonic() + 10
        while status["kv"]["ok"] or status["auth"]["ok"]:
            assert time.monotonic() < deadline, status
            await asyncio.sleep(0.2)
            status = await health(client, node_b)
        assert status["kv"]["backend"] == status["auth"]["backend"] == "redis"
        assert "unreachable" in status["auth"]["error"], status

        redis_server.start()
        await receive_until(ws, notice("logbus_restored"), within=15)
        await execute(client, node_b, function_id, "after")
        # B's publisher may still be backing off: its queued lines leave when it reconnects.
        await receive_until(ws, of_run("after", 2), within=15)
        assert not ws.closed

    for node in (node_a, node_b):
        deadline = time.monotonic() + 15
        while (status := await health(client, node))["status"] != "healthy":
            assert time.monotonic() < deadline, status
            await asyncio.sleep(0.1)
