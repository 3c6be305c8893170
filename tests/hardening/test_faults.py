"""Faults: hosts killed under runs, the server killed under a storm of deploys, S3 and Redis
stopped and restarted under load, and a WebSocket client that never reads."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import random
import signal
import socket
import struct
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import pytest
from moto.server import ThreadedMotoServer

from tests.backends.conftest import ACCESS_KEY, SECRET_KEY, RedisServer
from tests.hardening.conftest import (
    HOSTILE_ENV,
    Api,
    api_for,
    assert_no_traceback,
    unhandled_in_log,
)
from tests.server import ServerProcess, alive, free_port, start_server, stop_and_check

SLEEPER = "await new Promise((r) => setTimeout(r, 400)); Vortex.return('slept')"


# -- hosts killed under runs ------------------------------------------------------------------------
@pytest.mark.slow
async def test_hosts_killed_under_many_runs_fail_them_clearly_and_the_pool_heals(
    private_server: Callable[..., ServerProcess], client: aiohttp.ClientSession
) -> None:
    server = private_server({"VORTEX_WALL_LIMIT_MS": "5000"}, workers=2)
    api = api_for(client, server)
    sleeper = await api.deploy(SLEEPER)
    killed = 0
    crashed = succeeded = 0
    for round_ in range(3):
        before = (await api.wait_healthy())["host_restarts"]
        sent = time.monotonic()
        runs = [asyncio.create_task(api.execute(sleeper)) for _ in range(40)]
        # Deploys in the middle of it all must not fail either.
        deploys = [asyncio.create_task(api.try_deploy(f"Vortex.return({n})")) for n in range(5)]
        await asyncio.sleep(0.15)  # most of the 40 runs are under way
        deadline = time.monotonic() + 10
        while (await api.health())["running"] == 0:  # on a busy machine, later
            assert time.monotonic() < deadline
            await asyncio.sleep(0.02)
        victim = random.Random(round_).choice(sorted(server.host_pids())[:2])
        os.kill(victim, signal.SIGKILL)
        kill_delay = time.monotonic() - sent
        killed += 1
        results = await asyncio.wait_for(asyncio.gather(*runs), 10)
        codes = [r.code for r in results]
        assert set(codes) <= {None, "host_crashed"}, codes
        crashed += codes.count("host_crashed")
        succeeded += codes.count(None)
        for result in results:
            assert result.status == 200
            if result.code is None:
                assert result.body["output"] == "slept"
            else:
                assert "exited unexpectedly" in result.body["error"]["message"]
                # Told soon after the kill, however long the runs took to get under way.
                assert result.elapsed - kill_delay < 2.0
        for deployed in await asyncio.gather(*deploys):
            assert deployed.status in (200, 503), deployed.body
        after = await api.wait_healthy()
        assert after["host_restarts"] == before + 1
        assert not alive(victim)
    assert crashed > 0 and succeeded > 0
    # The healed pool serves everything.
    results = await asyncio.gather(*(api.execute(sleeper) for _ in range(40)))
    assert [r.body["output"] for r in results] == ["slept"] * 40
    assert len(server.host_pids()) == 3
    await api.assert_serves_normally()
    assert unhandled_in_log(server) == []
    print(f"\n{killed} hosts killed under 120 runs: {crashed} host_crashed, {succeeded} ok")


async def test_a_deploy_whose_checking_host_dies_is_retried_or_unavailable(
    private_server: Callable[..., ServerProcess], client: aiohttp.ClientSession
) -> None:
    server = private_server(
        {"VORTEX_CPU_LIMIT_MS": "5000", "VORTEX_WALL_LIMIT_MS": "8000"}, workers=1
    )
    api = api_for(client, server)
    busy = await api.deploy("const end = Date.now() + 2000; while (Date.now() < end) {}")
    host = min(server.host_pids())
    running = asyncio.create_task(api.execute(busy))
    deadline = time.monotonic() + 10
    while (await api.health())["running"] != 1:  # the busy run is on its host
        assert time.monotonic() < deadline
        await asyncio.sleep(0.02)
    # The one active host is inside a long turn: the check of this deploy waits behind it.
    deploying = asyncio.create_task(api.try_deploy("Vortex.return(1)"))
    await asyncio.sleep(0.3)
    os.kill(host, signal.SIGKILL)
    assert (await running).code == "host_crashed"
    deployed = await deploying
    assert deployed.status in (200, 503), deployed.body
    if deployed.status == 503:
        assert deployed.code == "pool_unavailable"


# -- the server killed during a storm of deploys ---------------------------------------------------
def deploy_code(n: int) -> str:
    # Distinct code for most deploys; every tenth shares its code (content addressing).
    marker = n if n % 10 else "shared"
    return (
        f"// deploy {marker}\nVortex.return({{ n: {n % 10 and n}, pad: '{'x' * (n % 7) * 300}' }})"
    )


@pytest.mark.slow
async def test_a_server_killed_during_a_deploy_storm_keeps_every_acknowledged_deploy(
    tmp_path: Path, client: aiohttp.ClientSession
) -> None:
    directory = tmp_path / "node"
    directory.mkdir()
    servers: list[ServerProcess] = []
    try:
        first = start_server(directory, HOSTILE_ENV, workers=1)
        servers.append(first)
        acknowledged: dict[str, str] = {}
        failures = 0
        enough = asyncio.Event()

        async def deployer(numbers: Iterator[int]) -> None:
            nonlocal failures
            for n in numbers:
                code = deploy_code(n)
                try:
                    async with client.post(f"{first.url}/deploy", json={"code": code}) as r:
                        body = await r.json()
                        assert r.status == 200, body
                        acknowledged[body["function_id"]] = code
                except (TimeoutError, aiohttp.ClientError):
                    failures += 1
                    return
                if len(acknowledged) >= 150:
                    enough.set()

        numbers = iter(range(100_000))
        storm = [asyncio.create_task(deployer(numbers)) for _ in range(32)]
        await asyncio.wait_for(enough.wait(), 60)
        hosts = first.host_pids()
        first.process.send_signal(signal.SIGKILL)
        first.process.wait()
        await asyncio.wait_for(asyncio.gather(*storm), 30)
        assert failures > 0, "the kill interrupted nothing"
        for pid in hosts:
            deadline = time.monotonic() + 5
            while alive(pid) and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            assert not alive(pid), "a host outlived its killed server"

        second = start_server(directory, HOSTILE_ENV, workers=1)
        servers.append(second)
        api = api_for(client, second)
        listed: dict[str, Any] = {}
        cursor = None
        while True:  # every page: GET /functions answers in pages (limit, cursor)
            query = {"limit": "1000", **({"cursor": cursor} if cursor else {})}
            async with client.get(f"{second.url}/functions", params=query) as r:
                page = await r.json()
            listed.update({f["id"]: f for f in page["functions"]})
            cursor = page["cursor"]
            if cursor is None:
                break
        missing = set(acknowledged) - set(listed)
        assert not missing, f"{len(missing)} acknowledged deploys are gone"
        # Every record listed is whole: its code is there and matches its hash and size.
        for function_id, record in listed.items():
            async with client.get(f"{second.url}/functions/{function_id}") as r:
                shown = await r.json()
                assert r.status == 200, shown
            assert len(shown["code"].encode()) == record["size"]
            if function_id in acknowledged:
                assert shown["code"] == acknowledged[function_id]
        # And runs.
        sample = random.Random(7).sample(sorted(acknowledged), 40)
        results = await asyncio.gather(*(api.execute(fid) for fid in sample))
        for function_id, result in zip(sample, results, strict=True):
            assert result.code is None, result.body
            n = int(acknowledged[function_id].split("\n")[1].split("n: ")[1].split(",")[0])
            assert result.body["output"]["n"] == n
        leftovers = [p for p in first.data_dir.rglob("*") if p.name.startswith(".tmp-")]
        assert leftovers == [], "files of cut-short writes were left in the data directory"
        print(
            f"\nserver killed after {len(acknowledged)} acknowledged deploys "
            f"({failures} in flight cut off); {len(listed)} listed after the restart"
        )
    finally:
        for server in servers:
            stop_and_check(server)


# -- S3 and Redis stopped and restarted under load -------------------------------------------------
class RestartableMoto:
    """Moto's S3 server on a fixed port, so that it can stop and come back where it was.
    Every moto server of this process shares one in-memory backend: the data survives."""

    def __init__(self) -> None:
        self.port = free_port()
        self.server: ThreadedMotoServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.server.start()

    def stop(self) -> None:
        if self.server is None:
            return
        self.server.stop()
        assert self.server._server is not None
        self.server._server.server_close()
        self.server = None


@pytest.fixture
def restartable_moto() -> Iterator[RestartableMoto]:
    moto = RestartableMoto()
    moto.start()
    yield moto
    moto.stop()


@pytest.fixture
def redis_node(tmp_path: Path) -> Iterator[RedisServer]:
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(directory)
    server.start()
    yield server
    server.stop()


class SteadyLoad:
    """Runs of one (cached) function, one after another on a few connections, until stopped."""

    def __init__(self, api: Api, function_id: str, expected: Any, connections: int = 4) -> None:
        self.api = api
        self.function_id = function_id
        self.expected = expected
        self.ok = 0
        self.failed: list[Any] = []
        self._stop = asyncio.Event()
        self._tasks = [asyncio.create_task(self._loop()) for _ in range(connections)]

    async def _loop(self) -> None:
        while not self._stop.is_set():
            result = await self.api.execute(self.function_id, within=15)
            if (
                result.status == 200
                and result.code is None
                and result.body["output"] == self.expected
            ):
                self.ok += 1
            else:
                self.failed.append((result.status, result.body))
            await asyncio.sleep(0.005)

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)


async def wait_for_status(
    api: Api, status: str, within: float = 20.0, failing: str | None = None
) -> dict[str, Any]:
    """``/health`` once it says ``status`` (and, with ``failing``, that this backend is not ok:
    another backend on the same server, the KV's pings of Redis say, may notice first)."""
    deadline = time.monotonic() + within
    while True:
        health = await api.health()
        if health["status"] == status and (failing is None or not health[failing]["ok"]):
            return health
        assert time.monotonic() < deadline, health
        await asyncio.sleep(0.1)


@pytest.mark.slow
async def test_s3_and_redis_stopped_and_restarted_under_load(
    private_server: Callable[..., ServerProcess],
    client: aiohttp.ClientSession,
    restartable_moto: RestartableMoto,
    redis_node: RedisServer,
) -> None:
    env = {
        "MINIO_ENDPOINT": f"127.0.0.1:{restartable_moto.port}",
        "MINIO_ACCESS_KEY": ACCESS_KEY,
        "MINIO_SECRET_KEY": SECRET_KEY,
        "VORTEX_S3_BUCKET": f"vortex-hardening-{uuid.uuid4().hex[:12]}",
        "VORTEX_S3_CONNECT_TIMEOUT_MS": "500",
        "VORTEX_S3_READ_TIMEOUT_MS": "2000",
        "VORTEX_S3_MAX_ATTEMPTS": "2",
        "REDIS_ADDR": redis_node.addr,
        # The API keys live in Redis too, and the API fails closed once its look at them is
        # older than the auth cache (tests/auth/test_middleware.py::test_store_outage_is_503):
        # a long one here, so that the runs are what is seen through the outage.
        "VORTEX_AUTH_CACHE_MS": "60000",
    }
    server = private_server(env, workers=2)
    api = api_for(client, server)
    cached = await api.deploy("console.log('steady'); Vortex.return({ steady: true })")
    first = await api.execute(cached)
    assert first.code is None, first.body
    assert (await api.health())["status"] == "healthy"
    load = SteadyLoad(api, cached, {"steady": True})
    try:
        # Redis goes away: runs go on, the node says it is degraded; then it comes back.
        await asyncio.sleep(0.5)
        redis_node.stop()
        degraded = await wait_for_status(api, "degraded", failing="logbus")
        assert degraded["logbus"]["ok"] is False
        await asyncio.sleep(1.0)
        redis_node.start()
        await wait_for_status(api, "healthy", within=30)
        during_redis = load.ok

        # S3 goes away: cached code still runs; deploys fail fast with 503 storage_unavailable.
        restartable_moto.stop()
        started = time.monotonic()
        async with client.post(f"{server.url}/deploy", json={"code": "Vortex.return('new')"}) as r:
            body = await r.json()
        assert r.status == 503, body
        assert body["error"]["code"] == "storage_unavailable"
        assert time.monotonic() - started < 5
        assert_no_traceback(str(body))
        degraded = await wait_for_status(api, "degraded", failing="storage")
        assert degraded["storage"]["ok"] is False
        await asyncio.sleep(1.0)
        restartable_moto.start()
        deadline = time.monotonic() + 20
        while True:
            async with client.post(
                f"{server.url}/deploy", json={"code": "Vortex.return('new')"}
            ) as r:
                body = await r.json()
            if r.status == 200:
                break
            assert r.status == 503 and time.monotonic() < deadline, body
            await asyncio.sleep(0.2)
        fresh = await api.execute(body["function_id"])
        assert fresh.body["output"] == "new"
        await wait_for_status(api, "healthy", within=30)
    finally:
        await load.stop()
    assert load.failed == []
    assert during_redis > 20 and load.ok > during_redis + 20, (during_redis, load.ok)
    assert unhandled_in_log(server) == []
    print(f"\nruns under the S3 and Redis outages: {load.ok} ok, {len(load.failed)} failed")


# -- a WebSocket client that never reads -----------------------------------------------------------
def open_raw_websocket(port: int, path: str) -> socket.socket:
    """A WebSocket handshake on a socket with a tiny receive buffer (read it, or not, later)."""
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect(("127.0.0.1", port))
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode()
    )
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = sock.recv(1)
        assert chunk, "the server closed the connection during the handshake"
        response += chunk
    assert response.startswith(b"HTTP/1.1 101"), response
    return sock


def read_slowly_until_closed(sock: socket.socket, within: float) -> tuple[int, int | None]:
    """Read frames at about 400 KB/s until the close frame: (text frames read, close code)."""
    sock.settimeout(within)
    buffer = b""
    texts = 0

    def need(n: int) -> bytes:
        nonlocal buffer
        while len(buffer) < n:
            chunk = sock.recv(4096)
            if not chunk:
                raise EOFError
            buffer += chunk
            time.sleep(0.01)
        data, buffer = buffer[:n], buffer[n:]
        return data

    try:
        while True:
            first, second = need(2)
            length = second & 0x7F
            if length == 126:
                (length,) = struct.unpack(">H", need(2))
            elif length == 127:
                (length,) = struct.unpack(">Q", need(8))
            payload = need(length)
            if first & 0x0F == 0x1:
                texts += 1
            elif first & 0x0F == 0x8:
                code = int(struct.unpack(">H", payload[:2])[0]) if len(payload) >= 2 else None
                return texts, code
    except (EOFError, ConnectionResetError):
        return texts, None


def server_holds_connection(server_pid: int, client: socket.socket) -> bool:
    """Whether the server process still has the other end of ``client`` open."""
    inodes = set()
    for fd in os.listdir(f"/proc/{server_pid}/fd"):
        try:
            target = os.readlink(f"/proc/{server_pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    client_port = client.getsockname()[1]
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                if remote_port == client_port and fields[9] in inodes:
                    return True
    return False


@pytest.mark.slow
async def test_websocket_clients_that_do_not_keep_up_are_dropped_and_others_get_every_line(
    private_server: Callable[..., ServerProcess], client: aiohttp.ClientSession
) -> None:
    """Three tails of one chatty function: one reads at full speed, one reads slowly, one never
    reads. The fast one gets every line; the slow one is dropped with close code 4008 after the
    lines already queued for it (its queue is bounded); the one that never reads is cut off."""
    lines_per_run, runs = 2000, 5  # 10 MB of log lines, more than socket buffers hold
    server = private_server(
        {
            "VORTEX_MAX_LOG_LINES": str(lines_per_run),
            "VORTEX_MAX_LOG_BYTES": str(16 << 20),
            "VORTEX_CPU_LIMIT_MS": "5000",
            "VORTEX_WALL_LIMIT_MS": "10000",
        },
        workers=1,
    )
    api = api_for(client, server)
    chatty = await api.deploy(
        f"for (let i = 0; i < {lines_per_run}; i++) console.log('line', i, 'x'.repeat(1000))\n"
        "Vortex.return('done')"
    )
    async with client.ws_connect(f"{server.ws_url}/ws/{chatty}") as fast:
        slow = open_raw_websocket(server.port, f"/ws/{chatty}")
        dead = open_raw_websocket(server.port, f"/ws/{chatty}")
        try:
            assert (await api.health())["logbus"]["subscribers"] == 3
            received: list[dict[str, Any]] = []

            async def read_all() -> None:
                while len(received) < lines_per_run * runs:
                    message = await fast.receive(timeout=30)
                    assert message.type == aiohttp.WSMsgType.TEXT, message
                    received.append(orjson.loads(message.data))

            reader = asyncio.create_task(read_all())
            slow_reader = asyncio.create_task(asyncio.to_thread(read_slowly_until_closed, slow, 60))
            started = time.monotonic()
            for n in range(runs):
                result = await api.execute(chatty, headers={"X-Vortex-Run-Id": f"run-{n}"})
                assert result.body["output"] == "done", result.body
            await asyncio.wait_for(reader, 60)
            for n in range(runs):
                mine = [m["message"] for m in received if m["run_id"] == f"run-{n}"]
                assert mine == [f"line {i} {'x' * 1000}" for i in range(lines_per_run)]
            # Both laggards lost their subscriptions as soon as their queues filled.
            assert (await api.health())["logbus"]["subscribers"] == 1
            texts, code = await asyncio.wait_for(slow_reader, 60)
            assert code == 4008
            assert 0 < texts < lines_per_run * runs
            # The one that never read is cut off once its send and its close frame time out.
            while server_holds_connection(server.process.pid, dead):
                assert time.monotonic() - started < 25, (
                    "the server still holds a dead client" + server.log()[-3000:]
                )
                await asyncio.sleep(0.2)
            dropped_after = time.monotonic() - started
            # The fast tail was never disturbed.
            assert not fast.closed
        finally:
            slow.close()
            dead.close()
    assert unhandled_in_log(server) == []
    print(
        f"\nfast tail: {len(received)} lines; slow tail: {texts} lines then close {code}; "
        f"dead tail cut off after {dropped_after:.1f} s"
    )
