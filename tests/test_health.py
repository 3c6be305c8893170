"""``GET /health`` names every backend (store, log bus, KV, API keys) and whether it answers,
on a real server, without a secret or the number of API keys in its public answer."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

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


@contextlib.contextmanager
def small_filesystem(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where``: a disk that really fills (ENOSPC), as a full
    data disk does. Needs the right to mount (root, or CAP_SYS_ADMIN)."""
    where.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def fill(directory: Path) -> Path:
    """Write zeros into ``directory`` until its filesystem refuses with ENOSPC."""
    path = directory / "filler"
    with open(path, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC, exc
    return path


async def health_of(http: aiohttp.ClientSession) -> dict[str, Any]:
    async with http.get("/health") as response:
        assert response.status == 200
        body: dict[str, Any] = await response.json()
        return body


async def wait_for_storage(http: aiohttp.ClientSession, ok: bool) -> dict[str, Any]:
    """/health as soon as it says the storage is (not) ``ok``: it probes at most every few
    seconds, so this waits for the state rather than for a time."""
    deadline = asyncio.get_running_loop().time() + 30
    while True:
        body = await health_of(http)
        if body["storage"]["ok"] is ok:
            return body
        assert asyncio.get_running_loop().time() < deadline, body
        await asyncio.sleep(0.1)


async def test_a_full_data_disk_makes_health_degraded_with_the_reason(tmp_path: Path) -> None:
    """/health once said storage ok while every deploy failed on a full disk: it looked only at
    the directory's permissions. It now writes (and deletes) a small object."""
    with small_filesystem(tmp_path / "disk", "4m") as disk:
        data_dir = disk / "data"
        server = start_server(
            tmp_path, {**TEST_SERVER_ENV, "VORTEX_DATA_DIR": str(data_dir)}, workers=1
        )
        try:
            async with aiohttp.ClientSession(base_url=server.url) as http:
                body = await health_of(http)
                assert body["status"] == "healthy", body
                async with http.post("/deploy", json={"code": "Vortex.return(1);"}) as response:
                    assert response.status == 200
                filler = fill(disk)
                code = "Vortex.return('" + "x" * 20_000 + "');"
                async with http.post("/deploy", json={"code": code}) as response:
                    assert response.status == 503
                    assert (await response.json())["error"]["code"] == "storage_unavailable"
                body = await wait_for_storage(http, ok=False)
                assert body["status"] == "degraded"
                assert "No space left on device" in body["storage"]["error"], body
                assert str(data_dir) in body["storage"]["error"]
                assert not list(data_dir.glob("health*")) and not list(data_dir.glob(".tmp-*"))

                filler.unlink()
                body = await wait_for_storage(http, ok=True)
                assert body["status"] == "healthy", body
                async with http.post("/deploy", json={"code": code}) as response:
                    assert response.status == 200
        finally:
            stop_and_check(server)
