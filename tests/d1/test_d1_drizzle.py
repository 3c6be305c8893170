"""drizzle-orm on D1: the app of tests/apps/drizzle, written as drizzle's D1 docs show, bundled
with the real package and deployed by ``vortex deploy`` from a wrangler.toml, its tables made
by ``vortex d1 migrations apply`` from the SQL drizzle-kit generates.

drizzle-orm 0.44 wraps every failed query in a DrizzleQueryError whose constructor calls
``Error.captureStackTrace`` unguarded: until Vortex's SES had it, a unique email answered
"Error.captureStackTrace is not a function" instead of the query and D1's error.
"""

from __future__ import annotations

import subprocess
import sys
import uuid

import aiohttp
import pytest

from tests.d1.conftest import call
from tests.npm_apps import apps_project, cli_deploy
from tests.server import ServerProcess


@pytest.fixture
def drizzle_app(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    server: ServerProcess,
) -> str:
    """The app's name, deployed after its migrations were applied to a fresh database."""
    folder = apps_project(request, tmp_path_factory) / "drizzle"
    name = f"drizzle-{uuid.uuid4().hex[:8]}"
    (folder / "wrangler.toml").write_text(
        f'name = "{name}"\nmain = "index.mjs"\ncompatibility_date = "2024-11-01"\n\n'
        f'[[d1_databases]]\nbinding = "DB"\ndatabase_name = "db-{name}"\n'
        'database_id = "7c2bd2cb-2a1b-4c7e-9a0e-1d2a3b4c5d6e"\nmigrations_dir = "migrations"\n'
    )
    applied = subprocess.run(
        [sys.executable, "-m", "vortex", "d1", "migrations", "apply", "DB"],
        cwd=folder,
        env={"PATH": "/usr/bin:/bin", "VORTEX_URL": server.url, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert applied.returncode == 0, applied.stdout + applied.stderr
    assert "0000_init.sql" in applied.stdout
    assert cli_deploy(server, folder)["name"] == name
    return name


async def test_drizzle_on_d1_runs_unchanged(drizzle_app: str, server: ServerProcess) -> None:
    def url(path: str) -> str:
        return server.fn_url(drizzle_app, path)

    async with aiohttp.ClientSession() as client:
        ada = await call(
            client,
            "POST",
            url("/users"),
            201,
            json={"name": "Ada", "email": "a@x.io", "prefs": {"t": 1}},
        )
        assert ada["id"] == 1 and ada["role"] == "member" and ada["prefs"] == {"t": 1}
        assert ada["createdAt"].endswith("Z")  # a Date from unixepoch(), as JSON
        await call(
            client,
            "POST",
            url("/users"),
            201,
            json={"name": "Bob", "email": "b@x.io", "role": "admin"},
        )
        await call(
            client,
            "POST",
            url("/posts"),
            201,
            json=[
                {"authorId": 1, "title": "first", "published": True},
                {"authorId": 1, "title": "draft"},
            ],
        )
        assert await call(client, "GET", url("/users?q=Ad")) == [
            {"id": 1, "name": "Ada", "role": "member", "prefs": {"t": 1}}
        ]
        found = await call(client, "GET", url("/users/1"))
        assert [p["title"] for p in found["posts"]] == ["draft", "first"]
        assert found["createdAtIsDate"] is True and found["posts"][1]["published"] is True
        await call(client, "GET", url("/users/9"), 404)
        assert await call(client, "PATCH", url("/users/2"), json={"role": "member"}) == [
            {"id": 2, "role": "member"}
        ]
        assert await call(client, "GET", url("/posts?published=false")) == [
            {"title": "draft", "author": "Ada", "published": False}
        ]
        assert await call(client, "GET", url("/stats")) == {
            "rows": [{"author": "Ada", "posts": 2}, {"author": "Bob", "posts": 0}],
            "users": 2,
        }
        assert await call(client, "GET", url("/batch")) == {
            "added": [{"id": 3}],
            "counted": [{"n": 3}],
            "ran": True,
        }
        assert await call(client, "GET", url("/sql")) == {
            "all": [{"name": "Ada"}],
            "get": {"n": 3},
            "values": [[1, "Ada"], [2, "Bob"]],
            "prepared": "Bob",
        }
        # the cascade D1 enforces: Ada's posts go with her
        assert await call(client, "DELETE", url("/users/1")) == {"changes": 1}
        assert (await call(client, "GET", url("/stats")))["rows"][0] == {
            "author": "Bob",
            "posts": 0,
        }


async def test_a_failed_query_is_drizzles_error_with_d1s_as_its_cause(
    drizzle_app: str, server: ServerProcess
) -> None:
    async with aiohttp.ClientSession() as client:
        user = {"name": "Ada", "email": "a@x.io"}
        await call(client, "POST", server.fn_url(drizzle_app, "/users"), 201, json=user)
        refused = await call(client, "POST", server.fn_url(drizzle_app, "/users"), 500, json=user)
    assert refused["error"].startswith('Failed query: insert into "users"')
    assert refused["error"].endswith("params: Ada,a@x.io,member")
    assert refused["cause"] == "D1_ERROR: UNIQUE constraint failed: users.email: SQLITE_CONSTRAINT"
    assert refused["stack"] == f"Error: {refused['error'].splitlines()[0]}"
