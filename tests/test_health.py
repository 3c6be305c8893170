"""``GET /health`` names every backend (store, log bus, KV, API keys) and whether it answers,
on a real server, without a secret or the number of API keys in its public answer."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import aiohttp

from tests.auth.test_server import vortex_keys
from tests.conftest import TEST_SERVER_ENV
from tests.server import ServerProcess, free_port, start_server, stop_and_check


async def test_health_names_every_backend(http: aiohttp.ClientSession) -> None:
    async with http.get("/health") as response:
        body = await response.json()
    assert response.status == 200
    assert body["status"] == "healthy"
    assert body["storage"]["backend"] == "local" and body["storage"]["ok"] is True
    assert body["logbus"]["backend"] == "memory" and body["logbus"]["ok"] is True
    assert body["kv"]["backend"] == "sqlite" and body["kv"]["ok"] is True
    assert body["auth"]["backend"] == "local" and body["auth"]["ok"] is True
    assert "keys" not in body["auth"]  # a public route does not tell how many keys exist


async def test_an_unreachable_redis_makes_kv_and_keys_unhealthy_without_its_password(
    server_factory: Callable[..., ServerProcess],
) -> None:
    password = "pa55-w0rd-never-shown"
    port = free_port()
    nothing_there = f"redis://:{password}@127.0.0.1:{port}/0"
    server = server_factory({"VORTEX_REDIS_URL": nothing_there}, workers=1)
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"{server.url}/health") as response,
    ):
        text = await response.text()
        body = await response.json()
    assert response.status == 200  # degraded: cached code still runs
    assert body["status"] == "degraded"
    for component in ("kv", "auth", "logbus"):
        assert body[component]["backend"] == "redis", body
        assert body[component]["ok"] is False, body
        assert body[component]["error"], body
    assert password not in text
    # The keys' store does not answer: it may hold keys, so the route answers as a server with
    # keys does, without where the backends are or why they fail (the server's log says).
    assert f":{port}" not in text
    assert "health: kv (redis) is failing: " in server.log()
    assert body["storage"] == {"backend": "local", "ok": True}


async def test_a_server_with_api_keys_does_not_say_where_its_backends_are(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(workers=1)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        async with http.get("/health") as response:
            assert "path" in (await response.json())["storage"]  # single-tenant: the operator
        created = vortex_keys(server, "create", "--namespace", "acme")
        assert created.returncode == 0, created.stderr
        server.wait_for_keys()
        async with http.get("/health") as response:
            text = await response.text()
            body = await response.json()
    assert response.status == 200 and body["status"] == "healthy"
    for component in ("storage", "logbus", "kv", "auth"):
        assert set(body[component]) <= {"backend", "ok", "subscribers"}, body[component]
    assert str(server.data_dir) not in text


async def test_a_corrupt_record_is_skipped_logged_and_reported(
    server_factory: Callable[..., ServerProcess],
) -> None:
    """A truncated functions/*.json once made GET /functions answer 500 for everyone (and
    every cron pass read the same list)."""
    server = server_factory(workers=1)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        ids = []
        for n in range(2):
            async with http.post("/deploy", json={"code": f"Vortex.return({n});"}) as response:
                ids.append((await response.json())["function_id"])
    good, broken = ids
    # Damaged while no server runs: a server that wrote the record keeps it in memory.
    server.stop()
    path = server.data_dir / "functions" / f"{broken}.json"
    path.write_bytes(path.read_bytes()[:30])
    server = start_server(server.data_dir.parent, TEST_SERVER_ENV, workers=1)
    try:
        await _check_the_corrupt_record_is_skipped(server, good, path)
    finally:
        stop_and_check(server)


async def _check_the_corrupt_record_is_skipped(
    server: ServerProcess, good: str, path: Path
) -> None:
    async with aiohttp.ClientSession(base_url=server.url) as http:
        async with http.get("/functions") as response:
            assert response.status == 200
            listed = [f["id"] for f in (await response.json())["functions"]]
        assert listed == [good]
        async with http.post(f"/execute/{good}") as response:
            assert (await response.json())["output"] == 0
        async with http.get("/health") as response:
            storage = (await response.json())["storage"]
        assert storage["corrupt_records"] == 1
        assert storage["corrupt_record_paths"] == [str(path)]
    assert server.log().count(f"skipping the corrupt function record {path}") == 1
