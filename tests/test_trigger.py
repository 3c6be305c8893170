"""HTTP functions on the functions listener (``http://{name or id}.localhost:{port}/...``): small
real-world functions, script functions, errors, the 308 from the API port's old ``/fn/{ref}/...``
route, and POST /execute on a module function."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
from collections.abc import Awaitable, Callable

import aiohttp

from tests.auth.test_namespaces import make_key
from tests.server import ServerProcess

Deploy = Callable[..., Awaitable[str]]

JSON_API = """
const users = new Map([[1, { id: 1, name: 'Ada' }], [2, { id: 2, name: 'Grace' }]]);

export default {
  async fetch(request) {
    const url = new URL(request.url);
    const parts = url.pathname.split('/').filter(Boolean);
    if (parts[0] !== 'users') return Response.json({ error: 'not found' }, { status: 404 });
    if (parts.length === 1 && request.method === 'GET') {
      return Response.json([...users.values()]);
    }
    if (parts.length === 1 && request.method === 'POST') {
      const user = await request.json();
      return Response.json({ id: 3, ...user }, { status: 201, headers: { Location: url.pathname + '/3' } });
    }
    if (parts.length === 2 && request.method === 'GET') {
      const user = users.get(Number(parts[1]));
      return user ? Response.json(user) : Response.json({ error: 'no such user' }, { status: 404 });
    }
    return new Response('method not allowed', { status: 405, headers: { Allow: 'GET, POST' } });
  },
};
"""


async def test_a_json_api_routing_on_the_path(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy(JSON_API, filename="api.mjs")
    base = server.fn_url(function_id, "")
    async with http.get(f"{base}/users") as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json"
        assert await response.json() == [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Grace"}]
    async with http.get(f"{base}/users/2") as response:
        assert await response.json() == {"id": 2, "name": "Grace"}
    async with http.get(f"{base}/users/9") as response:
        assert response.status == 404
        assert await response.json() == {"error": "no such user"}
    async with http.post(f"{base}/users", json={"name": "Linus"}) as response:
        assert response.status == 201
        assert response.headers["Location"] == "/users/3"
        assert await response.json() == {"id": 3, "name": "Linus"}
    async with http.delete(f"{base}/users/1") as response:
        assert response.status == 405
        assert response.headers["Allow"] == "GET, POST"
    async with http.get(f"{base}/elsewhere") as response:
        assert response.status == 404


async def test_a_redirect(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy(
        "export default {\n"
        "  fetch(request) {\n"
        "    const url = new URL(request.url);\n"
        "    if (url.pathname.endsWith('/old')) return Response.redirect(new URL('new?from=old', url), 301);\n"
        "    return new Response('arrived at ' + url.pathname + url.search);\n"
        "  },\n"
        "};\n"
    )
    # The function's own redirect, relative to request.url: to its own origin.
    async with http.get(server.fn_url(function_id, "/old"), allow_redirects=False) as response:
        assert response.status == 301
        assert response.headers["Location"] == server.fn_url(function_id, "/new?from=old")
    async with http.get(server.fn_url(function_id, "/old")) as response:
        assert await response.text() == "arrived at /new?from=old"


async def test_query_string_and_headers_reach_the_function(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy(
        "export default {\n"
        "  async fetch(request) {\n"
        "    const url = new URL(request.url);\n"
        "    let immutable;\n"
        "    try { request.headers.set('x', 'y'); } catch (e) { immutable = e.name; }\n"
        "    return Response.json({\n"
        "      method: request.method, path: url.pathname,\n"
        "      tags: url.searchParams.getAll('tag'), q: url.searchParams.get('q'),\n"
        "      agent: request.headers.get('USER-AGENT'), multi: request.headers.get('x-multi'),\n"
        "      body: await request.text(), immutable,\n"
        "    }, { headers: { 'Set-Cookie': 'a=1', 'X-Echo': request.headers.get('x-echo') } });\n"
        "  },\n"
        "};\n"
    )
    headers = [
        ("User-Agent", "tests/1.0"),
        ("X-Multi", "a"),
        ("X-Multi", "b"),
        ("X-Echo", "echo-me"),
    ]
    async with http.request(
        "PUT",
        server.fn_url(function_id, "/deep/path?q=a%20b&tag=x&tag=y"),
        headers=headers,
        data=b"payload",
    ) as response:
        assert response.status == 200
        assert response.headers["Set-Cookie"] == "a=1"
        assert response.headers["X-Echo"] == "echo-me"
        assert response.headers["X-Vortex-Run-Id"]
        body = await response.json()
    assert body == {
        "method": "PUT",
        "path": "/deep/path",
        "tags": ["x", "y"],
        "q": "a b",
        "agent": "tests/1.0",
        "multi": "a, b",
        "body": "payload",
        "immutable": "TypeError",
    }


async def test_a_streamed_response(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy(
        "export default {\n"
        "  fetch() {\n"
        "    const enc = new TextEncoder();\n"
        "    let n = 0;\n"
        "    const body = new ReadableStream({\n"
        "      async pull(controller) {\n"
        "        n += 1;\n"
        "        if (n > 3) { controller.close(); return; }\n"
        "        if (n > 1) await new Promise((r) => setTimeout(r, 400));\n"
        "        controller.enqueue(enc.encode('part ' + n + '\\n'));\n"
        "      },\n"
        "    });\n"
        "    return new Response(body, { headers: { 'content-type': 'text/plain' } });\n"
        "  },\n"
        "};\n"
    )
    started = time.monotonic()
    arrivals = []
    async with http.get(server.fn_url(function_id)) as response:
        assert response.status == 200
        assert response.headers.get("Transfer-Encoding") == "chunked"
        text = b""
        async for chunk in response.content.iter_any():
            text += chunk
            arrivals.append(time.monotonic() - started)
    assert text == b"part 1\npart 2\npart 3\n"
    assert arrivals[0] < arrivals[-1] - 0.5


async def test_hashing_the_body(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy(
        "export default {\n"
        "  async fetch(request) {\n"
        "    const digest = await crypto.subtle.digest('SHA-256', await request.arrayBuffer());\n"
        "    const hex = [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');\n"
        "    return new Response(hex + '\\n', { headers: { 'content-type': 'text/plain' } });\n"
        "  },\n"
        "};\n"
    )
    payload = bytes(range(256)) * 4000
    async with http.post(server.fn_url(function_id), data=payload) as response:
        assert await response.text() == hashlib.sha256(payload).hexdigest() + "\n"


async def test_bytes_status_text_head_and_empty_bodies(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy(
        "export default {\n"
        "  fetch(request) {\n"
        "    const path = new URL(request.url).pathname;\n"
        "    if (path.endsWith('/bytes')) return new Response(new Uint8Array(256).map((_, i) => i));\n"
        "    if (path.endsWith('/empty')) return new Response(null, { status: 204 });\n"
        "    return new Response('teapot', { status: 418, statusText: 'I am a teapot' });\n"
        "  },\n"
        "};\n"
    )
    async with http.get(server.fn_url(function_id, "/bytes")) as response:
        assert await response.read() == bytes(range(256))
    async with http.get(server.fn_url(function_id, "/empty")) as response:
        assert response.status == 204
        assert await response.read() == b""
    async with http.get(server.fn_url(function_id, "/tea")) as response:
        assert (response.status, response.reason) == (418, "I am a teapot")
    async with http.head(server.fn_url(function_id, "/tea")) as response:
        assert response.status == 418
        assert await response.read() == b""


async def test_a_script_function_answers_with_its_return_value(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    ok = await deploy("Vortex.return({ hello: 'world' })")
    async with http.post(server.fn_url(ok, "/anything")) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/json"
        assert await response.json() == {"hello": "world"}
    nothing = await deploy("console.log('no return')")
    async with http.get(server.fn_url(nothing)) as response:
        assert await response.json() is None
    failing = await deploy("throw new Error('script failed')")
    async with http.get(server.fn_url(failing)) as response:
        assert response.status == 500
        assert response.headers["X-Vortex-Error"] == "function_error"
        body = await response.json()
    assert body["error"]["message"] == "script failed"
    assert body["run_id"] == response.headers["X-Vortex-Run-Id"]


async def test_handler_errors_and_invalid_responses(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    cases = {
        "return 'text';": (502, "invalid_response", "must return a Response"),
        "return { status: 200 };": (502, "invalid_response", "must return a Response"),
        "return Response.error();": (502, "invalid_response", "Response.error()"),
        "const r = new Response('x'); await r.text(); return r;": (
            502,
            "invalid_response",
            "already been used",
        ),
        "throw new Error('handler failed');": (500, "function_error", "handler failed"),
        "await new Promise((_, reject) => setTimeout(() => reject(new TypeError('later')), 5));": (
            500,
            "function_error",
            "later",
        ),
    }
    for line, (status, code, message) in cases.items():
        function_id = await deploy(f"export default {{ async fetch() {{ {line} }} }};")
        async with http.get(server.fn_url(function_id)) as response:
            body = await response.json()
            assert response.status == status, (line, body)
        assert body["error"]["code"] == code, (line, body)
        assert message in body["error"]["message"], (line, body)


async def test_a_body_stream_that_breaks_cuts_the_connection(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy(
        "export default {\n"
        "  fetch() {\n"
        "    return new Response(new ReadableStream({\n"
        "      start(c) { c.enqueue(new TextEncoder().encode('partial')); },\n"
        "      pull(c) { return new Promise((_, reject) => setTimeout(() => reject(new Error('broken')), 50)); },\n"
        "    }));\n"
        "  },\n"
        "};\n"
    )
    async with http.get(server.fn_url(function_id)) as response:
        assert response.status == 200
        try:
            await response.read()
            cut = False
        except aiohttp.ClientPayloadError:
            cut = True
    assert cut


async def test_unknown_functions_and_bad_ids(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    # On the API port /fn/ finds the function before it redirects: an unknown one is a 404 there.
    unknown_id = "00000000-0000-4000-8000-000000000000"
    for ref in (unknown_id, "not-an-id"):  # an id; a name (docs/versions.md), unknown
        async with http.get(f"/fn/{ref}/x", allow_redirects=False) as response:
            assert response.status == 404, ref
            assert (await response.json())["error"]["code"] == "function_not_found"
    async with http.get("/fn/Not_An_Id", allow_redirects=False) as response:
        assert response.status == 400
        assert (await response.json())["error"]["code"] == "invalid_function_id"
    # On the listener an unknown hostname is a 404 too (from the host that accepted it).
    for ref in (unknown_id, "not-an-id"):
        async with http.get(server.fn_url(ref, "/x")) as response:
            assert response.status == 404, ref
            assert (await response.json())["error"]["code"] == "function_not_found"


async def _deployed(http: aiohttp.ClientSession, code: str, **extra: object) -> dict[str, object]:
    async with http.post("/deploy", json={"code": code, **extra}) as response:
        body = await response.json()
        assert response.status == 200, body
        return dict(body)


ECHO_URL = """
export default {
  async fetch(request) {
    return Response.json({ method: request.method, url: request.url, body: await request.text() });
  },
};
"""


async def test_fn_on_the_api_port_is_a_308_to_the_function_s_origin(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = f"moved-{time.monotonic_ns() % 10**9}"
    function_id = str(
        (await _deployed(http, ECHO_URL, name=name, filename="index.mjs"))["function_id"]
    )
    # An id names that very version, so it is sent to the id's hostname; a name to the name's
    # (whichever version is active when the redirected request lands). The rest of the path and
    # the query travel as sent, percent-encoding included.
    cases = {
        f"/fn/{function_id}": server.fn_url(function_id, "/"),
        f"/fn/{function_id}/": server.fn_url(function_id, "/"),
        f"/fn/{function_id}/a/b%20c%2Fd?q=x%26y&tag=1&tag=2": server.fn_url(
            function_id, "/a/b%20c%2Fd?q=x%26y&tag=1&tag=2"
        ),
        f"/fn/{name}/api/items?q=1": server.fn_url(name, "/api/items?q=1"),
        f"/fn/{name}.default/x": server.fn_url(name, "/x"),
    }
    for method in ("GET", "POST", "DELETE"):
        for old, location in cases.items():
            async with http.request(method, old, allow_redirects=False) as response:
                assert response.status == 308, (method, old)
                assert response.headers["Location"] == location, (method, old)
                assert "X-Vortex-Run-Id" not in response.headers  # nothing ran here
    # Followed, the function sees its own URL: no /fn/{id} prefix any more.
    async with http.get(f"/fn/{name}/api/items?q=1") as response:
        assert response.status == 200
        assert str(response.url) == server.fn_url(name, "/api/items?q=1")
        assert len(response.history) == 1 and response.history[0].status == 308
        assert (await response.json())["url"] == server.fn_url(name, "/api/items?q=1")


async def test_a_post_through_the_308_keeps_its_method_and_body(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    function_id = str((await _deployed(http, ECHO_URL, filename="index.mjs"))["function_id"])
    payload = bytes(range(256)).decode("latin-1").encode() * 40
    async with http.post(
        f"/fn/{function_id}/hook?from=old", data=payload, headers={"Content-Type": "text/plain"}
    ) as response:
        assert response.history[0].status == 308
        assert response.status == 200
        body = await response.json()
    assert body["method"] == "POST"
    assert body["url"] == server.fn_url(function_id, "/hook?from=old")
    assert body["body"].encode() == payload
    async with http.put(f"/fn/{function_id}", json={"a": [1, 2]}) as response:
        body = await response.json()
    assert (body["method"], body["body"]) == ("PUT", '{"a": [1, 2]}')


async def test_the_308_for_a_name_of_another_namespace(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory(workers=1)
    key = make_key(server, "acme")
    headers = {"Authorization": f"Bearer {key}"}
    # Until then the server believes "no keys" (single-tenant: everything is default's).
    server.wait_for_keys(key)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        async with http.post(
            "/deploy",
            json={"code": ECHO_URL, "name": "hello", "filename": "index.mjs"},
            headers=headers,
        ) as response:
            assert response.status == 200
            deployed = await response.json()
        assert deployed["url"] == server.fn_url("hello.acme", "")
        # /fn/ is public, like the listener: no key, and the namespace is in the name.
        async with http.get("/fn/hello.acme/p?x=1", allow_redirects=False) as response:
            assert response.status == 308
            assert response.headers["Location"] == server.fn_url("hello.acme", "/p?x=1")
        async with http.get("/fn/hello.acme/p?x=1") as response:
            assert (await response.json())["url"] == server.fn_url("hello.acme", "/p?x=1")
        # A bare name is one of "default", which has no "hello".
        async with http.get("/fn/hello/", allow_redirects=False) as response:
            assert response.status == 404
            assert (await response.json())["error"]["code"] == "function_not_found"
        async with http.get(server.fn_url("hello", "/")) as response:
            assert response.status == 404


async def test_execute_on_a_module_function_returns_the_response(
    http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy(
        "export default {\n"
        "  fetch(request) {\n"
        "    console.log(request.method, new URL(request.url).pathname);\n"
        "    if (new URL(request.url).searchParams.has('never')) return;\n"
        "    return new Response(new Uint8Array([0xff, 0x00]), { status: 207, headers: { 'X-A': '1', 'x-b': '2' } });\n"
        "  },\n"
        "};\n"
    )
    async with http.post(f"/execute/{function_id}") as response:
        assert response.status == 200
        body = await response.json()
    assert body["output"] == {
        "status": 207,
        "statusText": "",
        "headers": {"x-a": "1", "x-b": "2"},
        "body": base64.b64encode(b"\xff\x00").decode(),
        "bodyEncoding": "base64",
    }
    # The request a run by /execute sees is the one the version answers at on the listener.
    assert body["logs"][0]["message"] == "GET /"
    assert "error" not in body


async def test_fetch_handlers_run_concurrently(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy(
        "export default { async fetch() { await new Promise((r) => setTimeout(r, 200)); return new Response('ok'); } };"
    )

    async def one() -> str:
        async with http.get(server.fn_url(function_id)) as response:
            return await response.text()

    started = time.monotonic()
    assert await asyncio.gather(*(one() for _ in range(20))) == ["ok"] * 20
    assert time.monotonic() - started < 2.0


async def test_a_hung_handler_hits_the_wall_limit(
    server_factory: Callable[..., ServerProcess],
) -> None:
    server = server_factory({"VORTEX_WALL_LIMIT_MS": "300"}, workers=1)
    async with aiohttp.ClientSession(base_url=server.url) as http:
        async with http.post(
            "/deploy",
            json={"code": "export default { fetch() { return new Promise(() => {}); } };"},
        ) as response:
            function_id = (await response.json())["function_id"]
        async with http.get(server.fn_url(function_id)) as response:
            assert response.status == 504
            assert (await response.json())["error"]["code"] == "wall_time_exceeded"


async def test_a_client_that_leaves_a_stream_early(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy(
        "export default {\n"
        "  fetch() {\n"
        "    let n = 0;\n"
        "    return new Response(new ReadableStream({\n"
        "      async pull(c) {\n"
        "        await new Promise((r) => setTimeout(r, 30));\n"
        "        if (++n > 20) c.close(); else c.enqueue(new TextEncoder().encode('tick ' + n + '\\n'));\n"
        "      },\n"
        "    }));\n"
        "  },\n"
        "};\n"
    )
    async with (
        aiohttp.ClientSession(base_url=server.url) as leaving,
        leaving.get(server.fn_url(function_id), headers={"X-Vortex-Run-Id": "left"}) as response,
    ):
        assert (await response.content.readline()) == b"tick 1\n"
    deadline = time.monotonic() + 5
    last = None
    while time.monotonic() < deadline:
        async with http.get(f"/functions/{function_id}") as response:
            last = (await response.json())["last_run"]
        if last and last["run_id"] == "left":
            break
        await asyncio.sleep(0.05)
    assert last is not None and last["run_id"] == "left" and last["ok"]
    assert "unhandled error" not in server.log()


async def test_large_bodies_and_many_log_lines_do_not_stall_the_pipe(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    # More than a pipe holds, written in one turn: the host's transport must flush it after the
    # run has ended, when callbacks of the run itself are no longer run.
    big = await deploy(
        "export default { fetch() { return new Response(new Uint8Array(5 << 20).fill(65)); } };"
    )
    async with http.get(server.fn_url(big)) as response:
        body = await response.read()
    assert len(body) == 5 << 20 and set(body) == {65}
    chatty = await deploy(
        "for (let i = 0; i < 400; i++) console.log('line', i, 'x'.repeat(1000));\nVortex.return('done')"
    )
    for _ in range(2):
        async with http.post(f"/execute/{chatty}") as response:
            result = await response.json()
        assert result["output"] == "done", result.get("error")
        assert len(result["logs"]) == 400
