"""Shared pieces of the hardening suite: private servers with small limits, a small API client
that times every call, and the checks that every hardening test ends with (the platform still
serves a normal function, /health is healthy, the server log holds no unhandled exception).

Every server, Redis and moto started here is stopped again, even when a test fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.gate import Gate
from tests.server import ServerProcess, start_server, stop_and_check

# Limits small enough that hostile code is stopped quickly.
HOSTILE_ENV = {
    "VORTEX_CPU_LIMIT_MS": "300",
    "VORTEX_WALL_LIMIT_MS": "2000",
    "VORTEX_HOST_MEMORY_MB": "400",
    "VORTEX_MAX_LOG_LINES": "500",
    "VORTEX_MAX_LOG_BYTES": "262144",
    "VORTEX_MAX_TIMERS": "100",
    "VORTEX_MAX_OUTPUT_BYTES": "65536",
}
CPU_LIMIT_S = 0.3
WALL_LIMIT_S = 2.0
# How late past its limit a stopped run may answer: the watchdog ticks every 50 ms, and a kill,
# the reaping of the host and the answer take a little more on a busy two-core machine.
MARGIN_S = 1.5

NORMAL_CODE = (
    "console.log('normal', 1 + 1);\n"
    "await new Promise((resolve) => setTimeout(resolve, 5));\n"
    "Vortex.return({ ok: true, sum: [1, 2, 3].reduce((a, b) => a + b, 0) });\n"
)
NORMAL_OUTPUT = {"ok": True, "sum": 6}

# What must never reach a user: a Python traceback or the path of a Python source file.
TRACEBACK_MARKERS = ("Traceback (most recent call last)", 'File "/')
# What the server log must not hold: an exception nobody handled.
UNHANDLED_LOG = re.compile(
    r"Traceback \(most recent call last\)|unhandled error|Task exception was never retrieved"
    r"|Exception in callback|Error handling request"
)


@dataclass
class Timed:
    status: int
    body: Any
    elapsed: float
    headers: dict[str, str]

    @property
    def code(self) -> str | None:
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            return str(self.body["error"].get("code"))
        return None


class Api:
    """A thin client of one server; every call is timed."""

    def __init__(self, http: aiohttp.ClientSession, server: ServerProcess) -> None:
        self.http = http
        self.server = server
        self.url = server.url

    async def deploy(self, code: str, **extra: Any) -> str:
        async with self.http.post(f"{self.url}/deploy", json={"code": code, **extra}) as response:
            body = await response.json()
            assert response.status == 200, body
            return str(body["function_id"])

    async def try_deploy(self, code: str, **extra: Any) -> Timed:
        """A deploy whatever its answer."""
        started = time.monotonic()
        async with self.http.post(f"{self.url}/deploy", json={"code": code, **extra}) as response:
            body = await response.json()
            return Timed(response.status, body, time.monotonic() - started, dict(response.headers))

    async def execute(self, function_id: str, *, within: float = 30.0, **kwargs: Any) -> Timed:
        started = time.monotonic()
        async with self.http.post(
            f"{self.url}/execute/{function_id}",
            timeout=aiohttp.ClientTimeout(total=within),
            **kwargs,
        ) as response:
            body = await response.json()
            return Timed(response.status, body, time.monotonic() - started, dict(response.headers))

    async def run(self, code: str, *, within: float = 30.0) -> Timed:
        return await self.execute(await self.deploy(code), within=within)

    async def health(self) -> dict[str, Any]:
        async with self.http.get(
            f"{self.url}/health", timeout=aiohttp.ClientTimeout(total=5)
        ) as response:
            body: dict[str, Any] = await response.json()
            return body

    async def wait_healthy(self, within: float = 20.0) -> dict[str, Any]:
        """/health once every host is back (a killed host is replaced in about a second)."""
        deadline = time.monotonic() + within
        while True:
            body = await self.health()
            if body["status"] == "healthy" and body["spare_workers"] >= 1:
                return body
            assert time.monotonic() < deadline, f"the pool did not heal: {body}"
            await asyncio.sleep(0.1)

    async def assert_serves_normally(self) -> None:
        """A normal function deploys and runs correctly, and the pool is whole again."""
        result = await self.run(NORMAL_CODE)
        assert result.status == 200, result.body
        assert result.code is None, result.body
        assert result.body["output"] == NORMAL_OUTPUT
        assert [line["message"] for line in result.body["logs"]] == ["normal 2"]
        await self.wait_healthy()


def assert_no_traceback(text: str, where: str = "response") -> None:
    for marker in TRACEBACK_MARKERS:
        assert marker not in text, f"{where} shows Python internals ({marker!r}): {text[:2000]}"


LOG_ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ ", re.MULTILINE)
# aiohttp answers a request it cannot parse with 400 itself and logs the parser's exception at
# ERROR: noise a client can cause, not an exception Vortex failed to handle.
MALFORMED_REQUEST = re.compile(r"Error handling request.*aiohttp\.http_exceptions\.", re.DOTALL)


def unhandled_entries(text: str) -> list[str]:
    """The entries of a server log that tell of an exception nobody handled."""
    starts = [m.start() for m in LOG_ENTRY.finditer(text)]
    entries = [text[a:b] for a, b in zip([0, *starts], [*starts, len(text)], strict=True)]
    return [
        entry
        for entry in entries
        if UNHANDLED_LOG.search(entry) and not MALFORMED_REQUEST.search(entry)
    ]


def unhandled_in_log(server: ServerProcess) -> list[str]:
    return unhandled_entries(server.log())


def host_cpu_ticks(pid: int) -> int:
    """User plus system CPU time of a process, in clock ticks (usually 1/100 s)."""
    with open(f"/proc/{pid}/stat", "rb") as stat:
        fields = stat.read().rsplit(b")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/statm", "rb") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / (1 << 20)


def fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


@pytest.fixture(scope="module")
def module_servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[..., Any]]:
    """Private servers shared by the tests of one module (they survive what those tests do).
    None may have logged an exception nobody handled."""
    started: list[ServerProcess] = []

    def make(env: dict[str, str] | None = None, *, workers: int = 2) -> ServerProcess:
        directory = tmp_path_factory.mktemp("hardening")
        server = start_server(directory, {**HOSTILE_ENV, **(env or {})}, workers=workers)
        started.append(server)
        return server

    yield make
    leftovers = [entry for server in started for entry in unhandled_in_log(server)]
    for server in started:
        stop_and_check(server)
    assert not leftovers, "\n".join(leftovers)


@pytest.fixture
def private_server(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Servers of one test, with the hostile limits unless told otherwise."""
    started: list[ServerProcess] = []

    def make(env: dict[str, str] | None = None, *, workers: int = 2) -> ServerProcess:
        directory = tmp_path / f"server{len(started)}"
        directory.mkdir()
        server = start_server(directory, {**HOSTILE_ENV, **(env or {})}, workers=workers)
        started.append(server)
        return server

    yield make
    for server in started:
        stop_and_check(server)


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        yield session


def api_for(client: aiohttp.ClientSession, server: ServerProcess) -> Api:
    return Api(client, server)


@contextlib.asynccontextmanager
async def neighbour_at(api: Api, gate: Gate) -> AsyncIterator[asyncio.Task[Timed]]:
    """A run waiting at ``gate`` on ``api``'s server while the block runs: the neighbour whose
    fate a test checks (``(await neighbour).body["output"] == "opened"`` once the test opens
    the gate). Opened and awaited on the way out, whatever the test did."""
    neighbour_id = await api.deploy(gate.code, allow_hosts=["127.0.0.1"])
    neighbour = asyncio.create_task(api.execute(neighbour_id))
    await gate.arrival()
    try:
        yield neighbour
    finally:
        gate.open()
        await asyncio.gather(neighbour, return_exceptions=True)
