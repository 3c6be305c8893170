"""``Vortex.kv`` and ``env.KV`` through a real server: the documented API (docs/kv.md), its
errors with their codes, TTLs, paging, and the namespace: per function, shared by a name's
versions, gone with the function."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from tests.server import ServerProcess


async def execute(http: aiohttp.ClientSession, ref: str) -> dict[str, Any]:
    async with http.post(f"/execute/{ref}") as response:
        body: dict[str, Any] = await response.json()
        assert response.status == 200, body
        return body


async def deploy_named(http: aiohttp.ClientSession, name: str, code: str) -> None:
    async with http.post("/deploy", json={"code": code, "name": name}) as response:
        assert response.status == 200, await response.text()


async def test_put_get_json_delete_and_missing_keys(
    run: Callable[[str], Awaitable[dict[str, Any]]],
) -> None:
    body = await run(
        """
        await Vortex.kv.put("user:42", JSON.stringify({ name: "Ada" }));
        await Vortex.kv.put("greeting", "héllo 🚀");
        const text = await Vortex.kv.get("user:42");
        const json = await Vortex.kv.get("user:42", { type: "json" });
        const short = await Vortex.kv.get("user:42", "json");
        const unicode = await Vortex.kv.get("greeting");
        await Vortex.kv.delete("greeting");
        await Vortex.kv.delete("never-there");
        Vortex.return({ text, json, short, unicode, gone: await Vortex.kv.get("greeting"),
                        missing: await Vortex.kv.get("missing") });
        """
    )
    assert body["output"] == {
        "text": '{"name":"Ada"}',
        "json": {"name": "Ada"},
        "short": {"name": "Ada"},
        "unicode": "héllo 🚀",
        "gone": None,
        "missing": None,
    }, body


async def test_errors_carry_their_codes(run: Callable[[str], Awaitable[dict[str, Any]]]) -> None:
    body = await run(
        """
        const codes = {};
        const attempt = async (label, f) => {
          try { await f(); codes[label] = "no error"; }
          catch (e) { codes[label] = (e.code || e.name) + (e instanceof Error ? "" : " (not an Error)"); }
        };
        await attempt("empty key", () => Vortex.kv.put("", "x"));
        await attempt("long key", () => Vortex.kv.get("k".repeat(513)));
        await attempt("object value", () => Vortex.kv.put("k", { a: 1 }));
        await attempt("big value", () => Vortex.kv.put("k", "x".repeat(128 * 1024 + 1)));
        await attempt("big in utf8", () => Vortex.kv.put("k", "é".repeat(70000)));
        await attempt("both expirations", () => Vortex.kv.put("k", "x", { expirationTtl: 60, expiration: 2e9 }));
        await attempt("ttl in the past", () => Vortex.kv.put("k", "x", { expiration: 1 }));
        await attempt("bad limit", () => Vortex.kv.list({ limit: 0 }));
        await attempt("foreign cursor", () => Vortex.kv.list({ cursor: "nope" }));
        await attempt("bad type", () => Vortex.kv.get("k", "blob"));
        await attempt("bigint", () => Vortex.kv.put("k", 1n));
        Vortex.return(codes);
        """
    )
    assert body["output"] == {
        "empty key": "kv_invalid_key",
        "long key": "kv_key_too_long",
        "object value": "kv_invalid_value",
        "big value": "kv_value_too_large",
        "big in utf8": "kv_value_too_large",
        "both expirations": "kv_invalid_expiration",
        "ttl in the past": "kv_invalid_expiration",
        "bad limit": "kv_invalid_list_option",
        "foreign cursor": "kv_invalid_list_option",
        "bad type": "TypeError",
        "bigint": "TypeError",
    }, body


async def test_list_pages_through_a_prefix(run: Callable[[str], Awaitable[dict[str, Any]]]) -> None:
    body = await run(
        """
        for (let i = 0; i < 7; i++) await Vortex.kv.put("item:" + i, String(i));
        await Vortex.kv.put("other", "x");
        const names = [];
        let page = { list_complete: false, cursor: undefined };
        let pages = 0;
        while (!page.list_complete) {
          page = await Vortex.kv.list({ prefix: "item:", limit: 3, cursor: page.cursor });
          pages += 1;
          names.push(...page.keys.map((k) => k.name));
        }
        Vortex.return({ names, pages, last: page.cursor });
        """
    )
    assert body["output"] == {
        "names": [f"item:{i}" for i in range(7)],
        "pages": 3,
        "last": None,
    }, body


async def test_a_key_expires_after_its_ttl(
    http: aiohttp.ClientSession, deploy: Callable[..., Awaitable[str]]
) -> None:
    function_id = await deploy(
        """
        if (await Vortex.kv.get("started") === null) {
          await Vortex.kv.put("started", "yes");
          await Vortex.kv.put("short", "lived", { expirationTtl: 1 });
        }
        const listed = await Vortex.kv.list({ prefix: "short" });
        Vortex.return({ short: await Vortex.kv.get("short"), listed: listed.keys.length,
                        expiration: listed.keys[0] ? listed.keys[0].expiration : null });
        """
    )
    first = (await execute(http, function_id))["output"]
    assert first["short"] == "lived" and first["listed"] == 1
    assert isinstance(first["expiration"], int)
    await asyncio.sleep(1.6)
    assert (await execute(http, function_id))["output"] == {
        "short": None,
        "listed": 0,
        "expiration": None,
    }


async def test_each_function_sees_only_its_own_keys_and_a_name_keeps_them_across_versions(
    http: aiohttp.ClientSession, deploy: Callable[..., Awaitable[str]]
) -> None:
    name = f"kv-{uuid.uuid4().hex[:8]}"
    counter = """
        const n = Number(await Vortex.kv.get("count") || 0) + 1;
        await Vortex.kv.put("count", String(n));
        Vortex.return({ n, version: VERSION });
    """
    await deploy_named(http, name, counter.replace("VERSION", "1"))
    assert (await execute(http, name))["output"] == {"n": 1, "version": 1}
    assert (await execute(http, name))["output"] == {"n": 2, "version": 1}
    # A new version and a rollback keep the name's data.
    await deploy_named(http, name, counter.replace("VERSION", "2"))
    assert (await execute(http, name))["output"] == {"n": 3, "version": 2}
    async with http.post(f"/functions/{name}/rollback") as response:
        assert response.status == 200
    assert (await execute(http, name))["output"] == {"n": 4, "version": 1}

    # Another function, same key: its own namespace.
    other = await deploy(counter.replace("VERSION", "0"))
    assert (await execute(http, other))["output"] == {"n": 1, "version": 0}

    # Deleting the name deletes its keys: a new function of that name starts empty.
    async with http.delete(f"/functions/{name}") as response:
        assert response.status == 200
    await deploy_named(http, name, counter.replace("VERSION", "1"))
    assert (await execute(http, name))["output"] == {"n": 1, "version": 1}


async def test_module_functions_get_env_kv(
    http: aiohttp.ClientSession, server: ServerProcess
) -> None:
    name = f"kvmod-{uuid.uuid4().hex[:8]}"
    code = """
    export default {
      async fetch(request, env) {
        const hits = Number((await env.KV.get("hits")) ?? 0) + 1;
        await env.KV.put("hits", String(hits));
        return Response.json({ hits, vars: env.GREETING });
      },
    };
    """
    async with http.post(
        "/deploy",
        json={"code": code, "name": name, "filename": "worker.mjs", "env": {"GREETING": "hi"}},
    ) as response:
        assert response.status == 200, await response.text()
    for expected in (1, 2, 3):
        async with http.get(server.fn_url(name, "/")) as response:
            assert response.status == 200
            assert await response.json() == {"hits": expected, "vars": "hi"}


async def test_a_run_waits_for_its_kv_calls_and_operations_are_limited(
    server_factory: Callable[..., ServerProcess],
) -> None:
    proc = server_factory({"VORTEX_KV_MAX_OPERATIONS": "5"})
    async with aiohttp.ClientSession(base_url=proc.url) as http:
        async with http.post(
            "/deploy",
            json={
                "code": """
                // Not awaited: the script still ends only after the write is done.
                Vortex.kv.put("late", "written");
                const results = [];
                for (let i = 0; i < 6; i++) {
                  try { await Vortex.kv.get("late"); results.push("ok"); }
                  catch (e) { results.push(e.code); }
                }
                console.log(results.join(","));
                """
            },
        ) as response:
            function_id = (await response.json())["function_id"]
        body = await execute(http, function_id)
        assert body.get("error") is None, body
        assert (
            body["logs"][0]["message"]
            == "ok,ok,ok,ok,binding_call_limit_exceeded,binding_call_limit_exceeded"
        )


async def test_typescript_scripts_get_kv_too(http: aiohttp.ClientSession) -> None:
    code = 'const key: string = "ts";\nawait Vortex.kv.put(key, "typed");\nVortex.return(await Vortex.kv.get(key));\n'
    async with http.post("/deploy", json={"code": code, "filename": "index.ts"}) as response:
        body = await response.json()
        assert response.status == 200, body
    assert (await execute(http, body["function_id"]))["output"] == "typed"


async def test_a_bulk_get_answers_a_map_of_up_to_100_keys(
    run: Callable[[str], Awaitable[dict[str, Any]]],
) -> None:
    body = await run(
        """
        await Vortex.kv.put("a", "apple");
        await Vortex.kv.put("b", JSON.stringify({ n: 2 }), { metadata: { owner: "Ada" } });
        const texts = await Vortex.kv.get(["b", "missing", "a", "b"]);
        const jsons = await Vortex.kv.get(["b", "nope"], "json");
        const typed = await Vortex.kv.get(["b"], { type: "json", cacheTtl: 60 });
        const meta = await Vortex.kv.getWithMetadata(["a", "b", "missing"], "json").catch((e) => e.name);
        const metaText = await Vortex.kv.getWithMetadata(["a", "b", "missing"]);
        const hundred = Array.from({ length: 100 }, (_, i) => "k" + i);
        const full = await Vortex.kv.get(hundred);
        const errors = {};
        const attempt = async (label, f) => {
          try { await f(); errors[label] = "no error"; }
          catch (e) { errors[label] = e.code || e.name; }
        };
        await attempt("101 keys", () => Vortex.kv.get([...hundred, "k100"]));
        await attempt("no keys", () => Vortex.kv.get([]));
        await attempt("arrayBuffer", () => Vortex.kv.get(["a"], "arrayBuffer"));
        await attempt("stream", () => Vortex.kv.getWithMetadata(["a"], { type: "stream" }));
        await attempt("empty key", () => Vortex.kv.get(["a", ""]));
        await attempt("not json", () => Vortex.kv.get(["a"], "json"));
        Vortex.return({
          isMap: texts instanceof Map,
          texts: [...texts.entries()],
          jsons: Object.fromEntries(jsons),
          typed: Object.fromEntries(typed),
          meta,
          metaText: [...metaText.entries()],
          full: [full.size, full.get("k0"), full.get("k99")],
          errors,
        });
        """
    )
    assert body.get("error") is None, body
    assert body["output"] == {
        "isMap": True,
        # In the order asked, each key once.
        "texts": [["b", '{"n":2}'], ["missing", None], ["a", "apple"]],
        "jsons": {"b": {"n": 2}, "nope": None},
        "typed": {"b": {"n": 2}},
        "meta": "SyntaxError",  # "apple" is no JSON: the whole get fails, as in Workers
        "metaText": [
            ["a", {"value": "apple", "metadata": None}],
            ["b", {"value": '{"n":2}', "metadata": {"owner": "Ada"}}],
            ["missing", None],
        ],
        "full": [100, None, None],
        "errors": {
            "101 keys": "TypeError",
            "no keys": "TypeError",
            "arrayBuffer": "TypeError",
            "stream": "TypeError",
            "empty key": "kv_invalid_key",
            "not json": "SyntaxError",
        },
    }, body


async def test_a_bulk_get_is_one_operation(
    server_factory: Callable[..., ServerProcess],
) -> None:
    # As in Workers, where a bulk read counts once against the operations of an invocation.
    proc = server_factory({"VORTEX_KV_MAX_OPERATIONS": "2"})
    code = """
    const keys = Array.from({ length: 100 }, (_, i) => "k" + i);
    const results = [];
    for (let i = 0; i < 3; i++) {
      try { results.push((await Vortex.kv.get(keys)).size); }
      catch (e) { results.push(e.code); }
    }
    Vortex.return(results);
    """
    async with aiohttp.ClientSession(base_url=proc.url) as http:
        async with http.post("/deploy", json={"code": code}) as response:
            function_id = (await response.json())["function_id"]
        body = await execute(http, function_id)
    assert body["output"] == [100, 100, "binding_call_limit_exceeded"], body
