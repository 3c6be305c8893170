"""D1 outside a function: the operator's route (``POST /d1/{database}/query``), ``vortex d1
execute --command/--file`` and ``vortex d1 list`` as wrangler users run ``wrangler d1
execute``, and wrangler's ``d1_databases`` picked up by ``vortex deploy``."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import aiohttp
import pytest

from tests.d1.apps import USERS
from tests.d1.conftest import call
from tests.server import ServerProcess
from tests.test_cli_wrangler import Invoke, function_info, get, invoke, project, write
from vortex.cli.errors import CLIError
from vortex.cli.project import Options, plan_deploy
from vortex.cli.wrangler import load_config

__all__ = ["invoke"]  # the fixture, used by name

SCHEMA = """
-- the app's tables; a ; in a string or a trigger is no statement's end
CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL UNIQUE, name TEXT);
CREATE TABLE log (what TEXT);
CREATE TRIGGER users_log AFTER INSERT ON users BEGIN
  INSERT INTO log VALUES ('added; ' || NEW.email);
END;
INSERT INTO users (email, name) VALUES ('ada@x.io', 'Ada;Lovelace');
"""


async def test_the_route_runs_sql_of_the_callers_namespace(
    http: aiohttp.ClientSession, server: ServerProcess
) -> None:
    database = f"db-{uuid.uuid4().hex[:8]}"
    path = f"/d1/{database}/query"
    made = await call(http, "POST", path, json={"sql": SCHEMA})
    assert made["success"] is True and len(made["result"]) == 4
    assert made["result"][3]["meta"]["changes"] == 1
    got = await call(
        http,
        "POST",
        path,
        json={"sql": "SELECT email, name FROM users WHERE id = ?", "params": [1]},
    )
    assert got["result"][0]["results"] == [{"email": "ada@x.io", "name": "Ada;Lovelace"}]
    log = await call(http, "POST", path, json={"sql": "SELECT what FROM log"})
    assert log["result"][0]["results"] == [{"what": "added; ada@x.io"}]
    # A script is one batch: its second statement fails, so its first is undone.
    failed = await call(
        http,
        "POST",
        path,
        400,
        json={"sql": "INSERT INTO log VALUES ('x'); INSERT INTO nowhere VALUES (1);"},
    )
    assert failed["error"]["code"] == "d1_error"
    assert failed["error"]["message"] == "D1_ERROR: no such table: nowhere: SQLITE_ERROR"
    count = await call(http, "POST", path, json={"sql": "SELECT count(*) AS n FROM log"})
    assert count["result"][0]["results"] == [{"n": 1}]
    refused = await call(http, "POST", path, 400, json={"sql": "ATTACH '/tmp/x.db' AS x"})
    assert refused["error"]["message"] == "D1_ERROR: not authorized: SQLITE_AUTH"
    bad = await call(http, "POST", "/d1/..%2Fetc/query", 400, json={"sql": "SELECT 1"})
    assert bad["error"]["code"] == "invalid_request"
    unknown = await call(http, "POST", path, 400, json={"sql": "SELECT 1", "param": []})
    assert unknown["error"]["code"] == "invalid_request"
    listed = await call(http, "GET", "/d1")
    assert {"name": database} in listed["databases"]
    # A function bound to the database reads what the operator made.
    name = f"d1-{uuid.uuid4().hex[:8]}"
    body = {
        "code": USERS,
        "filename": "index.mjs",
        "name": name,
        "d1_databases": [{"binding": "DB", "database_name": database}],
    }
    await call(http, "POST", "/deploy", json=body)
    async with aiohttp.ClientSession() as client:
        users = await call(client, "GET", server.fn_url(name, "/users"))
    assert users["results"] == [{"id": 1, "email": "ada@x.io", "name": "Ada;Lovelace"}]


def test_vortex_d1_execute_command_and_file(invoke: Invoke, tmp_path: Path) -> None:
    database = f"db-{uuid.uuid4().hex[:8]}"
    (tmp_path / "schema.sql").write_text(SCHEMA)
    result = invoke("d1", "execute", database, "--file", "schema.sql", "--remote")
    assert result.exit_code == 0, result.output + result.stderr
    assert "4 statements run, 1 rows changed" in result.stdout
    result = invoke("d1", "execute", database, "--command", "SELECT id, name FROM users")
    assert result.exit_code == 0, result.output + result.stderr
    assert "Ada;Lovelace" in result.stdout and result.stdout.split()[:2] == ["id", "name"]
    result = invoke("d1", "execute", database, "--command", "SELECT x'00ff' AS b", "--json")
    assert json.loads(result.stdout)["result"][0]["results"] == [{"b": [0, 255]}]
    result = invoke("d1", "execute", database, "--command", "SELECT * FROM nowhere")
    assert result.exit_code == 1
    assert "D1_ERROR: no such table: nowhere: SQLITE_ERROR" in result.stderr
    result = invoke("d1", "execute", database)
    assert result.exit_code == 2 and "--command or --file" in result.stderr
    result = invoke("d1", "list")
    assert result.exit_code == 0 and database in result.stdout.split()


@pytest.mark.parametrize(
    ("file", "config"),
    [
        (
            "wrangler.toml",
            'main = "src/index.js"\n[[d1_databases]]\nbinding = "DB"\ndatabase_name = "app"\n'
            'database_id = "0f2ac74b-498b-4802-8cb6-8387c421e279"\nmigrations_dir = "sql"\n',
        ),
        (
            "wrangler.jsonc",
            '{ "main": "src/index.js", // D1\n'
            '  "d1_databases": [{ "binding": "DB", "database_name": "app", '
            '"database_id": "x", "preview_database_id": "y" }], }',
        ),
    ],
)
def test_d1_databases_are_read_from_the_config(tmp_path: Path, file: str, config: str) -> None:
    plan = plan_deploy(Options(None), project(tmp_path, config, file))
    assert plan.d1_databases == ({"binding": "DB", "database_name": "app"},)
    assert plan.warnings == ()
    bare = project(tmp_path / "bare", 'main = "src/index.js"\n')
    assert plan_deploy(Options(None), bare).d1_databases is None
    with pytest.raises(CLIError) as raised:
        load_config(
            project(tmp_path / "bad", '[[d1_databases]]\nbinding = "B"\n') / "wrangler.toml"
        )
    assert raised.value.message == (
        'wrangler.toml: each of "d1_databases" needs a "binding" and a "database_name"'
    )


def test_deploy_binds_the_d1_databases_of_the_config(
    invoke: Invoke, server: ServerProcess, tmp_path: Path
) -> None:
    name = f"wr-d1-{uuid.uuid4().hex[:8]}"
    database = f"app-{uuid.uuid4().hex[:8]}"
    write(
        tmp_path,
        {
            "src/index.js": USERS,
            "wrangler.toml": f'name = "{name}"\nmain = "src/index.js"\n\n'
            f'[[d1_databases]]\nbinding = "DB"\ndatabase_name = "{database}"\n'
            'database_id = "0f2ac74b-498b-4802-8cb6-8387c421e279"\n',
        },
    )
    result = invoke("deploy")
    assert result.exit_code == 0, result.output + result.stderr
    assert f"D1 databases: env.DB → {database}" in result.stdout
    assert function_info(server, name)["d1_databases"] == [
        {"binding": "DB", "database_name": database}
    ]
    result = invoke("d1", "execute", database, "--command", SCHEMA)
    assert result.exit_code == 0, result.output + result.stderr
    url = f"http://127.0.0.1:{server.functions_port}/users/1"
    status, body = get(url, host=f"{name}.localhost:{server.functions_port}")
    assert status == 200 and body["user"]["name"] == "Ada;Lovelace"
    # Without the key, a new version keeps them; --clear d1-databases drops them.
    (tmp_path / "wrangler.toml").write_text(f'name = "{name}"\nmain = "src/index.js"\n')
    result = invoke("deploy")
    assert "Kept from the previous version: d1 databases (--clear to drop)" in result.stdout
    result = invoke("deploy", "--clear", "d1-databases")
    assert result.exit_code == 0, result.output + result.stderr
    assert function_info(server, name)["d1_databases"] == []


def test_migrations_apply_as_wrangler_does(invoke: Invoke, tmp_path: Path) -> None:
    database = f"db-{uuid.uuid4().hex[:8]}"
    write(
        tmp_path,
        {
            "wrangler.toml": 'main = "src/index.js"\n[[d1_databases]]\nbinding = "DB"\n'
            f'database_name = "{database}"\nmigrations_dir = "sql"\n',
            "sql/0001_users.sql": "CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT);\n",
            "sql/0002_o'brien.sql": "INSERT INTO users (email) VALUES ('o@x.io') -- no ;",
        },
    )
    result = invoke("d1", "migrations", "apply", "DB", "--remote")
    assert result.exit_code == 0, result.output + result.stderr
    assert f"0001_users.sql applied to {database}" in result.stdout
    assert f"0002_o'brien.sql applied to {database}" in result.stdout
    result = invoke("d1", "migrations", "apply", database)
    assert result.stdout.strip() == f"No migrations to apply to {database}."
    (tmp_path / "sql" / "0003_broken.sql").write_text(
        "INSERT INTO users (email) VALUES ('p@x.io');\nINSERT INTO nowhere VALUES (1);\n"
    )
    result = invoke("d1", "migrations", "apply", "DB", "--json")
    assert result.exit_code == 1
    assert "D1_ERROR: no such table: nowhere" in result.stderr
    result = invoke(
        "d1",
        "execute",
        database,
        "--json",
        "--command",
        "SELECT (SELECT count(*) FROM users) AS users, (SELECT group_concat(name) FROM d1_migrations) AS done",
    )
    assert json.loads(result.stdout)["result"][0]["results"] == [
        {"users": 1, "done": "0001_users.sql,0002_o'brien.sql"}
    ]
    result = invoke("d1", "migrations", "apply", "DB", "--dir", "nowhere")
    assert result.exit_code == 1 and "no migrations folder" in result.stderr
