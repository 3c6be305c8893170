"""Limits: each one ends a run with its own stable code, and the platform stays healthy."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

import aiohttp

from tests.gate import GATE_ENV, Gate
from tests.server import ServerProcess

Run = Callable[[str], Awaitable[dict[str, Any]]]
Execute = Callable[[str], Coroutine[Any, Any, dict[str, Any]]]


async def test_a_yielding_cpu_hog_is_stopped_without_killing_its_host(
    run: Run, http: aiohttp.ClientSession
) -> None:
    async with http.get("/health") as response:
        restarts = (await response.json())["host_restarts"]
    body = await run("let n = 0; for (;;) { n += 1; if (n % 1000 === 0) await null; }")
    assert body["error"]["code"] == "cpu_time_exceeded"
    assert 700 <= body["cpu_time_ms"] < 1500
    async with http.get("/health") as response:
        assert (await response.json())["host_restarts"] == restarts


async def test_log_volume_is_limited(run: Run) -> None:
    body = await run("for (let i = 0; i < 100000; i++) console.log('line', i)")
    assert body["error"]["code"] == "log_limit_exceeded"
    assert len(body["logs"]) == 500
    body = await run(
        "try { for (let i = 0; i < 100000; i++) console.log(i) } catch (e) {}\nVortex.return(1)"
    )
    assert body["error"]["code"] == "log_limit_exceeded"


async def test_pending_timers_are_limited(run: Run) -> None:
    body = await run("for (let i = 0; i < 1000; i++) setTimeout(() => {}, 1000)")
    assert body["error"]["code"] == "timer_limit_exceeded"
    assert body["execution_time_ms"] < 500


async def test_wall_time_is_limited(server_factory: Callable[..., ServerProcess]) -> None:
    server = server_factory(env={"VORTEX_WALL_LIMIT_MS": "300"}, workers=1)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        async with http.post(
            "/deploy", json={"code": "console.log('waiting'); await new Promise(() => {})"}
        ) as r:
            function_id = (await r.json())["function_id"]
        async with http.post(f"/execute/{function_id}") as response:
            body = await response.json()
    assert body["error"]["code"] == "wall_time_exceeded"
    assert body["logs"][0]["message"] == "waiting"
    assert 290 <= body["execution_time_ms"] < 1000


async def _deploy_and_execute(http: aiohttp.ClientSession) -> tuple[Execute, str, str]:
    async def deploy(code: str) -> str:
        async with http.post("/deploy", json={"code": code}) as r:
            return str((await r.json())["function_id"])

    async def execute(function_id: str) -> dict[str, Any]:
        async with http.post(f"/execute/{function_id}") as r:
            return dict(await r.json())

    runaway = await deploy("console.log('spinning'); while (true) {}")
    neighbour = await deploy("await new Promise(r => setTimeout(r, 200)); Vortex.return('ok')")
    return execute, runaway, neighbour


async def test_a_runaway_loop_is_stopped_in_its_host_and_its_neighbour_finishes(
    server_factory: Callable[..., ServerProcess],
) -> None:
    # One host, so the runaway and its neighbour certainly share it.
    server = server_factory(
        env={**GATE_ENV, "VORTEX_CPU_LIMIT_MS": "300", "VORTEX_DEBUG_HOST_HEADER": "1"},
        workers=1,
    )
    async with aiohttp.ClientSession(base_url=server.url) as http:
        execute, runaway, neighbour = await _deploy_and_execute(http)
        hosts_before = set(server.host_pids())
        neighbour_run = asyncio.create_task(execute(neighbour))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        body = await execute(runaway)
        elapsed = time.monotonic() - started
        assert body["error"]["code"] == "cpu_time_exceeded", body
        assert body["error"]["message"] == "CPU time limit of 300 ms exceeded"
        assert body["logs"][0]["message"] == "spinning"
        # Wall time: the host's thread may wait for a core on a busy machine (1.32 s seen at a
        # load of 13 on two cores).
        assert elapsed < 0.3 + 3.0
        # Interrupted by the host's CPU timer of its JS thread, within a few ms of the limit.
        assert 300 <= body["cpu_time_ms"] < 300 * 1.1, body
        assert (await neighbour_run)["output"] == "ok"
        assert (await execute(neighbour))["output"] == "ok"
        async with http.get("/health") as response:
            assert (await response.json())["host_restarts"] == 0
        assert set(server.host_pids()) == hosts_before


async def test_without_interrupts_a_runaway_loop_kills_its_host_and_the_pool_heals(
    server_factory: Callable[..., ServerProcess], gate: Gate
) -> None:
    """``VORTEX_HOST_INTERRUPT=0``, or a host whose engine cannot be interrupted: the
    supervisor's backstop kills the host of a turn past its CPU limit."""
    server = server_factory(
        env={
            **GATE_ENV,
            "VORTEX_CPU_LIMIT_MS": "300",
            "VORTEX_DEBUG_HOST_HEADER": "1",
            "VORTEX_HOST_INTERRUPT": "0",
        },
        workers=1,
    )
    async with aiohttp.ClientSession(base_url=server.url) as http:

        async def deploy(code: str, **extra: Any) -> str:
            async with http.post("/deploy", json={"code": code, **extra}) as r:
                return str((await r.json())["function_id"])

        async def execute(function_id: str) -> tuple[dict[str, Any], int]:
            async with http.post(f"/execute/{function_id}") as r:
                return dict(await r.json()), int(r.headers.get("X-Vortex-Host", 0))

        runaway = await deploy("console.log('spinning'); while (true) {}")
        # On the host until the gate opens: still running when the runaway takes the host down.
        neighbour = await deploy(gate.code, allow_hosts=["127.0.0.1"])
        for _ in range(300):  # the spare is started after the server answers
            async with http.get("/health") as response:
                if (await response.json())["spare_workers"] >= 1:
                    break
            await asyncio.sleep(0.05)
        hosts_before = set(server.host_pids())
        neighbour_run = asyncio.create_task(execute(neighbour))
        await gate.arrival()
        runaway_run = asyncio.create_task(execute(runaway))
        # /health answers while the host is stuck.
        await asyncio.sleep(0.15)
        async with http.get("/health", timeout=aiohttp.ClientTimeout(total=1)) as response:
            assert response.status == 200
        body, _ = await runaway_run
        assert body["error"]["code"] == "cpu_time_exceeded"
        assert body["logs"][0]["message"] == "spinning"
        # The turn's CPU time, measured by the supervisor as it killed the host (not 0), at
        # its limit: the watchdog reads it every 50 ms. CPU time, not the wall time the
        # client saw, which a busy machine stretches.
        assert 300 <= body["cpu_time_ms"] < 600, body
        neighbour_body, _ = await neighbour_run
        assert neighbour_body["error"]["code"] == "host_restarted"
        # The spare took over at once: the next run is served by a host started before the
        # kill, not by one started for it.
        gate.open()
        ok, host = await execute(neighbour)
        assert ok["output"] == "opened"
        assert host in hosts_before, (host, hosts_before)
        async with http.get("/health") as response:
            health = await response.json()
        assert health["host_restarts"] == 1
        assert health["active_workers"] == 1
        assert set(server.host_pids()) != hosts_before
