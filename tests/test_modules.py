"""Module functions: what makes an upload a module, multi-file uploads, imports refused with a
clear 400, syntax errors and stacks that point at the uploaded files, and ctx.waitUntil."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from tests.runs import recorded
from tests.server import ServerProcess

Deploy = Callable[..., Awaitable[str]]

HELLO = """export default {
  async fetch(request, env, ctx) {
    return new Response('hello from ' + new URL(request.url).pathname);
  }
};
"""


async def deploy_files(
    http: aiohttp.ClientSession, files: dict[str, str], entry: str | None = None, **extra: Any
) -> tuple[int, dict[str, Any]]:
    payload: dict[str, Any] = {"files": files, **extra}
    if entry is not None:
        payload["entry"] = entry
    async with http.post("/deploy", json=payload) as response:
        return response.status, await response.json()


async def test_mjs_name_or_top_level_export_makes_a_module(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    by_name = await deploy(HELLO, filename="worker.mjs")
    by_export = await deploy(HELLO)
    for function_id in (by_name, by_export):
        async with http.get(server.fn_url(function_id, "/x")) as response:
            assert response.status == 200
            assert await response.text() == "hello from /x"
        async with http.get(f"/functions/{function_id}") as response:
            shown = await response.json()
        assert shown["kind"] == "module"
        assert shown["code"] == HELLO
    # "export" inside a template literal is no module: the script grammar accepts it.
    script = await deploy("const text = `\nexport default 1\n`;\nVortex.return(text.trim())")
    async with http.post(f"/execute/{script}") as response:
        body = await response.json()
    assert body["output"] == "export default 1"
    async with http.get(f"/functions/{script}") as response:
        assert (await response.json())["kind"] == "script"


async def test_several_files_with_relative_imports(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    status, body = await deploy_files(
        http,
        {
            "index.mjs": (
                "import { greet } from './lib/greet.mjs';\n"
                "import config from './config.json';\n"
                "import * as maths from './lib/maths';\n"
                "export default {\n"
                "  fetch() { return Response.json({ text: greet(config.name), sum: maths.add(2, 3), n: maths.counter() }); },\n"
                "};\n"
            ),
            "lib/greet.mjs": "import { upper } from '../util.js';\nexport const greet = (n) => 'hi ' + upper(n);\n",
            "lib/maths.mjs": "let count = 0;\nexport function add(a, b) { return a + b; }\nexport const counter = () => ++count;\n",
            "util.js": "export function upper(s) { return s.toUpperCase(); }\n",
            "config.json": '{"name": "ada"}',
        },
        entry="index.mjs",
    )
    assert status == 200, body
    function_id = body["function_id"]
    async with http.get(server.fn_url(function_id)) as response:
        assert await response.json() == {"text": "hi ADA", "sum": 5, "n": 1}
    async with http.get(f"/functions/{function_id}") as response:
        shown = await response.json()
    assert shown["entry"] == "index.mjs"
    assert sorted(shown["files"]) == [
        "config.json",
        "index.mjs",
        "lib/greet.mjs",
        "lib/maths.mjs",
        "util.js",
    ]
    assert shown["files"]["util.js"].startswith("export function upper")


async def test_default_imports_between_mjs_files_are_the_default_export(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    # How a Hono app is split over files: the default export of another .mjs file, which an
    # .mjs importer once got as the whole namespace ({default}), as Node gets a CommonJS file.
    status, body = await deploy_files(
        http,
        {
            "index.mjs": (
                "import app from './app.mjs';\n"
                "import greet, { name } from './greet.js';\n"
                "import helper from './helper.cjs';\n"
                "export default { fetch: (request) => app.fetch(request, greet(name) + helper()) };\n"
            ),
            "app.mjs": "export default { fetch: (request, text) => new Response(text) };\n",
            "greet.js": "export const name = 'ada';\nexport default (who) => 'hi ' + who;\n",
            "helper.cjs": "module.exports = () => '!';\n",
        },
        entry="index.mjs",
    )
    assert status == 200, body
    async with http.get(server.fn_url(body["function_id"])) as response:
        assert (response.status, await response.text()) == (200, "hi ada!")


async def test_refused_text_in_literals_and_import_calls(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    # What libraries hold: "-->" and "<!--" in strings, import() of a computed name in a
    # try (Hono's logger), a lazy import() of a file of the upload.
    status, body = await deploy_files(
        http,
        {
            "index.mjs": (
                "const arrow = '-->'; // <!-- a comment -->\n"
                "async function optional(name) {\n"
                "  try { return (await import(name)).default; } catch (e) { return 'no ' + name; }\n"
                "}\n"
                "export default { async fetch() {\n"
                "  const lazy = await import('./lazy.mjs');\n"
                "  return Response.json([arrow, `<!--${arrow}`, await optional('cloudflare:workers'),\n"
                "    lazy.default, String(/import(x)/)]);\n"
                "} };\n"
            ),
            "lazy.mjs": "export default 'lazy ' + 'eval(1)';\n",
        },
        entry="index.mjs",
    )
    assert status == 200, body
    async with http.get(server.fn_url(body["function_id"])) as response:
        assert await response.json() == [
            "-->",
            "<!---->",
            "no cloudflare:workers",
            "lazy eval(1)",
            "/impor\\x74(x)/",  # a regular expression's source shows the escape
        ]
    # A direct eval in code is refused at its line in the uploaded file.
    status, body = await deploy_files(
        http,
        {
            "index.mjs": "export default { fetch: () => new Response('x') };\n",
            "lib.mjs": "export const s = '-->';\n\nexport const f = (x) => eval(x);\n",
        },
        entry="index.mjs",
    )
    assert status == 400
    error = body["error"]
    assert (error["code"], error["file"], error["line"]) == ("syntax_error", "lib.mjs", 3), body


async def test_imports_outside_the_upload_are_refused(http: aiohttp.ClientSession) -> None:
    cases = {
        "import _ from 'lodash';": "packages cannot be imported",
        "import x from 'https://esm.sh/preact';": "only relative imports",
        "import fs from 'node:fs';": "only these Node.js built-in modules of Workers' nodejs_compat",
        "import zlib from 'node:zlib';": "node:assert, node:assert/strict, node:async_hooks, node:buffer",
        "import p from '/etc/passwd';": "only relative imports",
        "import s from '../secret.mjs';": "leaves the uploaded files",
        "import n from './nope.mjs';": "no uploaded file is named nope.mjs",
        "const m = await import('./lib.mjs');": "",
        "export const lazy = () => import('lodash');": "packages cannot be imported",
    }
    for line, expected in cases.items():
        status, body = await deploy_files(
            http,
            {
                "index.mjs": f"{line}\nexport default {{ fetch() {{ return new Response('x'); }} }};\n",
                "lib.mjs": "",
            },
        )
        assert status == 400, (line, body)
        if "await import" in line:
            # Top-level await is not supported by the CommonJS transform: a syntax error.
            assert body["error"]["code"] == "syntax_error", body
            assert "index.mjs:1:" in body["error"]["message"]
            continue
        assert body["error"]["code"] == "invalid_import", (line, body)
        assert expected in body["error"]["message"], (line, body)
        if expected == "packages cannot be imported":
            # ... and it says what to run instead
            assert "run `vortex deploy` in the project's folder" in body["error"]["message"]


async def test_syntax_errors_name_the_file_line_and_column(http: aiohttp.ClientSession) -> None:
    status, body = await deploy_files(
        http,
        {
            "index.mjs": "import { f } from './lib.mjs';\nexport default { fetch: f };\n",
            "lib.mjs": "export function f() {\n  return new Response(;\n}\n",
        },
        entry="index.mjs",
    )
    assert status == 400
    error = body["error"]
    assert error["code"] == "syntax_error"
    assert (error["file"], error["line"], error["column"]) == ("lib.mjs", 2, 23)
    assert "(lib.mjs:2:23)" in error["message"]


async def test_bad_uploads_are_refused(http: aiohttp.ClientSession) -> None:
    for files, entry, needle in [
        ({"a.mjs": "", "b.mjs": ""}, None, "entry"),
        ({"index.mjs": ""}, "missing.mjs", "entry"),
        ({"../index.mjs": ""}, None, "not a valid file name"),
        ({"index.py": ""}, None, "module functions are made of"),
        ({}, None, '"files"'),
    ]:
        status, body = await deploy_files(http, files, entry)
        assert status == 400, body
        assert body["error"]["code"] == "invalid_request"
        assert needle in body["error"]["message"], body


async def test_errors_point_at_the_uploaded_files(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    status, body = await deploy_files(
        http,
        {
            "index.mjs": (
                "import { check } from './lib/check.mjs';\n"
                "\n"
                "export default {\n"
                "  async fetch(request) {\n"
                "    console.log(new Error('logged'));\n"
                "    return check(new URL(request.url).searchParams.get('n'));\n"
                "  },\n"
                "};\n"
            ),
            "lib/check.mjs": (
                "export function check(n) {\n"
                "  if (n !== 'ok') {\n"
                "    throw new RangeError(`bad n: ${n}`);\n"
                "  }\n"
                "  return new Response('fine');\n"
                "}\n"
            ),
        },
        entry="index.mjs",
    )
    assert status == 200, body
    function_id = body["function_id"]
    async with http.get(server.fn_url(function_id, "/?n=no")) as response:
        assert response.status == 500
        assert response.headers["X-Vortex-Error"] == "function_error"
        answer = await response.json()
    error = answer["error"]
    assert (error["name"], error["message"]) == ("RangeError", "bad n: no")
    # The client is told what failed; the stack is for the history (and the live tail).
    assert "stack" not in error
    error = (await recorded(http, function_id, answer["run_id"]))["error"]
    assert (error["name"], error["message"]) == ("RangeError", "bad n: no")
    assert error["stack"].splitlines() == [
        "RangeError: bad n: no",
        "    at check (lib/check.mjs:3:11)",
        "    at fetch (index.mjs:6:12)",
    ]
    async with http.post(f"/execute/{function_id}") as response:
        body = await response.json()
    assert body["logs"][0]["message"].splitlines() == [
        "Error: logged",
        "    at fetch (index.mjs:5:17)",
    ]
    assert "vortex-bundle" not in str(body)


async def test_a_module_without_a_fetch_handler(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy("export const notDefault = 1;\n", filename="index.mjs")
    async with http.get(server.fn_url(function_id)) as response:
        assert response.status == 500
        error = (await response.json())["error"]
    assert error["code"] == "invalid_module"
    assert "export default { async fetch(request, env, ctx)" in error["message"]
    thrower = await deploy(
        "throw new TypeError('at load');\nexport default {};\n", filename="a.mjs"
    )
    async with http.get(server.fn_url(thrower)) as response:
        answer = await response.json()
    assert (answer["error"]["code"], answer["error"]["message"]) == ("function_error", "at load")
    error = (await recorded(http, thrower, answer["run_id"]))["error"]
    assert (error["code"], error["message"]) == ("function_error", "at load")
    assert "(a.mjs:1:7)" in error["stack"]


async def test_wait_until_work_finishes_after_the_response_with_its_logs(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy(
        "export default {\n"
        "  async fetch(request, env, ctx) {\n"
        "    ctx.waitUntil(new Promise((resolve) => setTimeout(() => { console.log('after'); resolve(); }, 400)));\n"
        "    ctx.waitUntil(Promise.reject(new Error('late failure')));\n"
        "    console.log('before');\n"
        "    return new Response('now');\n"
        "  },\n"
        "};\n"
    )
    async with http.ws_connect(f"/ws/{function_id}") as ws:
        started = time.monotonic()
        async with http.get(
            server.fn_url(function_id), headers={"X-Vortex-Run-Id": "wait"}
        ) as response:
            assert await response.text() == "now"
        answered = time.monotonic() - started
        lines = []
        while len(lines) < 3:
            message = await asyncio.wait_for(ws.receive_json(), 5)
            lines.append((message["level"], message["message"].splitlines()[0], message["run_id"]))
    assert answered < 0.35
    assert sorted(lines) == [
        ("error", "Uncaught (in waitUntil) Error: late failure", "wait"),
        ("log", "after", "wait"),
        ("log", "before", "wait"),
    ]
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        async with http.get(f"/functions/{function_id}") as response:
            last = (await response.json())["last_run"]
        if last and last["run_id"] == "wait":
            break
        await asyncio.sleep(0.05)
    assert last["run_id"] == "wait"
    assert last["error_code"] == "function_error"
    assert last["execution_time_ms"] >= 380


async def test_a_handler_that_throws_is_answered_at_once_and_its_wait_until_goes_on(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    """As workerd: the failure is answered without waiting, and the waitUntil work the handler
    started still runs (Sentry's withSentry reports the error it rethrows from one; ending the
    run at the throw dropped the report). The run is recorded as failed."""
    function_id = await deploy(
        "export default {\n"
        "  async fetch(request, env, ctx) {\n"
        "    ctx.waitUntil(new Promise((resolve) => setTimeout(() => { console.log('reported'); resolve(); }, 1500)));\n"
        "    throw new Error('handler failed');\n"
        "  },\n"
        "};\n"
    )
    async with http.ws_connect(f"/ws/{function_id}") as ws:
        started = time.monotonic()
        async with http.get(
            server.fn_url(function_id), headers={"X-Vortex-Run-Id": "thrown"}
        ) as response:
            assert response.status == 500
            assert (await response.json())["error"]["message"] == "handler failed"
        assert time.monotonic() - started < 1.0  # not after the 1.5 s of waitUntil work
        message = await asyncio.wait_for(ws.receive_json(), 5)
        assert (message["message"], message["run_id"]) == ("reported", "thrown")
    run = await recorded(http, function_id, "thrown")
    assert run["error"]["code"] == "function_error"
    assert run["execution_time_ms"] >= 1480


CTX_SHAPE = """export default {
  async fetch(request, env, ctx) {
    const tries = {};
    const attempt = (name, f) => { try { tries[name] = f(); } catch (e) { tries[name] = e.name + ': ' + e.message; } };
    attempt('detached', () => { const w = ctx.waitUntil; w(Promise.resolve()); return 'ran'; });
    attempt('bound', () => { ctx.waitUntil.bind(ctx)(Promise.resolve()); return 'ran'; });
    attempt('made', () => new ctx.constructor(Symbol(), {}));
    attempt('prototype', () => { Object.getPrototypeOf(ctx).waitUntil = null; return 'changed'; });
    ctx.props.seen = (ctx.props.seen || 0) + 1;
    return Response.json({
      keys: Object.keys(ctx),
      methods: Object.getOwnPropertyNames(Object.getPrototypeOf(ctx)).sort(),
      className: ctx.constructor.name,
      props: ctx.props,
      passes: ctx.passThroughOnException(),
      tries,
    });
  },
};
"""


async def test_ctx_is_an_execution_context_with_props_as_in_workerd(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy(CTX_SHAPE)
    for _ in range(2):  # props is each run's own: the first run's key is not seen again
        async with http.get(server.fn_url(function_id)) as response:
            body = await response.json()
            assert response.status == 200, body
        tries = body.pop("tries")
        assert body == {
            "keys": ["props"],
            "methods": ["constructor", "passThroughOnException", "waitUntil"],
            "className": "ExecutionContext",
            "props": {"seen": 1},
        }
        assert tries["detached"].startswith("TypeError: Illegal invocation: waitUntil() was")
        assert tries["bound"] == "ran"
        assert tries["made"].startswith("TypeError: Illegal constructor")
        # The class is every run's: frozen, so no run can change another's ctx.
        assert tries["prototype"].startswith("TypeError")


async def test_a_module_cannot_use_vortex_return(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    function_id = await deploy(
        "export default { fetch() { return Response.json([typeof Vortex.return, typeof Vortex.env]); } };"
    )
    async with http.get(server.fn_url(function_id)) as response:
        assert await response.json() == ["undefined", "object"]


WARM_COUNTER = """
let requests = 0;
const bornAt = Date.now();
export default {
  async fetch(request, env) {
    const mine = ++requests;
    await new Promise((resolve) => setTimeout(resolve, 1));
    console.log("request", mine);
    return Response.json({ requests: mine, bornAt, greeting: env.GREETING });
  },
};
"""


async def test_a_module_instance_is_kept_between_requests_of_one_version(
    server_factory: Callable[..., Any],
) -> None:
    # One host: every request meets the same instance, as on one Workers isolate.
    proc = server_factory(workers=1)
    async with aiohttp.ClientSession(base_url=proc.url) as http:
        status, first = await deploy_files(http, {"w.mjs": WARM_COUNTER}, env={"GREETING": "one"})
        assert status == 200, first
        status, second = await deploy_files(http, {"w.mjs": WARM_COUNTER}, env={"GREETING": "two"})
        seen = []
        for _ in range(3):
            async with http.get(proc.fn_url(first["function_id"])) as response:
                seen.append(await response.json())
        assert [body["requests"] for body in seen] == [1, 2, 3]
        assert len({body["bornAt"] for body in seen}) == 1
        # The same code deployed again (another env) is another function: its own instance.
        async with http.get(proc.fn_url(second["function_id"])) as response:
            assert (await response.json())["requests"] == 1
        async with http.get(proc.fn_url(second["function_id"])) as response:
            assert (await response.json())["greeting"] == "two"
        # Each run's logs are its own, though the console is shared by the instance.
        async with http.post(f"/execute/{first['function_id']}") as response:
            body = await response.json()
        assert [line["message"] for line in body["logs"]] == ["request 4"]

        # An instance serves one request at a time: concurrent requests get instances of their
        # own (a promise pending in one is never awaited by another), each with its own logs.
        async def one() -> list[str]:
            async with http.post(f"/execute/{first['function_id']}") as response:
                body = await response.json()
                assert "error" not in body, body
                return [line["message"] for line in body["logs"]]

        logs = await asyncio.gather(*(one() for _ in range(10)))
        assert all(len(lines) == 1 and lines[0].startswith("request ") for lines in logs)


SHARED_PROMISE = """
let ready = null;
let served = 0;
export default {
  async fetch(request) {
    served += 1;
    if (ready === null) ready = new Promise((resolve) => setTimeout(() => resolve("ready"), 200));
    const value = await ready;
    console.log(value, served);
    return new Response(value + " " + served);
  },
};
"""


async def test_concurrent_requests_never_share_a_pending_promise(
    server_factory: Callable[..., Any],
) -> None:
    # Lazy initialisation shared through module state: each concurrent request has an instance
    # of its own, so none waits on a timer of another (which would end with the other's run).
    proc = server_factory({"VORTEX_WALL_LIMIT_MS": "3000"}, workers=1)
    async with aiohttp.ClientSession(base_url=proc.url) as http:
        status, body = await deploy_files(http, {"w.mjs": SHARED_PROMISE})
        assert status == 200, body

        async def one() -> tuple[str, list[str]]:
            async with http.post(f"/execute/{body['function_id']}") as response:
                answer = await response.json()
                assert "error" not in answer, answer
                return answer["output"]["body"], [line["message"] for line in answer["logs"]]

        results = await asyncio.gather(*(one() for _ in range(4)))
        assert all(text == "ready 1" and lines == ["ready 1"] for text, lines in results)
        # Sequential requests then reuse the kept instances, whose promise has settled.
        text, lines = await one()
        assert text == "ready 2" and lines == ["ready 2"]


async def test_warm_instances_can_be_turned_off(server_factory: Callable[..., Any]) -> None:
    proc = server_factory({"VORTEX_WARM_INSTANCES": "0"}, workers=1)
    async with aiohttp.ClientSession(base_url=proc.url) as http:
        status, body = await deploy_files(http, {"w.mjs": WARM_COUNTER})
        assert status == 200, body
        for _ in range(2):
            async with http.get(proc.fn_url(body["function_id"])) as response:
                assert (await response.json())["requests"] == 1


TOP_LEVEL_CHAIN = """
let imported = "pending";
// What a bundler makes of import("node:events") at the top level (SvelteKit's of
// node:async_hooks), and an init chain of several awaits started there (SvelteKit's server.init).
Promise.resolve().then(() => { imported = "done"; });
const init = (async () => { await null; await Promise.resolve(); return "ready"; })();
export default {
  async fetch() { return Response.json({ init: await init, imported }); },
};
"""


async def test_promise_jobs_of_the_top_level_run_before_the_warm_up_ends(
    server: ServerProcess, http: aiohttp.ClientSession, deploy: Deploy
) -> None:
    # The warm-up after a deploy evaluates the top level; its promise jobs must run then, as
    # workerd's microtask checkpoint after evaluation runs them: dropped with the warm-up's run,
    # they left the kept instance with a promise that never settles (every first request of a
    # host hung until its wall limit), and a dynamic import never done.
    function_id = await deploy(TOP_LEVEL_CHAIN, filename="w.mjs")
    timeout = aiohttp.ClientTimeout(total=5)
    for _ in range(4):  # both hosts, their warm instances first
        async with http.get(server.fn_url(function_id), timeout=timeout) as response:
            assert response.status == 200
            assert await response.json() == {"init": "ready", "imported": "done"}


TOP_LEVEL_STATE = """
let state = "pending";
const ready = (async () => { await null; await null; await null; state = "ready"; return state; })();
export default {
  async fetch(request) {
    const seen = state;
    const path = new URL(request.url).pathname;
    if (path === "/busy") await new Promise((resolve) => setTimeout(resolve, 300));
    if (path === "/await") return new Response(await ready);
    return new Response(seen);
  },
};
"""


async def test_a_new_instance_runs_its_top_levels_promise_jobs_before_its_handler(
    server_factory: Callable[..., Any],
) -> None:
    # Concurrent requests each get an instance, most of them new, made in their own runs. As
    # workerd runs the microtask checkpoint after evaluating a module, the handler sees the top
    # level's chain done; called at once, it saw "pending".
    proc = server_factory(workers=1)
    async with aiohttp.ClientSession(base_url=proc.url) as http:
        status, body = await deploy_files(http, {"w.mjs": TOP_LEVEL_STATE})
        assert status == 200, body
        url = proc.fn_url(body["function_id"])
        timeout = aiohttp.ClientTimeout(total=5)

        async def text(path: str) -> str:
            async with http.get(url + path.lstrip("/"), timeout=timeout) as response:
                assert response.status == 200
                return await response.text()

        seen = await asyncio.gather(*(text("/busy") for _ in range(6)))
        assert seen == ["ready"] * 6
        assert [await text("/await") for _ in range(6)] == ["ready"] * 6
