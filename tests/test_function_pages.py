"""``GET /functions`` in pages, through a real server: the answer, its errors, ``vortex list``
following cursors, and the index rebuilt when lost (at start, and by ``vortex index rebuild``).

The cursor guarantees on every store are in tests/backends/test_function_index.py."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from click.testing import CliRunner

from tests.conftest import TEST_SERVER_ENV
from tests.server import ServerProcess, start_server, stop_and_check
from vortex.cli.main import cli
from vortex.client import VortexClient
from vortex.storage.index import FunctionIndex
from vortex.storage.keyindex import FILENAME
from vortex.storage.local import LocalStore


async def get(http: aiohttp.ClientSession, path: str, status: int = 200) -> dict[str, Any]:
    async with http.get(path) as response:
        body: dict[str, Any] = await response.json()
        assert response.status == status, (path, body)
        return body


async def deploy(http: aiohttp.ClientSession, **extra: object) -> str:
    async with http.post("/deploy", json={"code": "Vortex.return(1)", **extra}) as response:
        body = await response.json()
        assert response.status == 200, body
        return str(body["function_id"])


async def test_pages_keep_every_field_and_end_with_a_null_cursor(
    http: aiohttp.ClientSession,
) -> None:
    prefix = f"pages-{uuid.uuid4().hex[:8]}"
    for i in range(3):
        await deploy(http, name=f"{prefix}-{i}", env={"A": "1"})
    first = await get(http, f"/functions?prefix={prefix}&limit=2")
    assert [f["name"] for f in first["functions"]] == [f"{prefix}-2", f"{prefix}-1"]
    shown = first["functions"][0]
    assert {"id", "name", "version", "env", "secrets", "url", "last_run", "created_at"} <= set(
        shown
    )
    assert isinstance(first["cursor"], str)
    rest = await get(http, f"/functions?prefix={prefix}&limit=2&cursor={first['cursor']}")
    assert [f["name"] for f in rest["functions"]] == [f"{prefix}-0"]
    assert rest["cursor"] is None
    assert len((await get(http, "/functions"))["functions"]) <= 100


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("limit=0", "invalid_limit"),
        ("limit=1001", "invalid_limit"),
        ("limit=ten", "invalid_limit"),
        ("cursor=garbage", "invalid_cursor"),
        ("prefix=a/b", "invalid_request"),
    ],
)
async def test_wrong_queries_are_clear_400s(
    http: aiohttp.ClientSession, query: str, code: str
) -> None:
    body = await get(http, f"/functions?{query}", status=400)
    assert body["error"]["code"] == code


async def test_limit_at_most_1000_is_accepted(http: aiohttp.ClientSession) -> None:
    assert "functions" in await get(http, "/functions?limit=1000")


async def vortex(*args: str, env: dict[str, str]) -> Any:
    """The CLI runs its own event loop: in a thread of its own, beside the test's."""

    def invoke() -> Any:
        return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)

    result = await asyncio.to_thread(invoke)
    assert result.exit_code == 0, result.output + result.stderr
    return result


async def test_list_follows_cursors_and_a_lost_index_is_rebuilt(tmp_path: Path) -> None:
    server = start_server(tmp_path, TEST_SERVER_ENV, workers=1)
    try:
        async with aiohttp.ClientSession(base_url=server.url) as http:
            ids = [await deploy(http) for _ in range(5)]
            await deploy(http, name="ticking", schedule="*/5 * * * *")
        async with VortexClient(server.url) as client:
            followed = await client.list_functions(page_size=2)
            assert [f.id for f in followed][1:] == ids[::-1]
            assert [f.id for f in await client.list_functions(3, page_size=2)] == [
                f.id for f in followed[:3]
            ]
        env = {"VORTEX_URL": server.url, "NO_COLOR": "1"}
        listed = json.loads((await vortex("list", "--json", env=env)).stdout)
        assert [f["id"] for f in listed["functions"]] == [f.id for f in followed]
        table = (await vortex("list", "--limit", "2", env=env)).stdout
        assert followed[1].id in table and followed[2].id not in table
    finally:
        stop_and_check(server)

    # Lost while the server was down: the next start rebuilds it from the records.
    (server.data_dir / FILENAME).unlink()
    server = restart(tmp_path)
    try:
        async with aiohttp.ClientSession(base_url=server.url) as http:
            found = await get(http, "/functions?limit=1000")
            assert len(found["functions"]) == 6
    finally:
        stop_and_check(server)
    store = LocalStore(server.data_dir)
    try:
        assert await FunctionIndex(store.index, store).schedules() == {
            "name:default:ticking": ("*/5 * * * *",)
        }
    finally:
        await store.close()

    # Wrong while no server runs: the operator's command repairs it.
    data_dir = str(server.data_dir)
    rebuilt = await vortex("index", "rebuild", "--data-dir", data_dir, "--json", env={})
    assert json.loads(rebuilt.stdout)["functions"] == 6


def test_a_rebuild_where_there_is_no_data_directory_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # It used to make an empty store (and a secrets key) there and report 0 functions rebuilt.
    monkeypatch.chdir(tmp_path)
    for name in ("VORTEX_DATA_DIR", "MINIO_ENDPOINT", "VORTEX_S3_BUCKET"):
        monkeypatch.delenv(name, raising=False)
    result = CliRunner().invoke(cli, ["index", "rebuild"])
    assert result.exit_code == 2, result.output
    assert "no data directory at" in result.output and "--data-dir" in result.output
    assert not (tmp_path / ".vortex").exists()
    result = CliRunner().invoke(cli, ["index", "rebuild", "--data-dir", "nope", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "data_dir_not_found"


def restart(tmp_path: Path) -> ServerProcess:
    return start_server(tmp_path, TEST_SERVER_ENV, workers=1)
