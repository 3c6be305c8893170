"""Hostile SQL and D1's limits on a private server: ATTACH, VACUUM INTO and the PRAGMAs that
touch files or journaling are refused and no file appears outside the database's folder; a
runaway recursive query ends at the time limit while the next query answers; a database stops
growing at its size limit; a result past its cap is an error, not a frame too large."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import aiohttp

from tests.d1.apps import PROBES
from tests.d1.conftest import call, deploy_app
from tests.server import ServerProcess

LIMITS = {
    "VORTEX_D1_QUERY_MS": "400",
    "VORTEX_D1_MAX_DATABASE_BYTES": str(1 << 20),
    "VORTEX_D1_MAX_RESULT_BYTES": str(256 << 10),
}


async def test_hostile_sql_and_limits_end_in_errors_and_the_host_stays(
    server_factory: Callable[..., ServerProcess], tmp_path: Path
) -> None:
    server = server_factory(LIMITS, workers=1)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        app = await deploy_app(http, server, PROBES)
    hosts = sorted(server.host_pids())
    outside = tmp_path / "outside"
    outside.mkdir()
    async with aiohttp.ClientSession() as client:
        hostile = await call(client, "GET", app.url(f"/hostile?dir={outside}"))
        runaway = await call(client, "GET", app.url("/runaway"))
        fill = await call(client, "GET", app.url("/fill"))
    assert hostile["attach"]["message"].startswith("D1_EXEC_ERROR: Error in line 1: ATTACH")
    for label in ("attachPrepared", "journal", "pageCount", "writableSchema"):
        assert hostile[label]["message"].startswith("D1_ERROR: not authorized"), (label, hostile)
    assert hostile["vacuumInto"]["message"] == "D1_ERROR: authorization denied: SQLITE_AUTH"
    assert hostile["attach"]["message"].endswith("not authorized: SQLITE_AUTH")
    assert "not authorized" in hostile["loadExtension"]["message"]
    assert "not authorized" in hostile["begin"]["message"]
    assert "not authorized to use function: fts3_tokenizer" in hostile["pointer"]["message"]
    assert hostile["pageSize"]["message"].startswith("D1_ERROR: not authorized")
    assert hostile["tableInfo"] == "no error" and hostile["foreignKeys"] == {"foreign_keys": 1}
    assert list(outside.iterdir()) == []
    database_dir = server.data_dir / "d1" / "default"
    assert sorted(p.name for p in database_dir.iterdir()) == [
        f"{app.database}.sqlite3",
        f"{app.database}.sqlite3-shm",
        f"{app.database}.sqlite3-wal",
    ]

    assert runaway["runaway"]["message"].startswith("D1_ERROR: the query ran past the time limit")
    assert runaway["after"] == 42 and runaway["ms"] < 4000

    assert fill["full"]["message"] == "D1_ERROR: database or disk is full: SQLITE_FULL"
    assert 5 <= fill["count"] <= 21  # 1 MiB of 50 kB blobs
    assert fill["wide"]["message"].startswith("D1_ERROR: the result is over 262144 bytes")
    assert fill["small"] == 1
    assert (database_dir / f"{app.database}.sqlite3").stat().st_size <= 1 << 20
    assert sorted(server.host_pids()) == hosts


async def test_d1_is_refused_where_nodes_share_a_store(
    server_factory: Callable[..., ServerProcess],
) -> None:
    # An S3 store makes the server a node of several: it need not answer for this refusal.
    server = server_factory({"VORTEX_S3_ENDPOINT": "http://127.0.0.1:9"}, workers=1)
    body = {
        "code": "export default { fetch() { return new Response('x') } }",
        "d1_databases": [{"binding": "DB", "database_name": "app"}],
    }
    async with (
        aiohttp.ClientSession(base_url=server.url) as http,
        http.post("/deploy", json=body) as response,
    ):
        error = (await response.json())["error"]
        assert response.status == 409 and error["code"] == "d1_unavailable"
        assert "docs/d1.md" in error["message"]


async def test_a_run_that_ends_mid_query_frees_its_database(
    server_factory: Callable[..., ServerProcess],
) -> None:
    # The query's own deadline is far off: only the run's end can stop it this soon.
    server = server_factory({"VORTEX_D1_QUERY_MS": "120000", "VORTEX_WALL_LIMIT_MS": "1500"})
    async with aiohttp.ClientSession(base_url=server.url) as http:
        app = await deploy_app(http, server, PROBES)
        async with aiohttp.ClientSession() as client, client.get(app.url("/runaway")) as response:
            assert response.status >= 500
        started = time.monotonic()
        path = f"/d1/{app.database}/query"
        answer = await call(http, "POST", path, json={"sql": "SELECT 1 AS one"})
        assert answer["result"][0]["results"] == [{"one": 1}]
        assert time.monotonic() - started < 10
