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

from bench.burst import burst, raise_nofile
from tests.hardening.conftest import unhandled_in_log
from tests.server import ServerProcess, alive, children_of

CONCURRENCY = 32
RUNS = 3000
MAX_ROUNDS = 6
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


async def _settled(
    http: aiohttp.ClientSession, server: ServerProcess, *, recycles: int = 0
) -> dict[str, Any]:
    """/health once the pool is whole, every retired host has stopped and at least
    ``recycles`` recycles were counted. Hosts report listener runs in batches the supervisor
    counts when it gets to them: under CI's load the pool once looked whole and unrecycled
    before the second burst's counts had landed (host_recycles 0 after 20,000 runs)."""
    deadline = time.monotonic() + 30
    while True:
        async with http.get(f"{server.url}/health") as response:
            health: dict[str, Any] = await response.json()
        expected = health["max_workers"] + 1  # one spare
        if (
            health["status"] == "healthy"
            and health["host_recycles"] >= recycles
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
    hosts: Counter[int] = Counter()
    rounds = 0
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        ids = await _deploy_all(http, server)
        started = time.monotonic()
        # Recycles are one at a time and each waits for a host to boot, so how many fit in a
        # number of runs depends on the machine's load (3 in 3,000 runs on a busy CI machine):
        # runs go on, round after round, until four recycles have happened under them.
        while True:
            round_hosts, failures = await _run_many(http, server, ids, RUNS)
            rounds += 1
            hosts += round_hosts
            assert failures == [], failures[:3]
            assert round_hosts.total() == RUNS
            health = await _settled(http, server)
            if health["host_recycles"] >= 4 or rounds == MAX_ROUNDS:
                break
        elapsed = time.monotonic() - started
    print(
        f"\n{rounds} x {RUNS} runs at concurrency {CONCURRENCY} in {elapsed:.1f} s on "
        f"{len(hosts)} hosts (most runs on one: {max(hosts.values())}); health: {health}"
    )
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


HTTP_HELLO = "export default { fetch() { return new Response('hello') } }"
KEEP_ALIVE_CONNECTIONS = 16
KEEP_ALIVE_REQUESTS = 250


async def _keep_alive_client(port: int, requests: int) -> tuple[int, list[str]]:
    """One raw keep-alive connection sending ``requests`` GETs in turn, as wrk does: a
    connection the server closes is opened again, and a request it took down is a failure
    (no retry, unlike aiohttp or a browser)."""
    answered, failures = 0, []
    reader: asyncio.StreamReader | None = None
    writer: asyncio.StreamWriter | None = None
    request = b"GET / HTTP/1.1\r\nHost: hello.localhost\r\n\r\n"
    for _ in range(requests):
        if writer is None or writer.is_closing():
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        assert reader is not None
        writer.write(request)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
            body = await reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError) as exc:
            failures.append(repr(exc))
            writer.close()
            writer = None
            continue
        if not head.startswith(b"HTTP/1.1 200") or body != b"hello":
            failures.append(repr(head + body))
        answered += 1
        if b"connection: close" in head.lower():
            await reader.read()  # the server closes after this answer: the next opens anew
            writer.close()
            writer = None
    if writer is not None:
        writer.close()
    return answered, failures


async def test_keep_alive_clients_of_a_recycled_host_lose_no_request(
    private_server: Callable[..., ServerProcess],
) -> None:
    """A retired host answers the next request of each idle keep-alive connection with
    ``Connection: close`` rather than closing it under a request already on its way."""
    server = private_server({"VORTEX_HOST_MAX_RUNS": "200"}, workers=2)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        async with http.post(
            f"{server.url}/deploy",
            json={"code": HTTP_HELLO, "filename": "index.mjs", "name": "hello"},
        ) as response:
            assert response.status == 200, await response.text()
        results = await asyncio.gather(
            *(
                _keep_alive_client(server.functions_port, KEEP_ALIVE_REQUESTS)
                for _ in range(KEEP_ALIVE_CONNECTIONS)
            )
        )
        health = await _settled(http, server, recycles=2)
    failures = [failure for _, failed in results for failure in failed]
    assert failures == [], (len(failures), failures[:3])
    assert sum(answered for answered, _ in results) == KEEP_ALIVE_CONNECTIONS * KEEP_ALIVE_REQUESTS
    assert health["host_recycles"] >= 2, health
    assert unhandled_in_log(server) == []


SLEEPY = (
    "export default { async fetch() {"
    " await new Promise((r) => setTimeout(r, 100)); return new Response('ok'); } };"
)
BURST = 10_000


async def test_a_burst_across_recycles_is_answered_whole(
    private_server: Callable[..., ServerProcess],
) -> None:
    """Hosts retired in the middle of a burst still get the connections handed to them
    before; the supervisor no longer answers their questions (which function a hostname
    is), so each is answered with the route the host had, not left waiting for the host's
    exit: 829 and 1,258 of 10,000 waited past 15 s in the second burst before. The burst
    is bench/burst.py's (two processes connect, then all send), the load it was seen under."""
    raise_nofile()
    server = private_server({"VORTEX_HOST_MAX_RUNS": "6000"}, workers=2)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        async with http.post(
            f"{server.url}/deploy",
            json={"code": SLEEPY, "filename": "index.mjs", "name": "sleepy"},
        ) as response:
            assert response.status == 200, await response.text()
        seen = []
        for _ in range(2):  # the first brings the hosts near their end, the second past it
            seen.append(
                await asyncio.to_thread(
                    burst, server.functions_port, BURST, hostname="sleepy.localhost", timeout=15
                )
            )
        health = await _settled(http, server, recycles=2)
    assert [(one.answered, one.errors[:3]) for one in seen] == [(BURST, [])] * 2, health
    assert health["host_recycles"] >= 2, health
    assert unhandled_in_log(server) == []
