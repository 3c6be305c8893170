"""Names, versions and rollback, and the invocation history, through the HTTP API."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from tests.server import ServerProcess
from vortex.errors import InvalidFunctionId
from vortex.storage.names import parse_ref


def unique_name() -> str:
    return f"fn-{uuid.uuid4().hex[:12]}"


async def deploy(http: aiohttp.ClientSession, code: str, **extra: object) -> dict[str, Any]:
    async with http.post("/deploy", json={"code": code, **extra}) as response:
        body: dict[str, Any] = await response.json()
        assert response.status == 200, body
        return body


async def call(
    http: aiohttp.ClientSession, method: str, path: str, status: int = 200, **kw: Any
) -> dict[str, Any]:
    async with http.request(method, path, **kw) as response:
        body: dict[str, Any] = await response.json()
        assert response.status == status, (path, body)
        return body


async def test_names_versions_and_rollback(http: aiohttp.ClientSession) -> None:
    name = unique_name()
    first = await deploy(http, 'console.log("v1"); Vortex.return(1);', name=name)
    assert (first["name"], first["version"]) == (name, 1)
    second = await deploy(http, 'console.log("v2"); Vortex.return(2);', name=name)
    assert second["version"] == 2 and second["function_id"] != first["function_id"]

    ran = await call(http, "POST", f"/execute/{name}")
    assert (ran["output"], ran["version"], ran["function_id"]) == (2, 2, second["function_id"])
    # Each version keeps its own id, and runs by it as before.
    assert (await call(http, "POST", f"/execute/{first['function_id']}"))["output"] == 1

    versions = await call(http, "GET", f"/functions/{name}/versions")
    assert versions["active"] == 2
    assert [(v["version"], v["active"]) for v in versions["versions"]] == [(2, True), (1, False)]

    rolled = await call(http, "POST", f"/functions/{name}/rollback")
    assert rolled["active"] == 1
    assert (await call(http, "POST", f"/execute/{name}"))["output"] == 1  # at once, same node
    assert (await call(http, "POST", f"/functions/{name}/rollback", json={"to": 2}))["active"] == 2
    assert (await call(http, "POST", f"/execute/{name}"))["output"] == 2
    missing = await call(http, "POST", f"/functions/{name}/rollback", 404, json={"to": 9})
    assert missing["error"]["code"] == "version_not_found"
    bad = await call(http, "POST", f"/functions/{name}/rollback", 400, json={"to": "one"})
    assert bad["error"]["code"] == "invalid_request"
    # A misnamed field is refused, not read as "no version given" (the previous one).
    misnamed = await call(http, "POST", f"/functions/{name}/rollback", 400, json={"version": 1})
    assert misnamed["error"]["code"] == "invalid_request"
    assert "'version'" in misnamed["error"]["message"]
    assert (await call(http, "GET", f"/functions/{name}/versions"))["active"] == 2
    await call(http, "POST", f"/functions/{name}/rollback", json={"to": 1})
    none_older = await call(http, "POST", f"/functions/{name}/rollback", 404)
    assert none_older["error"]["code"] == "version_not_found"

    third = await deploy(http, "Vortex.return(3);", name=name)
    assert third["version"] == 3  # N+1 of the newest, whichever is active

    shown = await call(http, "GET", f"/functions/{name}")
    assert (shown["id"], shown["name"], shown["version"]) == (third["function_id"], name, 3)
    assert shown["namespace"] == "default" and shown["code"] == "Vortex.return(3);"
    listed = (await call(http, "GET", "/functions"))["functions"]
    mine = [f for f in listed if f.get("name") == name]
    assert [f["id"] for f in mine] == [third["function_id"]]  # one entry: the active version
    assert mine[0]["last_run"]["run_id"]  # the history is the function's, over versions


async def test_names_are_checked(http: aiohttp.ClientSession) -> None:
    for bad in ["Hello", "-x", "a" * 64, "a_b", "", "hello\n", str(uuid.uuid4()), 7]:
        body = await call(http, "POST", "/deploy", 400, json={"code": "1;", "name": bad})
        assert body["error"]["code"] == "invalid_request", bad
    unnamed = await deploy(http, "Vortex.return(0);")
    body = await call(http, "GET", f"/functions/{unnamed['function_id']}/versions", 400)
    assert body["error"]["code"] == "invalid_request"
    for method, path in [
        ("POST", "/execute/no-such-name"),
        ("GET", "/functions/no-such-name"),
        ("GET", "/functions/no-such-name/versions"),
        ("GET", "/functions/no-such-name/runs"),
        ("DELETE", "/functions/no-such-name"),
    ]:
        body = await call(http, method, path, 404)
        assert body["error"]["code"] == "function_not_found"


async def test_delete_by_name_removes_every_version(
    http: aiohttp.ClientSession, server: ServerProcess
) -> None:
    name = unique_name()
    ids = [(await deploy(http, f"Vortex.return({n});", name=name))["function_id"] for n in (1, 2)]
    await call(http, "POST", f"/execute/{name}")
    async with http.get("/metrics") as response:
        assert f'function="{ids[1]}"' in await response.text()
    body = await call(http, "DELETE", f"/functions/{name}")
    assert body["deleted"] == name and sorted(body["function_ids"]) == sorted(ids)
    for ref in (name, *ids):
        gone = await call(http, "POST", f"/execute/{ref}", 404)
        assert gone["error"]["code"] == "function_not_found"
    async with http.get("/metrics") as response:
        assert ids[1] not in await response.text()  # forget_function
    # The name is free again, and starts over at version 1 with an empty history.
    again = await deploy(http, "Vortex.return(1);", name=name)
    assert again["version"] == 1
    assert (await call(http, "GET", f"/functions/{name}/runs"))["runs"] == []


async def test_history_of_runs(http: aiohttp.ClientSession) -> None:
    name = unique_name()
    await deploy(http, 'console.log("one"); Vortex.return(1);', name=name)
    ok = await call(http, "POST", f"/execute/{name}")
    await deploy(http, 'console.log("two"); throw new Error("boom");', name=name)
    failed = await call(http, "POST", f"/execute/{name}", headers={"X-Vortex-Run-Id": "mine-1"})
    assert failed["error"]["code"] == "function_error" and failed["run_id"] == "mine-1"

    runs = (await call(http, "GET", f"/functions/{name}/runs"))["runs"]
    assert [r["run_id"] for r in runs] == ["mine-1", ok["run_id"]]  # newest first
    newest, oldest = runs
    assert (newest["ok"], newest["error_code"], newest["version"]) == (False, "function_error", 2)
    assert (oldest["ok"], oldest["error_code"], oldest["version"]) == (True, None, 1)
    assert oldest["trigger"] == "execute" and oldest["cpu_time_ms"] is not None
    assert oldest["execution_time_ms"] > 0 and "logs" not in oldest
    assert len((await call(http, "GET", f"/functions/{name}/runs?limit=1"))["runs"]) == 1

    one = await call(http, "GET", f"/functions/{name}/runs/mine-1")
    assert [line["message"] for line in one["logs"]] == ["two"]
    assert one["error"]["message"] == "boom"
    missing = await call(http, "GET", f"/functions/{name}/runs/nope", 404)
    assert missing["error"]["code"] == "run_not_found"
    shown = await call(http, "GET", f"/functions/{name}")
    assert shown["last_run"]["run_id"] == "mine-1"


async def test_history_is_capped_and_unnamed_functions_have_one(
    server_factory: Any,
) -> None:
    server: ServerProcess = server_factory({"VORTEX_HISTORY_RUNS": "3"}, workers=1)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        function_id = (await deploy(http, "Vortex.return(1);"))["function_id"]
        run_ids = [
            (await call(http, "POST", f"/execute/{function_id}"))["run_id"] for _ in range(5)
        ]
        runs = (await call(http, "GET", f"/functions/{function_id}/runs"))["runs"]
        assert [r["run_id"] for r in runs] == run_ids[:-4:-1]


async def test_metrics_count_runs_of_execute(http: aiohttp.ClientSession) -> None:
    function_id = (await deploy(http, "throw new Error('x');"))["function_id"]
    await call(http, "POST", f"/execute/{function_id}")
    await asyncio.sleep(0)
    async with http.get("/metrics") as response:
        text = await response.text()
    found = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    labels = (("function", function_id), ("name", function_id))
    assert found[("vortex_runs_total", (*labels, ("outcome", "function_error")))] == 1
    assert found[("vortex_run_cpu_seconds_count", labels)] == 1


async def test_the_http_trigger_by_name(server: ServerProcess, http: aiohttp.ClientSession) -> None:
    name = unique_name()
    module = (
        "export default { fetch(request) {"
        " return new Response(`v%d ${new URL(request.url).pathname}`); } };"
    )
    await deploy(http, module % 1, name=name, filename="index.mjs")
    v2 = (await deploy(http, module % 2, name=name, filename="index.mjs"))["function_id"]
    # A name's hostname on the functions listener answers with its active version.
    async with http.get(server.fn_url(name, "/a/b")) as response:
        assert response.status == 200
        assert await response.text() == "v2 /a/b"
        run_id = response.headers["X-Vortex-Run-Id"]
    await call(http, "POST", f"/functions/{name}/rollback")
    async with http.get(server.fn_url(name, "/")) as response:
        assert await response.text() == "v1 /"
    # name.default is the same function; /fn/ by name redirects to the name, not to a version.
    async with http.get(server.fn_url(f"{name}.default", "/")) as response:
        assert await response.text() == "v1 /"
    async with http.get(f"/fn/{name}.default/", allow_redirects=False) as response:
        assert response.status == 308
        assert response.headers["Location"] == server.fn_url(name, "/")
    # A version's id is that very version, whichever is active.
    async with http.get(server.fn_url(v2, "/c")) as response:
        assert await response.text() == "v2 /c"
    for missing in (f"{name}.other", "no-such-name", f"{name}.Bad_NS"):
        async with http.get(server.fn_url(missing, "/")) as response:
            assert response.status == 404, missing
        async with http.get(f"/fn/{missing}/", allow_redirects=False) as response:
            assert response.status == 404, missing
    # Recorded after the answer, as an "http" run.
    for _ in range(50):
        runs = (await call(http, "GET", f"/functions/{name}/runs"))["runs"]
        if len(runs) == 4:
            break
        await asyncio.sleep(0.05)
    assert [(r["trigger"], r["version"]) for r in runs] == [
        ("http", 2),
        ("http", 1),
        ("http", 1),
        ("http", 2),
    ]
    assert runs[3]["run_id"] == run_id


def test_references_are_whole_names_or_ids() -> None:
    assert parse_ref("hello") == ("name", "hello")
    assert parse_ref("A1B2C3D4-E5F6-4890-ABCD-EF1234567890") == (
        "id",
        "a1b2c3d4-e5f6-4890-abcd-ef1234567890",
    )
    for bad in ["hello\n", "Hello", "../x", "a" * 64]:
        try:
            parse_ref(bad)
        except InvalidFunctionId:
            continue
        raise AssertionError(f"{bad!r} was accepted")


async def test_a_new_version_keeps_the_settings_it_does_not_set(
    http: aiohttp.ClientSession,
) -> None:
    """Deployed with code only (as the dashboard deploys), a version keeps the active version's
    env, secrets, allow_hosts and schedule; a setting sent replaces it, ``null`` or empty clears."""
    name = unique_name()
    settings = {
        "env": {"REGION": "eu"},
        "secrets": {"TOKEN": "s3cret"},
        "allow_hosts": ["api.example.com"],
        "schedule": "* * * * *",
    }
    await deploy(http, "Vortex.return(1);", name=name, **settings)
    second = await deploy(http, "Vortex.return(2);", name=name, filename="v2.js")
    assert second["kept"] == ["env", "secrets", "allow_hosts", "schedule"]
    shown = await call(http, "GET", f"/functions/{name}")
    assert shown["version"] == 2
    assert shown["env"] == {"REGION": "eu"} and shown["secrets"] == ["TOKEN"]
    assert shown["allow_hosts"] == ["api.example.com"] and shown["schedule"] == "* * * * *"

    # One setting sent replaces that one only.
    await deploy(http, "Vortex.return(3);", name=name, env={"REGION": "us"})
    shown = await call(http, "GET", f"/functions/{name}")
    assert shown["env"] == {"REGION": "us"} and shown["secrets"] == ["TOKEN"]
    assert shown["schedule"] == "* * * * *"

    # A name moved from the secrets to env is not in both.
    await deploy(http, "Vortex.return(4);", name=name, env={"TOKEN": "plain"})
    shown = await call(http, "GET", f"/functions/{name}")
    assert shown["env"] == {"TOKEN": "plain"} and shown["secrets"] == []

    # null and empty clear.
    await deploy(
        http, "Vortex.return(5);", name=name, env={}, secrets=None, allow_hosts=[], schedule=None
    )
    shown = await call(http, "GET", f"/functions/{name}")
    assert (shown["env"], shown["secrets"], shown["allow_hosts"], shown["schedule"]) == (
        {},
        [],
        [],
        None,
    )
    # A rollback activates a version with the settings it was deployed with.
    await call(http, "POST", f"/functions/{name}/rollback", json={"to": 2})
    shown = await call(http, "GET", f"/functions/{name}")
    assert shown["env"] == {"REGION": "eu"} and shown["schedule"] == "* * * * *"
    await call(http, "DELETE", f"/functions/{name}")
