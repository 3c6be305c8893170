"""env.DB through a real server's listener: a users API as D1's docs write one (CRUD with
prepare/bind/first/all/run/raw/exec), types as D1 gives them back, batches as transactions,
D1's error messages, sessions, and the deploy's declaration as the API shows it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp

from tests.d1.apps import PROBES
from tests.d1.conftest import App, call

Factory = Callable[..., Awaitable[App]]


async def test_a_users_api_creates_reads_updates_and_deletes(app_factory: Factory) -> None:
    app = await app_factory()
    async with aiohttp.ClientSession() as client:
        setup = await call(client, "GET", app.url("/setup"))
        assert setup["count"] == 2 and isinstance(setup["duration"], int | float)
        ada = await call(
            client, "POST", app.url("/users"), 201, json={"email": "ada@x.io", "name": "Ada"}
        )
        assert ada["id"] == 1 and ada["success"] is True
        meta = ada["meta"]
        assert meta["changes"] == 1 and meta["last_row_id"] == 1 and meta["changed_db"] is True
        assert meta["rows_written"] >= 1 and meta["size_after"] > 0
        assert {"duration", "rows_read", "served_by"} <= set(meta)
        await call(client, "POST", app.url("/users"), 201, json={"email": "bo@x.io", "name": "Bo"})
        listed = await call(client, "GET", app.url("/users"))
        assert listed["success"] is True and listed["rows_read"] == 2
        assert listed["results"] == [
            {"id": 1, "email": "ada@x.io", "name": "Ada"},
            {"id": 2, "email": "bo@x.io", "name": "Bo"},
        ]
        only = await call(client, "GET", app.url("/users?name=B%25"))
        assert [u["name"] for u in only["results"]] == ["Bo"]
        one = await call(client, "GET", app.url("/users/2"))
        assert one == {"user": {"id": 2, "email": "bo@x.io", "name": "Bo"}, "email": "bo@x.io"}
        await call(client, "GET", app.url("/users/9"), 404)
        updated = await call(client, "PUT", app.url("/users/2"), json={"name": "Bob"})
        assert updated == {"changes": 1, "changed_db": True}
        raw = await call(client, "GET", app.url("/raw"))
        assert raw["plain"] == [[1, "ada@x.io"], [2, "bo@x.io"]]
        assert raw["named"] == [["id", "email"], [1, "ada@x.io"], [2, "bo@x.io"]]
        gone = await call(client, "DELETE", app.url("/users/1"))
        assert gone == {"changes": 1}
        assert (await call(client, "GET", app.url("/count")))["count"] == 1
        dup = await call(
            client, "POST", app.url("/users"), 500, json={"email": "bo@x.io", "name": "again"}
        )
        assert dup["error"] == "D1_ERROR: UNIQUE constraint failed: users.email: SQLITE_CONSTRAINT"
        assert dup["isError"] is True


async def test_values_round_trip_as_d1_gives_them(app_factory: Factory) -> None:
    app = await app_factory(PROBES)
    async with aiohttp.ClientSession() as client:
        body = await call(client, "GET", app.url("/types"))
    assert body["row"] == {
        "i": 9007199254740991,
        "f": 3.25,
        "s": "héllo 🚀 \u0000 'quoted'",
        "n": None,
        "b": [0, 1, 2, 254, 255],
        "yes": 1,
        "no": 0,
    }
    assert body["types"] == [["integer", "real", "text", "null", "blob", "integer"]]
    assert body["second"] == {"s": "second", "b": [0, 1, 2, 254, 255]}
    assert body["big"] == {"two": 2, "half": 0.5, "hex": [0, 255]}


async def test_a_batch_is_one_transaction(app_factory: Factory) -> None:
    app = await app_factory(PROBES)
    async with aiohttp.ClientSession() as client:
        body = await call(client, "GET", app.url("/batch"))
    ok = body["ok"]
    assert len(ok) == 3 and all(r["success"] for r in ok)
    assert ok[0]["meta"]["changes"] == 1 and ok[2]["results"] == [
        {"name": "alice", "balance": 70},
        {"name": "bob", "balance": 30},
    ]
    # The second statement broke the CHECK: the first one's +500 was rolled back with it.
    assert body["failed"]["message"].startswith("D1_ERROR: CHECK constraint failed")
    assert body["after"] == ok[2]["results"]
    assert body["empty"] == []


async def test_errors_are_d1s(app_factory: Factory) -> None:
    app = await app_factory(PROBES)
    async with aiohttp.ClientSession() as client:
        body = await call(client, "GET", app.url("/errors"))
    assert all(v["isError"] for v in body.values()), body
    messages = {k: v["message"] for k, v in body.items()}
    assert messages["noTable"] == "D1_ERROR: no such table: missing_table: SQLITE_ERROR"
    assert messages["syntax"] == 'D1_ERROR: near "SELEC": syntax error: SQLITE_ERROR'
    assert messages["undefinedBind"] == (
        "D1_TYPE_ERROR: Type 'undefined' not supported for value 'undefined'"
    )
    assert messages["objectBind"].startswith("D1_TYPE_ERROR: Type 'object' not supported")
    assert messages["column"] == "D1_COLUMN_NOTFOUND: Column not found (b)"
    assert messages["bindings"].startswith("D1_ERROR: Wrong number of parameter bindings")
    assert messages["unique"].endswith("UNIQUE constraint failed: u.k: SQLITE_CONSTRAINT")
    assert messages["exec"].startswith("D1_EXEC_ERROR: Error in line 2: SELECT * FROM nowhere;")
    assert messages["dump"].startswith("D1_DUMP_ERROR")
    assert "prepared by this database" in messages["foreignBatch"]


async def test_full_text_search_with_fts5(app_factory: Factory) -> None:
    app = await app_factory(PROBES)
    async with aiohttp.ClientSession() as client:
        body = await call(client, "GET", app.url("/search"))
    assert body == {"results": [{"title": "D1"}]}


async def test_with_session_answers_as_the_database(app_factory: Factory) -> None:
    app = await app_factory(PROBES)
    async with aiohttp.ClientSession() as client:
        body = await call(client, "GET", app.url("/session"))
    assert body == {"v": 7, "bookmark": None}


async def test_the_declaration_is_kept_by_the_next_version(
    app_factory: Factory, http: aiohttp.ClientSession
) -> None:
    app = await app_factory()
    async with http.get(f"/functions/{app.name}") as response:
        record = await response.json()
    assert record["d1_databases"] == [{"binding": "DB", "database_name": app.database}]
    body = {"code": "export default { fetch() { return new Response('v2') } }", "name": app.name}
    async with http.post("/deploy", json=body) as response:
        deployed = await response.json()
        assert "d1_databases" in deployed["kept"], deployed
    async with http.get(f"/functions/{app.name}") as response:
        assert (await response.json())["d1_databases"] == record["d1_databases"]


async def test_bad_declarations_are_refused(http: aiohttp.ClientSession) -> None:
    code = "export default { fetch() { return new Response('x') } }"
    bad = [
        "DB",
        [{"binding": "DB"}],
        [{"binding": "1DB", "database_name": "a"}],
        [{"binding": "DB", "database_name": "../etc"}],
        [{"binding": "DB", "database_name": "Upper"}],
        [{"binding": "DB", "database_name": "a", "database_id": "x"}],
        [{"binding": "DB", "database_name": "a"}, {"binding": "DB", "database_name": "b"}],
    ]
    for value in bad:
        async with http.post("/deploy", json={"code": code, "d1_databases": value}) as response:
            assert response.status == 400, value
            assert (await response.json())["error"]["code"] == "invalid_request"
    both = {
        "code": code,
        "d1_databases": [{"binding": "X", "database_name": "a"}],
        "r2_buckets": [{"binding": "X", "bucket_name": "abc"}],
    }
    async with http.post("/deploy", json=both) as response:
        assert response.status == 400
        assert '"r2_buckets" and in "d1_databases"' in (await response.json())["error"]["message"]
