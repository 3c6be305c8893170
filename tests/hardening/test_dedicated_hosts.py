"""Dedicated hosts per namespace (``VORTEX_DEDICATED_HOSTS=1``): two API keys in different
namespaces on one real server, whose runs must never share a host process. The pid of the host
that ran each run comes from ``X-Vortex-Host``, which ``VORTEX_DEBUG_HOST_HEADER=1`` turns on.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import aiohttp

from tests.auth.test_namespaces import make_key
from tests.gate import GATE_ENV, Gate
from tests.hardening.conftest import unhandled_in_log
from tests.server import ServerProcess, alive

DEBUG = {"VORTEX_DEBUG_HOST_HEADER": "1", "VORTEX_WALL_LIMIT_MS": "5000"}
DEDICATED = {**DEBUG, "VORTEX_DEDICATED_HOSTS": "1"}
QUICK = "console.log('hi'); Vortex.return(1 + 1)"
# Runs that hold their hosts until the test opens the gate, however busy the machine.
GATED = {**GATE_ENV, "VORTEX_WALL_LIMIT_MS": "20000"}


class Tenant:
    def __init__(self, http: aiohttp.ClientSession, server: ServerProcess, namespace: str):
        self.http = http
        self.url = server.url
        self.namespace = namespace
        self.key = make_key(server, namespace)
        self.headers = {"Authorization": f"Bearer {self.key}"}

    async def deploy(self, code: str, **extra: Any) -> str:
        async with self.http.post(
            f"{self.url}/deploy", json={"code": code, **extra}, headers=self.headers
        ) as response:
            body = await response.json()
            assert response.status == 200, body
            return str(body["function_id"])

    async def execute(self, function_id: str) -> tuple[int, dict[str, Any]]:
        """The host pid the run ran on, and the run's answer."""
        async with self.http.post(
            f"{self.url}/execute/{function_id}", headers=self.headers
        ) as response:
            body: dict[str, Any] = await response.json()
            assert response.status == 200, body
            assert body.get("error") is None, body
            return int(response.headers["X-Vortex-Host"]), body


async def _health(http: aiohttp.ClientSession, server: ServerProcess) -> dict[str, Any]:
    async with http.get(f"{server.url}/health") as response:
        body: dict[str, Any] = await response.json()
        return body


async def test_runs_of_two_namespaces_never_share_a_host(
    private_server: Callable[..., ServerProcess],
) -> None:
    server = private_server(DEDICATED, workers=2)
    seen: dict[int, set[str]] = defaultdict(set)
    async with aiohttp.ClientSession() as http:
        acme, beta, gamma = (Tenant(http, server, ns) for ns in ("acme", "beta", "gamma"))
        server.wait_for_keys(*(t.key for t in (acme, beta, gamma)))
        ids = {t.namespace: await t.deploy(QUICK) for t in (acme, beta, gamma)}

        async def burst(tenants: list[Tenant], rounds: int) -> None:
            async def one(tenant: Tenant) -> None:
                pid, body = await tenant.execute(ids[tenant.namespace])
                assert body["output"] == 2
                seen[pid].add(tenant.namespace)

            await asyncio.gather(*(one(t) for _ in range(rounds) for t in tenants))

        # Two namespaces, two hosts, interleaved runs at concurrency.
        await burst([acme, beta], 30)
        assert len(seen) == 2, dict(seen)
        # A third namespace: every host belongs to another one, so an idle one is retired and a
        # fresh host is dedicated to it; then the first two come back, and so on.
        for tenants in ([gamma], [acme, gamma], [beta], [acme, beta, gamma]):
            await burst(tenants, 10)
        health = await _health(http, server)

    shared = {pid: sorted(namespaces) for pid, namespaces in seen.items() if len(namespaces) > 1}
    print(f"\nhosts used: {len(seen)}; health: {health}")
    assert shared == {}, f"hosts that ran code of several namespaces: {shared}"
    assert len(seen) >= 3
    assert health["host_recycles"] >= 1, health
    assert health["host_restarts"] == 0, health
    assert unhandled_in_log(server) == []


async def test_a_namespace_waits_while_every_host_is_busy_with_others(
    private_server: Callable[..., ServerProcess], gate: Gate
) -> None:
    server = private_server({**DEDICATED, **GATED}, workers=2)
    async with aiohttp.ClientSession() as http:
        acme, beta, gamma = (Tenant(http, server, ns) for ns in ("acme", "beta", "gamma"))
        server.wait_for_keys(*(t.key for t in (acme, beta, gamma)))
        slow = {
            t.namespace: await t.deploy(gate.code, allow_hosts=["127.0.0.1"]) for t in (acme, beta)
        }
        quick = await gamma.deploy(QUICK)  # its check took a host for gamma
        busy = [asyncio.create_task(t.execute(slow[t.namespace])) for t in (acme, beta)]
        # Once both slow runs are on their hosts (gamma's idle one was retired for one of them)
        # and a spare is warm again, gamma finds every host busy with another namespace.
        deadline = time.monotonic() + 10
        while True:
            health = await _health(http, server)
            if health["running"] == 2 and health["spare_workers"] >= 1:
                break
            assert time.monotonic() < deadline, health
            await asyncio.sleep(0.02)
        waiting = asyncio.create_task(gamma.execute(quick))
        await asyncio.sleep(0.5)
        assert not waiting.done(), waiting  # every host is busy with another namespace
        gate.open()
        # It runs once one of the slow runs has ended and its host was retired.
        pid, body = await waiting
        (acme_pid, acme_body), (beta_pid, _) = await asyncio.gather(*busy)
    assert body["output"] == 2
    assert acme_body["output"] == "opened"
    assert pid not in (acme_pid, beta_pid)


async def test_a_namespace_that_waits_too_long_gets_pool_unavailable(
    private_server: Callable[..., ServerProcess], gate: Gate
) -> None:
    server = private_server({**DEDICATED, **GATED, "VORTEX_HOST_WAIT_MS": "300"}, workers=1)
    async with aiohttp.ClientSession() as http:
        acme, beta = Tenant(http, server, "acme"), Tenant(http, server, "beta")
        server.wait_for_keys(acme.key, beta.key)
        slow = await acme.deploy(gate.code, allow_hosts=["127.0.0.1"])
        busy = asyncio.create_task(acme.execute(slow))
        deadline = time.monotonic() + 10
        while (await _health(http, server))["running"] != 1:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        # beta's deploy needs a host to compile its code on: there is none until the gate opens.
        started = time.monotonic()
        async with http.post(
            f"{server.url}/deploy", json={"code": QUICK}, headers=beta.headers
        ) as response:
            body = await response.json()
            waited = time.monotonic() - started
        gate.open()
        _, done = await busy
        quick = await beta.deploy(QUICK)  # acme's host is idle again: retired for beta
        beta_pid, _ = await beta.execute(quick)
    assert response.status == 503, body
    assert body["error"]["code"] == "pool_unavailable", body
    assert "another namespace" in body["error"]["message"]
    # VORTEX_HOST_WAIT_MS, not until acme's run ended (the gate was still shut).
    assert waited >= 0.25, waited
    assert done["output"] == "opened"
    assert beta_pid > 0


async def test_a_namespace_whose_host_was_stopped_gets_a_new_one(
    private_server: Callable[..., ServerProcess],
) -> None:
    # Hosts pinged every 100 ms, replaced after 1 s without an answer. Before the pings, a
    # stopped host kept its namespace: every run of it failed with wall_time_exceeded.
    pinged = {**DEDICATED, "VORTEX_HOST_PING_MS": "100", "VORTEX_HOST_PING_TIMEOUT_MS": "1000"}
    server = private_server(pinged, workers=2)
    async with aiohttp.ClientSession() as http:
        acme, beta = Tenant(http, server, "acme"), Tenant(http, server, "beta")
        server.wait_for_keys(acme.key, beta.key)
        ids = {t.namespace: await t.deploy(QUICK) for t in (acme, beta)}
        stopped, _ = await acme.execute(ids["acme"])
        beta_pid, _ = await beta.execute(ids["beta"])
        assert stopped != beta_pid
        os.kill(stopped, signal.SIGSTOP)
        try:
            failed = []
            deadline = time.monotonic() + 20
            while True:
                async with http.post(
                    f"{server.url}/execute/{ids['acme']}", headers=acme.headers
                ) as response:
                    body = await response.json()
                if body.get("error") is None:
                    acme_pid = int(response.headers["X-Vortex-Host"])
                    break
                failed.append(body["error"]["code"])
                assert time.monotonic() < deadline, failed
        finally:
            if alive(stopped):
                os.kill(stopped, signal.SIGCONT)
        # The other namespace kept its host all along.
        again, _ = await beta.execute(ids["beta"])
        health = await _health(http, server)
    assert body["output"] == 2
    assert set(failed) <= {"host_restarted"}, failed
    assert acme_pid not in (stopped, beta_pid)
    assert again == beta_pid
    assert health["host_restarts"] >= 1, health
    assert not alive(stopped)
    assert unhandled_in_log(server) == []


async def test_without_the_setting_namespaces_share_hosts(
    private_server: Callable[..., ServerProcess],
) -> None:
    server = private_server(DEBUG, workers=1)
    async with aiohttp.ClientSession() as http:
        acme, beta = Tenant(http, server, "acme"), Tenant(http, server, "beta")
        server.wait_for_keys(acme.key, beta.key)
        a, b = await acme.deploy(QUICK), await beta.deploy(QUICK)
        (a_pid, _), (b_pid, _) = await asyncio.gather(acme.execute(a), beta.execute(b))
    assert a_pid == b_pid  # one host serves every namespace


async def test_the_host_header_is_off_by_default(
    private_server: Callable[..., ServerProcess],
) -> None:
    server = private_server(workers=1)
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{server.url}/deploy", json={"code": QUICK}) as response:
            function_id = (await response.json())["function_id"]
        async with http.post(f"{server.url}/execute/{function_id}") as response:
            assert response.status == 200
            assert "X-Vortex-Host" not in response.headers
