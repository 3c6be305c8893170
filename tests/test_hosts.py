"""Host processes: warm before the first request, replaced when they die, never orphaned."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from typing import Any

import aiohttp

from tests.server import ServerProcess, alive


async def test_hosts_never_outlive_a_killed_server(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(workers=2)
    hosts = server.host_pids()
    assert len(hosts) == 3  # two active and one warm spare
    server.stop(signal.SIGKILL)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and any(alive(pid) for pid in hosts):
        await asyncio.sleep(0.05)
    assert not [pid for pid in hosts if alive(pid)]


async def test_a_host_killed_mid_run_fails_its_runs_clearly_and_is_replaced(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(workers=1)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        async with http.post(
            "/deploy",
            json={"code": "await new Promise(r => setTimeout(r, 1000)); Vortex.return(1)"},
        ) as r:
            slow = (await r.json())["function_id"]

        async def execute() -> dict[str, Any]:
            async with http.post(f"/execute/{slow}") as r:
                return dict(await r.json())

        runs = [asyncio.create_task(execute()) for _ in range(3)]
        await asyncio.sleep(0.2)
        async with http.get("/health") as r:
            assert (await r.json())["running"] == 3
        # The active host is the one with the oldest pid among the server's children.
        active = min(server.host_pids())
        os.kill(active, signal.SIGKILL)
        bodies = await asyncio.wait_for(asyncio.gather(*runs), 5)
        assert [b["error"]["code"] for b in bodies] == ["host_crashed"] * 3
        async with http.get("/health") as r:
            health = await r.json()
        assert health["status"] == "healthy"
        assert health["host_restarts"] == 1
        async with http.post("/deploy", json={"code": "Vortex.return('still here')"}) as r:
            quick = (await r.json())["function_id"]
        async with http.post(f"/execute/{quick}") as r:
            assert (await r.json())["output"] == "still here"
        deadline = time.monotonic() + 10
        while len(server.host_pids()) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert len(server.host_pids()) == 2, "the spare is refilled"


async def test_hosts_get_no_environment(server_factory: Callable[..., ServerProcess]) -> None:
    server = server_factory(env={"VORTEX_TEST_SECRET": "hunter2"}, workers=1)
    for pid in server.host_pids():
        with open(f"/proc/{pid}/environ", "rb") as environ:
            names = {item.split(b"=", 1)[0] for item in environ.read().split(b"\0") if item}
        assert b"VORTEX_TEST_SECRET" not in names
        assert names <= {b"PATH", b"LANG", b"PYTHONPATH"}
