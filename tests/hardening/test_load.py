"""Load: 20,000 runs at concurrency 64 against a mix of normal functions and a few runaways.

Zero failures among the normal runs, memory of the server and of the hosts flat at the end
(after a warm-up, with a small margin), and no leaked process or file descriptor. The figures
are printed (``pytest -s``).

A synchronous runaway takes its host down, and with it the runs that shared that host: they
answer ``host_restarted`` ("nothing of this run was kept"), the documented signal to retry. A
normal run that got it is retried once, as a client should; the number of such casualties is
reported, and every other failure counts.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest

from tests.hardening.conftest import fd_count, rss_mib, unhandled_in_log
from tests.server import ServerProcess, alive, children_of
from vortex.isolates.idlegc import IDLE_BEFORE_COLLECTING

TOTAL_RUNS = 20_000
CONCURRENCY = 64
WARM_UP_RUNS = 2_000
LOAD_ENV = {
    "VORTEX_CPU_LIMIT_MS": "300",
    "VORTEX_WALL_LIMIT_MS": "2000",
    "VORTEX_HOST_MAX_RUNS": "1000",  # RECYCLE_AFTER
}

NORMAL = {
    "hello": ("console.log('hello', 1); Vortex.return({ hello: 'world' })", {"hello": "world"}),
    "timer": (
        "await new Promise((r) => setTimeout(r, 1)); Vortex.return([1, 2, 3].map((x) => x * 2))",
        [2, 4, 6],
    ),
    "json": (
        "const o = { a: Array.from({ length: 20 }, (_, i) => ({ i, s: 'x' + i })) };\n"
        "Vortex.return(JSON.parse(JSON.stringify(o)).a.length)",
        20,
    ),
}
RUNAWAYS = {
    "cpu": ("while (true) {}", "cpu_time_exceeded"),
    "never": ("await new Promise(() => {})", "wall_time_exceeded"),
}
# Where in the sequence the runaways go: all in the first half, so that the second half shows
# whether the pool settles back.
RUNAWAY_AT = {
    **{n: "cpu" for n in (1_500, 3_500, 5_500, 7_500)},
    **{n: "never" for n in (2_500, 4_500, 6_500, 8_500)},
}


@dataclass
class Tally:
    ok: int = 0
    casualties: int = 0
    failures: list[Any] = field(default_factory=list)
    runaway_codes: Counter[str] = field(default_factory=Counter)


@dataclass
class Snapshot:
    server_rss: float
    host_rss: list[float]
    fds: int
    children: list[int]

    @classmethod
    def of(cls, server: ServerProcess) -> Snapshot:
        children = sorted(children_of(server.process.pid))
        return cls(
            server_rss=rss_mib(server.process.pid),
            host_rss=[rss_mib(pid) for pid in children],
            fds=fd_count(server.process.pid),
            children=children,
        )

    def __str__(self) -> str:
        hosts = ", ".join(f"{r:.0f}" for r in self.host_rss)
        return (
            f"server RSS {self.server_rss:.0f} MiB, host RSS [{hosts}] MiB, "
            f"{self.fds} fds, {len(self.children)} hosts"
        )


async def settled(server: ServerProcess, http: aiohttp.ClientSession) -> Snapshot:
    """Wait for a whole pool and no connection of ours, then measure."""
    deadline = time.monotonic() + 30
    while True:
        async with http.get(f"{server.url}/health") as response:
            health = await response.json()
        if health["status"] == "healthy" and health["spare_workers"] >= 1 and not health["running"]:
            break
        assert time.monotonic() < deadline, health
        await asyncio.sleep(0.2)
    await http.close()
    # Let the server close its ends of our keep-alive connections, and the hosts collect what
    # the runs dropped (they do once idle: idlegc.py).
    await asyncio.sleep(IDLE_BEFORE_COLLECTING + 0.5)
    return Snapshot.of(server)


async def run_many(
    server: ServerProcess, ids: dict[str, str], count: int, *, runaways: bool
) -> tuple[Tally, float]:
    tally = Tally()
    plan = iter(range(count))
    names = list(NORMAL)
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as http:

        async def execute(function_id: str) -> dict[str, Any]:
            async with http.post(f"{server.url}/execute/{function_id}") as response:
                assert response.status == 200, await response.text()
                body: dict[str, Any] = await response.json()
                return body

        async def worker() -> None:
            for n in plan:
                kind = RUNAWAY_AT.get(n) if runaways else None
                if kind is not None:
                    body = await execute(ids[kind])
                    tally.runaway_codes[f"{kind}: {body.get('error', {}).get('code')}"] += 1
                    continue
                name = names[n % len(names)]
                expected = NORMAL[name][1]
                try:
                    body = await execute(ids[name])
                    if body.get("error", {}).get("code") == "host_restarted":
                        tally.casualties += 1
                        body = await execute(ids[name])
                except (aiohttp.ClientError, TimeoutError, AssertionError) as exc:
                    tally.failures.append(repr(exc))
                    continue
                if "error" in body or body["output"] != expected:
                    tally.failures.append(body)
                else:
                    tally.ok += 1

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
        return tally, time.monotonic() - started


# pythonmonkey keeps a little of every run: a host grows by about 13-15 KB per run here (82 MiB
# fresh, 96 after 1,000 runs, 128 after 3,000), and nothing Vortex hands it explains it. Before
# 95c479b it was worse: every Python str handed to JavaScript became a JSExternalString that
# pythonmonkey 1.4.1 finalizes with a linear scan (PythonExternalString::finalize), so one GC
# sweep froze a host for seconds and the watchdog killed it as cpu_time_exceeded. What keeps
# hosts flat is recycling: after VORTEX_HOST_MAX_RUNS runs (default 100,000) a host is retired
# behind a warm spare, finishes its runs and stops, as gunicorn's max_requests does. The load
# tests use a small N so that "flat" can be measured in a few thousand runs.
RECYCLE_AFTER = 1_000


@pytest.mark.slow
async def test_a_host_stays_flat_over_thousands_of_runs(
    private_server: Callable[..., ServerProcess],
) -> None:
    """The yardstick is a host near the end of one life (RECYCLE_AFTER runs), not a fresh one:
    a host grows by design until it is recycled, so after 8,000 runs the active host may be
    anywhere in its life (a run once saw 80 MiB fresh, 102 MiB later, against a margin of 20
    over the fresh host). What must not happen is growth past one life's."""
    server = private_server(LOAD_ENV, workers=1)
    async with aiohttp.ClientSession() as http:
        ids = {}
        for name, (code, _) in NORMAL.items():
            async with http.post(f"{server.url}/deploy", json={"code": code}) as response:
                ids[name] = (await response.json())["function_id"]
    fresh = await settled(server, aiohttp.ClientSession())
    # Short of RECYCLE_AFTER by more than the runs in flight: one host served them all.
    one_life = RECYCLE_AFTER - 2 * CONCURRENCY
    warm, _ = await run_many(server, ids, one_life, runaways=False)
    before = await settled(server, aiohttp.ClientSession())
    tally, _ = await run_many(server, ids, 7_000, runaways=False)
    after = await settled(server, aiohttp.ClientSession())
    async with aiohttp.ClientSession() as http, http.get(f"{server.url}/health") as response:
        health = await response.json()
    print(
        f"\nfresh: {fresh}\nafter {one_life:,} runs: {before}\n"
        f"after {one_life + 7_000:,} runs: {after}\n{health}"
    )
    assert warm.failures == [] and tally.failures == [], tally.failures[:3]
    assert tally.casualties == 0
    # A replacement boots at a low priority (bootpriority.py): under this test's full load a
    # host serves on past RECYCLE_AFTER until its replacement is ready, so fewer than one
    # recycle per RECYCLE_AFTER runs happen; what matters is that they happen and that the
    # memory stays within one life's (below).
    assert health["host_recycles"] >= 2, health
    assert health["host_restarts"] == 0, health
    assert max(after.host_rss) <= max(before.host_rss) + 20, (before, after)


@pytest.mark.slow
async def test_sustained_http_trigger_load_kills_no_host(
    private_server: Callable[..., ServerProcess],
) -> None:
    """Each HTTP request handed the host one new Python string; left to itself pythonmonkey
    collected them after thousands of requests in one turn of seconds, and the watchdog killed
    the host as a CPU hog (hello requests failed with host_restarted): this test saw 2 hosts
    killed, 32 failures. Requests now cross as bytearrays, and the host collects after a few
    hundred new strings (bridge.COLLECT_AFTER_STRINGS). The load now goes to the functions
    listener, where the hosts parse and answer the requests themselves, on kept-alive
    connections."""
    server = private_server({"VORTEX_CPU_LIMIT_MS": "1000"}, workers=2)
    code = "export default { async fetch(request) { return Response.json({ ok: true }); } };"
    statuses: Counter[int] = Counter()
    async with aiohttp.ClientSession(base_url=server.url) as http:
        async with http.post("/deploy", json={"code": code, "filename": "w.mjs"}) as response:
            function_id = (await response.json())["function_id"]

        async def worker(requests: int) -> None:
            for _ in range(requests):
                url = server.fn_url(function_id, f"/?q={time.monotonic()}")
                async with http.get(url) as response:
                    await response.read()
                    statuses[response.status] += 1

        await asyncio.gather(*(worker(1_200) for _ in range(32)))
        async with http.get("/health") as response:
            health = await response.json()
    assert statuses == Counter({200: 38_400}), statuses
    assert health["host_restarts"] == 0, health


@contextlib.asynccontextmanager
async def host_stopped_mid_turn(
    http: aiohttp.ClientSession, server: ServerProcess, busy_ms: int
) -> AsyncIterator[asyncio.Task[dict[str, Any]]]:
    """A run busy ``busy_ms`` in one turn, its host stopped (SIGSTOP) once the run's first line
    says the turn has begun, as a busy machine or a VM's steal time would; continued on exit.
    Yields the task of the run's answer."""
    host = min(server.host_pids())
    code = (
        f"console.log('busy'); const end = Date.now() + {busy_ms};\n"
        "while (Date.now() < end) {}\nVortex.return('done')"
    )
    async with http.post(f"{server.url}/deploy", json={"code": code}) as response:
        function_id = (await response.json())["function_id"]

    async def execute() -> dict[str, Any]:
        async with http.post(f"{server.url}/execute/{function_id}") as response:
            result: dict[str, Any] = await response.json()
            return result

    async with http.ws_connect(f"{server.ws_url}/ws/{function_id}") as ws:
        run = asyncio.create_task(execute())
        await ws.receive(timeout=10)  # inside the turn now
        os.kill(host, signal.SIGSTOP)
        try:
            yield run
        finally:
            with contextlib.suppress(ProcessLookupError):  # the watchdog may have killed it
                os.kill(host, signal.SIGCONT)


async def test_a_descheduled_host_is_not_taken_for_a_cpu_hog(
    private_server: Callable[..., ServerProcess],
) -> None:
    server = private_server(LOAD_ENV, workers=1)
    async with aiohttp.ClientSession() as http:
        # 250 ms of CPU in one turn, under the 300 ms limit, stopped for half a second.
        async with host_stopped_mid_turn(http, server, busy_ms=250) as run:
            await asyncio.sleep(0.5)
        body = await run
    assert body.get("error") is None, body
    assert body["output"] == "done"


async def test_a_host_stuck_in_one_turn_past_the_wall_limit_is_replaced(
    private_server: Callable[..., ServerProcess],
) -> None:
    # Not a CPU hog (stopped, it uses no CPU), but a turn that outlives the run's whole wall
    # limit holds every run of its host: the supervisor replaces it.
    server = private_server(LOAD_ENV, workers=1)
    host = min(server.host_pids())
    async with aiohttp.ClientSession() as http:
        async with host_stopped_mid_turn(http, server, busy_ms=100) as run:
            body = await asyncio.wait_for(run, 10)
        assert body["error"]["code"] == "wall_time_exceeded", body
        deadline = time.monotonic() + 5
        while alive(host):
            assert time.monotonic() < deadline, "the stuck host was not replaced"
            await asyncio.sleep(0.05)
        async with http.get(f"{server.url}/health") as response:
            assert (await response.json())["host_restarts"] == 1


@pytest.mark.slow
@pytest.mark.timeout(600)
async def test_twenty_thousand_runs_with_runaways(
    private_server: Callable[..., ServerProcess],
) -> None:
    server = private_server(LOAD_ENV, workers=2)
    async with aiohttp.ClientSession() as http:
        ids = {}
        for name, (code, _) in {**NORMAL, **RUNAWAYS}.items():
            async with http.post(f"{server.url}/deploy", json={"code": code}) as response:
                ids[name] = (await response.json())["function_id"]

    warm, _ = await run_many(server, ids, WARM_UP_RUNS, runaways=False)
    assert warm.failures == [], warm.failures[:5]
    before = await settled(server, aiohttp.ClientSession())

    tally, elapsed = await run_many(server, ids, TOTAL_RUNS, runaways=True)
    after = await settled(server, aiohttp.ClientSession())
    killed = [pid for pid in before.children if pid not in after.children]

    normal_runs = TOTAL_RUNS - len(RUNAWAY_AT)
    print(
        f"\n{TOTAL_RUNS} runs at concurrency {CONCURRENCY} in {elapsed:.1f} s: "
        f"{TOTAL_RUNS / elapsed:.0f} runs/s; normal runs: {tally.ok} ok, "
        f"{len(tally.failures)} failed, {tally.casualties} host_restarted and retried; "
        f"runaways: {dict(tally.runaway_codes)}"
        f"\nafter {WARM_UP_RUNS} warm-up runs: {before}"
        f"\nafter the load:         {after}"
        f"\nhosts replaced: {len(killed)}"
    )
    assert tally.failures == [], [
        f.get("error") if isinstance(f, dict) else f for f in tally.failures[:5]
    ]
    assert tally.ok == normal_runs
    # A never-settling run that shared a host with a CPU runaway is a casualty like any other.
    assert tally.runaway_codes["cpu: cpu_time_exceeded"] == 4, tally.runaway_codes
    never = tally.runaway_codes["never: wall_time_exceeded"]
    assert never + tally.runaway_codes["never: host_restarted"] == 4, tally.runaway_codes
    # Processes: the pool is whole, every replaced host is gone (reaped, not a zombie).
    assert len(after.children) == len(before.children) == 3
    assert all(alive(pid) for pid in after.children)
    assert not [pid for pid in killed if alive(pid)]
    # File descriptors: none leaked (pipes of replaced hosts, sockets, clock files).
    assert after.fds <= before.fds + 2, (before.fds, after.fds)
    # Memory: flat. The server may settle a little higher; hosts that survived the load must
    # not have grown beyond a margin, and fresh ones are smaller anyway.
    assert after.server_rss <= before.server_rss * 1.15 + 10, (before, after)
    assert max(after.host_rss) <= max(before.host_rss) * 1.15 + 15, (before, after)
    assert unhandled_in_log(server) == []
