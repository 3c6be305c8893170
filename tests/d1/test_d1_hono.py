"""A Hono app on D1, bundled with the real package and deployed by ``vortex deploy`` from a
wrangler.toml that declares its database as wrangler's does, its tables made with ``vortex d1
execute --file``: posts and comments, a batch, a foreign key D1 enforces, Hono's errors."""

from __future__ import annotations

import subprocess
import sys
import uuid

import aiohttp
import pytest

from tests.d1.apps import HONO, HONO_SCHEMA
from tests.d1.conftest import call
from tests.npm_apps import apps_project, cli_deploy
from tests.server import ServerProcess


@pytest.fixture
def hono_app(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    server: ServerProcess,
) -> str:
    """The app's name, deployed after its tables were made."""
    project = apps_project(request, tmp_path_factory)
    name = f"hono-d1-{uuid.uuid4().hex[:8]}"
    database = f"blog-{uuid.uuid4().hex[:8]}"
    folder = project / name
    folder.mkdir()
    (folder / "index.mjs").write_text(HONO)
    (folder / "schema.sql").write_text(HONO_SCHEMA)
    (folder / "wrangler.toml").write_text(
        f'name = "{name}"\nmain = "index.mjs"\ncompatibility_date = "2024-11-01"\n\n'
        f'[[d1_databases]]\nbinding = "DB"\ndatabase_name = "{database}"\n'
        'database_id = "7c2bd2cb-2a1b-4c7e-9a0e-1d2a3b4c5d6e"\nmigrations_dir = "migrations"\n'
    )
    made = subprocess.run(
        [sys.executable, "-m", "vortex", "d1", "execute", database, "--file", "schema.sql"],
        cwd=folder,
        env={"PATH": "/usr/bin:/bin", "VORTEX_URL": server.url, "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert made.returncode == 0, made.stdout + made.stderr
    assert cli_deploy(server, folder)["name"] == name
    return name


async def test_a_hono_app_on_d1_runs_unchanged(hono_app: str, server: ServerProcess) -> None:
    def url(path: str) -> str:
        return server.fn_url(hono_app, path)

    async with aiohttp.ClientSession() as client:
        first = await call(client, "POST", url("/posts"), 201, json={"title": "Hi", "tags": ["a"]})
        await call(client, "POST", url("/posts"), 201, json={"title": "Two"})
        added = await call(
            client, "POST", url(f"/posts/{first['id']}/comments"), 201, json={"bodies": ["x", "y"]}
        )
        assert added == {"added": 2}
        assert await call(client, "GET", url("/posts")) == [
            {"id": 1, "title": "Hi", "tags": ["a"]},
            {"id": 2, "title": "Two", "tags": []},
        ]
        post = await call(client, "GET", url("/posts/1"))
        assert post == {"id": 1, "title": "Hi", "tags": '["a"]', "comments": ["x", "y"]}
        async with client.get(url("/posts/9")) as response:
            assert response.status == 404 and await response.text() == "no such post"
        # Comments of a post that is not there: the foreign key refuses the whole batch.
        refused = await call(client, "POST", url("/posts/9/comments"), 500, json={"bodies": ["z"]})
        assert refused["error"] == "D1_ERROR: FOREIGN KEY constraint failed: SQLITE_CONSTRAINT"
        async with client.delete(url("/posts/1")) as response:
            assert response.status == 204
        assert [p["id"] for p in await call(client, "GET", url("/posts"))] == [2]
