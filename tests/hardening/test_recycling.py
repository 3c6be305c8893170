"""Host recycling: a host that served ``VORTEX_HOST_MAX_RUNS`` runs, or whose memory passed
``VORTEX_HOST_RECYCLE_MB``, is retired gracefully (a warm host takes its place first, its runs
finish, then it stops), so that pythonmonkey's few KB kept per run never add up to the memory
limit. No run may fail because of it. The host of each run comes from ``X-Vortex-Host``
(``VORTEX_DEBUG_HOST_HEADER=1``).
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import aiohttp

from tests.hardening.conftest import unhandled_in_log
from tests.server import ServerProcess, alive, children_of

CONCURRENCY = 32
RUNS = 3000
FUNCTIONS = {
    "hello": ("Vortex.return({ hello: 'world' })", {"hello": "world"}),
    # Runs that are still waiting on a timer when their host is retired must finish there.
    "timer": ("await new Promise((r) => setTimeout(r, 20)); Vortex.return(7)", 7),
    "log": ("console.log('x'.repeat(100)); Vortex.return([1, 2])", [1, 2]),
}


async def _deploy_all(http: aiohttp.ClientSession, server: ServerProcess) -> dict[str, str]:
    ids = {}
    for name, (code, _) in FUNCTIONS.items():
        async with http.post(f"{server.url}/deploy", json={"code": code}) as response:
            ids[name] = (await response.json())["function_id"]
    return ids


async def _run_many(
    http: aiohttp.ClientSession, server: ServerProcess, ids: dict[str, str], count: int
) -> tuple[Counter[int], list[Any]]:
    """Runs spread over the functions; the hosts they ran on, and every failure."""
    hosts: Counter[int] = Counter()
    failures: list[Any] = []
    plan = iter(range(count))
    names = list(FUNCTIONS)

    async def worker() -> None:
        for n in plan:
            name = names[n % len(names)]
            try:
                async with http.post(f"{server.url}/execute/{ids[name]}") as response:
                    body = await response.json()
                    expected = FUNCTIONS[name][1]
                    if response.status != 200 or "error" in body or body["output"] != expected:
                        failures.append(body)
                    else:
                        hosts[int(response.headers["X-Vortex-Host"])] += 1
            except (aiohttp.ClientError, TimeoutError) as exc:
                failures.append(repr(exc))

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return hosts, failures


async def _settled(http: aiohttp.ClientSession, server: ServerProcess) -> dict[str, Any]:
    """/health once the pool is whole and every retired host has stopped."""
    deadline = time.monotonic() + 30
    while True:
        async with http.get(f"{server.url}/health") as response:
            health: dict[str, Any] = await response.json()
        expected = health["max_workers"] + 1  # one spare
        if (
            health["status"] == "healthy"
            and health["spare_workers"] == 1
            and len(children_of(server.process.pid)) == expected
        ):
            return health
        assert time.monotonic() < deadline, (health, children_of(server.process.pid))
        await asyncio.sleep(0.1)


async def test_hosts_are_recycled_after_their_runs_without_failing_one(
    private_server: Callable[..., ServerProcess],
) -> None:
    server = private_server(
        {"VORTEX_HOST_MAX_RUNS": "50", "VORTEX_DEBUG_HOST_HEADER": "1"}, workers=2
    )
    first_hosts = set(children_of(server.process.pid))
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        ids = await _deploy_all(http, server)
        started = time.monotonic()
        hosts, failures = await _run_many(http, server, ids, RUNS)
        elapsed = time.monotonic() - started
        health = await _settled(http, server)
    print(
        f"\n{RUNS} runs at concurrency {CONCURRENCY} in {elapsed:.1f} s on {len(hosts)} hosts "
        f"(most runs on one: {max(hosts.values())}); health: {health}"
    )
    assert failures == [], failures[:3]
    assert sum(hosts.values()) == RUNS
    assert health["host_recycles"] >= 4, health
    assert len(hosts) >= 5, hosts
    assert health["host_restarts"] == 0, health  # recycling is not a restart
    # Every retired host is gone (stopped and reaped), and none of the first is left.
    assert not [pid for pid in hosts if pid not in children_of(server.process.pid) and alive(pid)]
    assert first_hosts - set(children_of(server.process.pid)), "no host was replaced"
    assert unhandled_in_log(server) == []


async def test_a_host_past_its_memory_threshold_is_recycled(
    private_server: Callable[..., ServerProcess],
) -> None:
    # A threshold every host is over once it has run anything (a fresh host is never recycled).
    server = private_server(
        {"VORTEX_HOST_RECYCLE_MB": "1", "VORTEX_DEBUG_HOST_HEADER": "1"}, workers=1
    )
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        ids = await _deploy_all(http, server)
        pids = []
        for _ in range(3):
            hosts, failures = await _run_many(http, server, {**ids}, 60)
            assert failures == [], failures[:3]
            pids.extend(hosts)
            # The watchdog reads memory every 250 ms and retires every host past 1 MiB: the
            # next round starts once this round's hosts are gone, so it finds a fresh one.
            deadline = time.monotonic() + 15
            while set(hosts) & set(children_of(server.process.pid)):
                assert time.monotonic() < deadline, (hosts, children_of(server.process.pid))
                await asyncio.sleep(0.05)
            await _settled(http, server)
        health = await _settled(http, server)
    assert health["host_recycles"] >= 2, health
    assert len(set(pids)) >= 3, pids
    assert health["host_restarts"] == 0, health
    assert unhandled_in_log(server) == []
