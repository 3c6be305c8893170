"""Host processes: warm before the first request, replaced when they die, never orphaned."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from tests.hardening.conftest import rss_mib
from tests.hardening.test_interrupt import host_restarts_metric
from tests.server import ServerProcess, alive
from vortex.isolates.bootpriority import BOOT_NICENESS, BootPriority, _autogroup_nice
from vortex.isolates.idlegc import IDLE_BEFORE_COLLECTING


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


LOCALE_PROBE = """
const options = Intl.DateTimeFormat().resolvedOptions();
Vortex.return({
  timeZone: options.timeZone,
  locale: options.locale,
  date: new Date(0).toLocaleString(),
  number: (1234567.891).toLocaleString(),
  german: (1234567.891).toLocaleString('de-DE'),
  frozen: Object.isFrozen(Date.prototype) && Object.isFrozen(Number.prototype),
});
"""


async def test_locale_methods_say_nothing_of_the_servers_zone_or_language(
    server_factory: Callable[..., ServerProcess],
) -> None:
    # Lockdown keeps the engine's own toLocaleString & co. (localeTaming 'unsafe', for Workers
    # code that formats dates and money): they must answer as Intl does, UTC and en-US,
    # whatever the operator's environment says.
    server = server_factory(env={"TZ": "America/New_York", "LANG": "de_DE.UTF-8"}, workers=1)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        async with http.post("/deploy", json={"code": LOCALE_PROBE}) as r:
            function_id = (await r.json())["function_id"]
        async with http.post(f"/execute/{function_id}") as r:
            output = (await r.json())["output"]
    assert output == {
        "timeZone": "UTC",
        "locale": "en-US",
        "date": "1/1/1970, 12:00:00 AM",
        "number": "1,234,567.891",
        "german": "1.234.567,891",
        "frozen": True,
    }


# Hosts pinged every 100 ms, replaced after 1 s without an answer (outside their turns).
PINGED = {
    "VORTEX_HOST_PING_MS": "100",
    "VORTEX_HOST_PING_TIMEOUT_MS": "1000",
    "VORTEX_DEBUG_HOST_HEADER": "1",
}


async def execute(http: aiohttp.ClientSession, function_id: str) -> tuple[int, dict[str, Any]]:
    """The pid of the host that ran it, and the answer."""
    async with http.post(f"/execute/{function_id}") as r:
        return int(r.headers["X-Vortex-Host"]), dict(await r.json())


async def test_a_host_stopped_while_idle_is_replaced(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(env=PINGED, workers=1)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        async with http.post("/deploy", json={"code": "Vortex.return('up')"}) as r:
            quick = (await r.json())["function_id"]
        stopped, body = await execute(http, quick)
        assert body["output"] == "up"
        os.kill(stopped, signal.SIGSTOP)
        try:
            # The run sent to the stopped host ends once it is replaced (before: it waited out
            # its wall limit, and so did every run after it); the next ones run on the spare.
            failed = []
            deadline = time.monotonic() + 20
            while True:
                pid, body = await execute(http, quick)
                if body.get("error") is None:
                    break
                failed.append(body["error"]["code"])
                assert time.monotonic() < deadline, failed
        finally:
            if alive(stopped):
                os.kill(stopped, signal.SIGCONT)
        assert body["output"] == "up"
        assert pid != stopped
        assert set(failed) <= {"host_restarted"}, failed
        async with http.get("/health") as r:
            assert (await r.json())["host_restarts"] >= 1
        assert await host_restarts_metric(http, server) >= 1
        assert not alive(stopped)


async def test_a_turn_longer_than_the_ping_deadline_is_not_a_dead_host(
    server_factory: Callable[..., ServerProcess],
) -> None:
    # A turn of 1.5 s under a CPU limit of 20 s, on a host pinged with a deadline of 0.3 s: it
    # answers no ping while the turn runs, and must be left alone (the backstop watches turns).
    server = server_factory(
        env={**PINGED, "VORTEX_HOST_PING_TIMEOUT_MS": "300", "VORTEX_CPU_LIMIT_MS": "20000"},
        workers=1,
    )
    code = "const end = Date.now() + 1500; while (Date.now() < end) {}\nVortex.return('done')"
    async with aiohttp.ClientSession(base_url=server.url) as http:
        async with http.post("/deploy", json={"code": code}) as r:
            busy = (await r.json())["function_id"]
        first, body = await execute(http, busy)
        assert body.get("error") is None and body["output"] == "done", body
        second, body = await execute(http, busy)
        assert body.get("error") is None and body["output"] == "done", body
        assert first == second
        async with http.get("/health") as r:
            assert (await r.json())["host_restarts"] == 0


def _priorities(pid: int) -> tuple[set[int], int | None]:
    """The niceness of each of the process's threads, and its session's autogroup niceness
    (None where the kernel shows none: autogroup off, or a file read empty, as seen in CI)."""
    threads = {int(tid) for tid in os.listdir(f"/proc/{pid}/task")}
    nice = {os.getpriority(os.PRIO_PROCESS, tid) for tid in threads}
    return nice, _autogroup_nice(pid)


@pytest.mark.skipif(os.geteuid() != 0, reason="hosts boot at the normal priority unless root")
def test_a_host_boots_at_a_low_priority_and_serves_at_the_servers() -> None:
    # Lowered in the child (as the host is, between fork and exec, in a session of its own).
    booting = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpriority(os.PRIO_PROCESS, 0))"],
        preexec_fn=BootPriority().lower,
        start_new_session=True,
        capture_output=True,
        text=True,
        check=True,
    )
    assert int(booting.stdout) == os.getpriority(os.PRIO_PROCESS, 0) + BOOT_NICENESS


async def test_ready_hosts_have_the_servers_priority(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(workers=2)
    own_nice, own_group = _priorities(server.process.pid)
    for pid in server.host_pids():
        nice, group = _priorities(pid)
        assert nice == own_nice, pid
        if None not in (group, own_group):
            assert group == own_group, pid


async def test_a_listener_connection_waits_for_a_host_while_none_is_up(
    server_factory: Callable[..., ServerProcess],
) -> None:
    # One host and no spare: killed, it is replaced by a host that must boot first (about a
    # second). A client that connects meanwhile is served once it is up, not closed unanswered.
    server = server_factory({"VORTEX_SPARE_WORKERS": "0"}, workers=1)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        code = "export default { fetch() { return new Response('here'); } };"
        async with http.post("/deploy", json={"code": code, "filename": "w.mjs"}) as r:
            function_id = (await r.json())["function_id"]
        (host,) = server.host_pids()
        os.kill(host, signal.SIGKILL)
        await asyncio.sleep(0.2)
        assert server.host_pids() == [] or server.host_pids() != [host]
        async with http.get(
            server.fn_url(function_id, "/"), timeout=aiohttp.ClientTimeout(20)
        ) as r:
            assert r.status == 200
            assert await r.text() == "here"


async def test_an_idle_host_gives_back_what_its_runs_dropped(
    server_factory: Callable[..., ServerProcess],
) -> None:
    # Without a collection when it goes quiet, the host kept its runs' garbage until the
    # engine's heuristics next collected: idle hosts after the same load were 100-175 MiB.
    server = server_factory({"VORTEX_SPARE_WORKERS": "0"}, workers=1)
    (host,) = server.host_pids()
    code = (
        "const keep = [];"
        " for (let i = 0; i < 8; i++) keep.push(Array.from({ length: 1e5 }, (_, j) => ({ i, j })));"
        " Vortex.return(keep.length)"
    )
    async with aiohttp.ClientSession(base_url=server.url) as http:
        async with http.post("/deploy", json={"code": code}) as r:
            function_id = (await r.json())["function_id"]
        before = rss_mib(host)
        for _ in range(3):
            async with http.post(f"/execute/{function_id}") as r:
                body = await r.json()
            assert body.get("error") is None and body["output"] == 8, body
        grown = rss_mib(host) - before
        await asyncio.sleep(IDLE_BEFORE_COLLECTING + 1.0)
        left = rss_mib(host) - before
    print(f"host RSS: +{grown:.0f} MiB after the runs, +{left:.0f} MiB once idle")
    assert grown > 40  # the runs did leave garbage
    assert left < 15
