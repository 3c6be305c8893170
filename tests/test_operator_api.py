"""What the dashboard's operator panels use, through the HTTP API: a function's charts
(``/stats``), its KV (``/kv``), requests sent to it (``/request``), and the list by file name."""

from __future__ import annotations

import asyncio
import base64
import json
import time
import urllib.parse

import aiohttp

from tests.server import ServerProcess
from tests.test_versions import call, deploy, unique_name

ECHO = """\
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/bytes") return new Response(new Uint8Array([0, 255, 1, 254]));
    if (url.pathname === "/big") return new Response("x".repeat(1100 * 1024));
    if (url.pathname === "/kv") return Response.json({ seen: await env.KV.get("greeting") });
    if (url.pathname === "/away") return Response.redirect("http://example.com/", 302);
    return Response.json(
      { method: request.method, path: url.pathname + url.search, body: await request.text(),
        test: request.headers.get("x-test"), host: request.headers.get("host"),
        auth: request.headers.get("authorization") },
      { status: url.pathname === "/missing" ? 404 : 200, headers: { "x-answer": "yes" } },
    );
  },
};
"""


async def test_stats_count_runs_and_errors_of_every_version(http: aiohttp.ClientSession) -> None:
    name = unique_name()
    await deploy(http, "Vortex.return(1);", name=name)
    for _ in range(3):
        await call(http, "POST", f"/execute/{name}")
    await deploy(http, "throw new Error('no');", name=name)
    await call(http, "POST", f"/execute/{name}")
    hour = await call(http, "GET", f"/functions/{name}/stats")
    assert hour["window"] == "hour" and hour["step_seconds"] == 60 and len(hour["points"]) == 60
    assert (hour["total"]["requests"], hour["total"]["errors"]) == (4, 1)
    assert hour["total"]["wall_p50_ms"] > 0 and hour["total"]["cpu_p99_ms"] > 0
    assert sum(p["requests"] for p in hour["points"][-2:]) == 4  # this minute, or the last
    day = await call(http, "GET", f"/functions/{name}/stats?window=day")
    assert len(day["points"]) == 144 and day["total"]["requests"] == 4
    bad = await call(http, "GET", f"/functions/{name}/stats?window=week", 400)
    assert bad["error"]["code"] == "invalid_request"
    await call(http, "DELETE", f"/functions/{name}")
    await deploy(http, "Vortex.return(1);", name=name)  # the name again: its charts start over
    assert (await call(http, "GET", f"/functions/{name}/stats"))["total"]["requests"] == 0


async def test_stats_count_listener_requests(
    http: aiohttp.ClientSession, server: ServerProcess
) -> None:
    name = unique_name()
    await deploy(http, ECHO, name=name, filename="index.mjs")
    for _ in range(5):
        async with http.get(server.fn_url(name, "/x")) as response:
            assert response.status == 200
    # Hosts send their records in batches: the count is there once they arrive.
    deadline = time.monotonic() + 10
    while (await call(http, "GET", f"/functions/{name}/stats"))["total"]["requests"] < 5:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.05)


async def test_kv_list_get_put_delete(http: aiohttp.ClientSession, server: ServerProcess) -> None:
    name = unique_name()
    await deploy(http, ECHO, name=name, filename="index.mjs")
    odd = "a/../b %2F? ünïcode"
    value_path = f"/functions/{name}/kv/value?key="
    for key, value in (("greeting", "hello"), (odd, "odd"), ("session:1", "s")):
        stored = await call(
            http, "PUT", value_path + urllib.parse.quote(key, safe=""), json={"value": value}
        )
        assert stored == {"key": key, "stored": True}
    await call(
        http,
        "PUT",
        value_path + "temp",
        json={"value": "soon gone", "expiration_ttl": 3600},
    )
    listed = await call(http, "GET", f"/functions/{name}/kv")
    assert [k["name"] for k in listed["keys"]] == sorted(
        ["greeting", odd, "session:1", "temp"], key=str.encode
    )
    assert listed["list_complete"] and listed["cursor"] is None
    temp = next(k for k in listed["keys"] if k["name"] == "temp")
    assert abs(temp["expiration"] - (time.time() + 3600)) < 60
    assert listed["limits"] == {
        "max_key_bytes": 512,
        "max_value_bytes": 128 << 10,
        "max_list_limit": 1000,
        "max_metadata_bytes": 1024,
    }
    page = await call(http, "GET", f"/functions/{name}/kv?prefix=s&limit=1")
    assert [k["name"] for k in page["keys"]] == ["session:1"]
    got = await call(http, "GET", value_path + urllib.parse.quote(odd, safe=""))
    assert got == {"key": odd, "value": "odd", "encoding": "text", "metadata": None}
    # The function sees what the API put: one namespace.
    async with http.get(server.fn_url(name, "/kv")) as response:
        assert (await response.json())["seen"] == "hello"
    await call(http, "DELETE", value_path + "greeting")
    missing = await call(http, "GET", value_path + "greeting", 404)
    assert missing["error"]["code"] == "kv_key_not_found"
    too_big = await call(http, "PUT", value_path + "big", 413, json={"value": "x" * (129 << 10)})
    assert too_big["error"]["code"] == "kv_value_too_large"
    too_long = await call(http, "PUT", value_path + "k" * 600, 414, json={"value": "x"})
    assert too_long["error"]["code"] == "kv_key_too_long"
    no_key = await call(http, "GET", f"/functions/{name}/kv/value", 400)
    assert no_key["error"]["code"] == "kv_invalid_key"
    bad_ttl = await call(
        http, "PUT", value_path + "t", 400, json={"value": "x", "expiration_ttl": 0}
    )
    assert bad_ttl["error"]["code"] == "kv_invalid_expiration"
    no_value = await call(http, "PUT", value_path + "t", 400, json={"text": "x"})
    assert no_value["error"]["code"] == "invalid_request"
    # The JavaScript API's spelling: a key stored without its expiry, silently, before.
    camel = await call(http, "PUT", value_path + "t", 400, json={"value": "x", "expirationTtl": 60})
    assert (
        'unknown field "expirationTtl" (did you mean "expiration_ttl"?)'
        in (camel["error"]["message"])
    )
    await call(http, "GET", value_path + "t", 404)


async def test_kv_bytes_and_metadata_over_the_api(
    http: aiohttp.ClientSession, server: ServerProcess
) -> None:
    name = unique_name()
    await deploy(http, ECHO, name=name, filename="index.mjs")
    value_path = f"/functions/{name}/kv/value?key="
    every = bytes(range(256))
    encoded = base64.b64encode(every).decode()
    await call(
        http,
        "PUT",
        value_path + "bin",
        json={"value": encoded, "encoding": "base64", "metadata": {"kind": "all bytes"}},
    )
    got = await call(http, "GET", value_path + "bin")
    assert got == {
        "key": "bin",
        "value": encoded,
        "encoding": "base64",
        "metadata": {"kind": "all bytes"},
    }
    # Bytes that are UTF-8 read back as text, whichever way they were put.
    await call(
        http,
        "PUT",
        value_path + "utf8",
        json={"value": base64.b64encode("ü".encode()).decode(), "encoding": "base64"},
    )
    assert (await call(http, "GET", value_path + "utf8"))["value"] == "ü"
    listed = await call(http, "GET", f"/functions/{name}/kv")
    assert listed["keys"] == [
        {"name": "bin", "metadata": {"kind": "all bytes"}},
        {"name": "utf8"},
    ]
    for body, status, code in (
        ({"value": "not base64!", "encoding": "base64"}, 400, "kv_invalid_value"),
        ({"value": 5, "encoding": "base64"}, 400, "kv_invalid_value"),
        ({"value": "x", "encoding": "hex"}, 400, "invalid_request"),
        ({"value": "x", "metadata": "m" * 1023}, 413, "kv_metadata_too_large"),
        (
            {"value": base64.b64encode(bytes(129 << 10)).decode(), "encoding": "base64"},
            413,
            "kv_value_too_large",
        ),
    ):
        refused = await call(http, "PUT", value_path + "bad", status, json=body)
        assert refused["error"]["code"] == code, body


async def test_request_tester_sends_to_the_listener(
    http: aiohttp.ClientSession, server: ServerProcess
) -> None:
    name = unique_name()
    await deploy(http, ECHO, name=name, filename="index.mjs")
    sent = await call(
        http,
        "POST",
        f"/functions/{name}/request",
        headers={"Authorization": "Bearer not-for-the-function"},
        json={
            "method": "post",
            "path": "/items?page=2",
            "headers": [
                ["X-Test", "yes"],
                ["Host", "evil.example"],
                ["Content-Type", "text/plain"],
            ],
            "body": "hello",
        },
    )
    assert sent["url"] == server.fn_url(name, "/items?page=2")
    assert (sent["status"], sent["reason"], sent["method"]) == (200, "OK", "POST")
    assert ["x-answer", "yes"] in [[k.lower(), v] for k, v in sent["headers"]]
    echoed = json.loads(sent["body"])
    assert echoed == {
        "method": "POST",
        "path": "/items?page=2",
        "body": "hello",
        "test": "yes",
        "host": f"{name}.localhost:{server.functions_port}",
        "auth": None,  # the caller's credentials stay with the API
    }
    assert 0 < sent["timing"]["headers_ms"] <= sent["timing"]["total_ms"]
    assert sent["body_bytes"] == len(sent["body"]) and not sent["body_truncated"]

    missing = await call(http, "POST", f"/functions/{name}/request", json={"path": "/missing"})
    assert missing["status"] == 404  # the function's answer, whatever it is
    binary = await call(http, "POST", f"/functions/{name}/request", json={"path": "/bytes"})
    assert binary["body"] is None and base64.b64decode(binary["body_base64"]) == b"\0\xff\1\xfe"
    big = await call(http, "POST", f"/functions/{name}/request", json={"path": "/big"})
    assert big["body_truncated"] and big["body_bytes"] == 1100 * 1024
    assert len(big["body"]) == 1 << 20
    away = await call(http, "POST", f"/functions/{name}/request", json={"path": "/away"})
    assert away["status"] == 302  # not followed
    assert ["location", "http://example.com/"] in [[k.lower(), v] for k, v in away["headers"]]

    # Whatever the path says, the request goes to the function.
    for path in ("//evil.example/x", "/@127.0.0.1:1/", "/..%2F..%2Fhealth"):
        odd = await call(http, "POST", f"/functions/{name}/request", json={"path": path})
        assert odd["status"] == 200 and json.loads(odd["body"])["path"] == path, odd

    # A version by its id goes to the id's hostname.
    versions = await call(http, "GET", f"/functions/{name}/versions")
    function_id = versions["versions"][0]["function_id"]
    by_id = await call(http, "POST", f"/functions/{function_id}/request", json={})
    assert by_id["url"] == server.fn_url(function_id, "/")

    for bad in (
        {"method": "CONNECT"},
        {"path": "no-slash"},
        {"path": "/a b"},
        {"headers": [["bad name", "x"]]},
        {"headers": {"X-A": "line\r\nX-B: injected"}},
        {"body": {"not": "text"}},
    ):
        refused = await call(http, "POST", f"/functions/{name}/request", 400, json=bad)
        assert refused["error"]["code"] == "invalid_request", bad


async def test_request_tester_without_a_listener(server_factory: object) -> None:
    server: ServerProcess = server_factory({"VORTEX_FUNCTIONS_PORT": "0"}, workers=1)  # type: ignore[operator]
    async with aiohttp.ClientSession(base_url=server.url) as http:
        function_id = (await deploy(http, "Vortex.return(1);"))["function_id"]
        off = await call(http, "POST", f"/functions/{function_id}/request", 404, json={})
        assert off["error"]["code"] == "not_found" and "listener is off" in off["error"]["message"]


async def test_the_list_by_file_name(http: aiohttp.ClientSession) -> None:
    tag = unique_name().replace("-", "_")
    wanted = {
        (await deploy(http, "Vortex.return(1);", filename=f"{tag}.js"))["function_id"],
        (await deploy(http, "Vortex.return(1);", filename=f"{tag.upper()}_b.ts"))["function_id"],
    }
    await deploy(http, "Vortex.return(1);", filename="other.js")
    listed = await call(http, "GET", f"/functions?file={tag}")
    assert {f["id"] for f in listed["functions"]} == wanted and listed["cursor"] is None
    first = await call(http, "GET", f"/functions?file={tag}&limit=1")
    assert len(first["functions"]) == 1 and first["cursor"]
    rest = await call(http, "GET", f"/functions?file={tag}&limit=1&cursor={first['cursor']}")
    assert {f["id"] for f in first["functions"] + rest["functions"]} == wanted
    bad = await call(http, "GET", "/functions?file=a%20b", 400)
    assert bad["error"]["code"] == "invalid_request"
