from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.gate import Gate, serve_gate
from tests.server import LoopbackResolver, ServerProcess, start_server, stop_and_check

# Every client session of the tests resolves *.localhost to loopback, as curl and browsers do:
# /fn/ answers with a redirect to http://{function}.localhost:{port}/.
aiohttp.connector.DefaultResolver = LoopbackResolver  # type: ignore[misc,assignment]

# Limits small enough that tests of them are quick, large enough that normal tests never hit them.
TEST_SERVER_ENV = {
    "VORTEX_CPU_LIMIT_MS": "700",
    "VORTEX_WALL_LIMIT_MS": "5000",
    "VORTEX_MAX_LOG_LINES": "500",
    "VORTEX_MAX_TIMERS": "100",
    "VORTEX_MAX_OUTPUT_BYTES": "65536",
}


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real ``vortex serve`` shared by the tests that do not stop or break it."""
    proc = start_server(tmp_path_factory.mktemp("server"), TEST_SERVER_ENV)
    yield proc
    stop_and_check(proc)


@pytest.fixture(scope="session")
def edge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose functions may fetch loopback, where the tests serve what apps call (a
    JWKS, a fake Sentry, a fake Upstash), as an operator allows it."""
    proc = start_server(
        tmp_path_factory.mktemp("edge"), {**TEST_SERVER_ENV, "VORTEX_FETCH_ALLOW_PRIVATE": "1"}
    )
    yield proc
    stop_and_check(proc)


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[Callable[..., ServerProcess]]:
    """Private servers for tests that kill, starve or reconfigure them."""
    started: list[ServerProcess] = []

    def make(env: dict[str, str] | None = None, **kwargs: object) -> ServerProcess:
        directory = tmp_path / f"server{len(started)}"
        directory.mkdir()
        proc = start_server(directory, {**TEST_SERVER_ENV, **(env or {})}, **kwargs)  # type: ignore[arg-type]
        started.append(proc)
        return proc

    yield make
    for proc in started:
        stop_and_check(proc)


@pytest.fixture
async def http(server: ServerProcess) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=server.url) as session:
        yield session


@pytest.fixture
def deploy(http: aiohttp.ClientSession) -> Callable[[str], object]:
    async def _deploy(code: str, **extra: object) -> str:
        async with http.post("/deploy", json={"code": code, **extra}) as response:
            body = await response.json()
            assert response.status == 200, body
            return str(body["function_id"])

    return _deploy


@pytest.fixture(scope="module")
def one_host(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A server with one host for the test module, whose runs then share it; the module's
    ``ONE_HOST_ENV`` adds to its environment."""
    env = {**TEST_SERVER_ENV, **getattr(request.module, "ONE_HOST_ENV", {})}
    proc = start_server(tmp_path_factory.mktemp("one-host"), env, workers=1)
    yield proc
    stop_and_check(proc)


@pytest.fixture
async def api(one_host: ServerProcess) -> AsyncIterator[aiohttp.ClientSession]:
    """A client of ``one_host``'s API."""
    async with aiohttp.ClientSession(base_url=one_host.url) as session:
        yield session


@pytest.fixture
def run(
    http: aiohttp.ClientSession, deploy: Callable[..., Awaitable[str]]
) -> Callable[[str], Awaitable[dict[str, Any]]]:
    """Deploy ``code`` and run it once; the execute response body."""

    async def _run(code: str) -> dict[str, Any]:
        function_id = await deploy(code)
        async with http.post(f"/execute/{function_id}") as response:
            assert response.status == 200
            body: dict[str, Any] = await response.json()
            return body

    return _run


@pytest.fixture
async def gate() -> AsyncIterator[Gate]:
    """A local endpoint a function's fetch() waits on until the test opens it (tests/gate.py)."""
    async with serve_gate() as opened:
        yield opened


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--update-wpt-expectations",
        action="store_true",
        help="rewrite tests/wpt/expectations.json from this run's WPT results (tests/wpt)",
    )
