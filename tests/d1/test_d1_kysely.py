"""Kysely on D1: the app of tests/apps/kysely, written as the docs of Kysely and kysely-d1 show,
bundled with the real packages and deployed by ``vortex deploy`` from a wrangler.toml that
binds a fresh database; its tables made by the app with Kysely's schema builder.

It ran unchanged; it guards a second query builder's SQL (joins, aggregates, ``returning``,
``numUpdatedRows`` from D1's meta) and D1's errors as Kysely passes them on.
"""

from __future__ import annotations

import uuid

import aiohttp
import pytest

from tests.d1.conftest import call
from tests.npm_apps import apps_project, cli_deploy
from tests.server import ServerProcess


@pytest.fixture
def kysely_app(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, server: ServerProcess
) -> str:
    folder = apps_project(request, tmp_path_factory) / "kysely"
    name = f"kysely-{uuid.uuid4().hex[:8]}"
    (folder / "wrangler.toml").write_text(
        f'name = "{name}"\nmain = "index.mjs"\ncompatibility_date = "2024-11-01"\n\n'
        f'[[d1_databases]]\nbinding = "DB"\ndatabase_name = "db-{name}"\n'
        'database_id = "5b1e4c0a-2a1b-4c7e-9a0e-1d2a3b4c5d6e"\n'
    )
    assert cli_deploy(server, folder)["name"] == name
    return name


async def test_kysely_on_d1_runs_unchanged(kysely_app: str, server: ServerProcess) -> None:
    def url(path: str) -> str:
        return server.fn_url(kysely_app, path)

    async with aiohttp.ClientSession() as client:
        assert await call(client, "GET", url("/setup")) == {"ok": True}
        ada = {"first_name": "Ada", "pets": [{"name": "Tom", "species": "cat"}]}
        assert await call(client, "POST", url("/people"), 201, json=ada) == {
            "id": 1,
            "first_name": "Ada",
        }
        bob = {
            "first_name": "Bob",
            "pets": [{"name": "Rex", "species": "dog"}, {"name": "Kit", "species": "cat"}],
        }
        await call(client, "POST", url("/people"), 201, json=bob)
        await call(client, "POST", url("/people"), 201, json={"first_name": "Cy"})
        assert await call(client, "GET", url("/pets?species=cat")) == [
            {"name": "Kit", "species": "cat", "owner": "Bob"},
            {"name": "Tom", "species": "cat", "owner": "Ada"},
        ]
        assert await call(client, "GET", url("/owners")) == [
            {"first_name": "Ada", "pets": 1},
            {"first_name": "Bob", "pets": 2},
            {"first_name": "Cy", "pets": 0},
        ]
        assert await call(client, "POST", url("/rename"), json={"from": "Rex", "to": "Max"}) == {
            "updated": 1
        }
        refused = await call(client, "POST", url("/rename"), 500, json={"from": "Max", "to": "Kit"})
        assert refused == {
            "error": "D1_ERROR: UNIQUE constraint failed: pet.name: SQLITE_CONSTRAINT"
        }
