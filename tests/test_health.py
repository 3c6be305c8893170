"""``GET /health`` names every backend (store, log bus, KV, API keys) and whether it answers,
on a real server, without a secret or the number of API keys in its public answer."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp

from tests.server import ServerProcess, free_port


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
    assert body["kv"]["url"] == body["auth"]["url"] == f"redis://127.0.0.1:{port}"
    assert password not in text
    assert body["storage"] == {"backend": "local", "ok": True, "path": body["storage"]["path"]}
