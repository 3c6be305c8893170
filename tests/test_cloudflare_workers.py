"""``cloudflare:workers`` and class default exports, as Cloudflare's docs and templates write
Workers today: deployed to a real server (through the API, and bundled by ``vortex deploy``)
and called on the functions listener.

One server with one worker process, so that every function here shares a host: what one
function does to the imported classes must not be seen by another.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from tests.conftest import TEST_SERVER_ENV
from tests.jsrun import deploy_module as deploy
from tests.npm_apps import cli_deploy, run_logs
from tests.server import ServerProcess, start_server, stop_and_check
from vortex.modules.errors import CLOUDFLARE_MODULES_ADVICE
from vortex.modules.nodebuiltins import CLOUDFLARE_MODULES


async def get(server: ServerProcess, ref: str, path: str = "/") -> tuple[int, Any]:
    async with aiohttp.ClientSession() as client, client.get(server.fn_url(ref, path)) as r:
        return r.status, await r.json(content_type=None)


async def ok(server: ServerProcess, ref: str, path: str = "/") -> Any:
    status, body = await get(server, ref, path)
    assert status == 200, body
    return body


async def eventually(server: ServerProcess, ref: str, path: str, expected: Any) -> Any:
    """What ``path`` answers once it is ``expected`` (a waitUntil's write lands after the
    response), or its last answer."""
    body = None
    for _ in range(40):
        body = await ok(server, ref, path)
        if body == expected:
            break
        await asyncio.sleep(0.05)
    return body


ENTRYPOINT = """
import { WorkerEntrypoint, env, waitUntil } from "cloudflare:workers";

// The importable env, read at the top level as workerd allows.
const atTopLevel = { greeting: env.GREETING, token: env.TOKEN, kv: typeof env.KV };
let made = 0;

export default class extends WorkerEntrypoint {
  constructor(ctx, env) {
    super(ctx, env);
    made += 1;
    this.perInstance = (this.perInstance || 0) + 1;
  }
  async fetch(request) {
    const url = new URL(request.url);
    const later = (key, value) => new Promise((resolve) => setTimeout(resolve, 50)).then(() => this.env.KV.put(key, value));
    if (url.pathname === "/ctx") {
      this.ctx.waitUntil(later("ctx", "written by this.ctx.waitUntil"));
      return Response.json("later");
    }
    if (url.pathname === "/module") {
      waitUntil(later("module", "written by waitUntil of cloudflare:workers"));
      return Response.json("later");
    }
    if (url.pathname === "/read") {
      return Response.json([await this.env.KV.get("ctx"), await env.KV.get("module")]);
    }
    return Response.json({
      greeting: `hi ${this.env.GREETING}`,
      token: this.env.TOKEN,
      sameEnv: env === this.env,
      atTopLevel,
      args: arguments.length,
      isEntrypoint: this instanceof WorkerEntrypoint,
      ctx: [typeof this.ctx.waitUntil, typeof this.ctx.passThroughOnException],
      perInstance: this.perInstance,
      madeMoreThanOnce: made > 1,
    });
  }
}
"""


async def test_a_worker_entrypoint_class_serves_requests(
    one_host: ServerProcess, api: aiohttp.ClientSession
) -> None:
    ref = await deploy(api, ENTRYPOINT, env={"GREETING": "ada"}, secrets={"TOKEN": "s3cret"})
    first = await ok(one_host, ref)
    assert first == {
        "greeting": "hi ada",
        "token": "s3cret",
        "sameEnv": True,
        "atTopLevel": {"greeting": "ada", "token": "s3cret", "kv": "object"},
        "args": 1,  # only the request, as workerd passes to a class's fetch
        "isEntrypoint": True,
        "ctx": ["function", "function"],
        "perInstance": 1,
        "madeMoreThanOnce": False,
    }
    # A new instance of the class per request, in the same warm module instance.
    second = await ok(one_host, ref)
    assert (second["perInstance"], second["madeMoreThanOnce"]) == (1, True)
    # Both waitUntils keep the run going until their write is done (the run's timers would be
    # cleared at its end otherwise, and nothing written).
    assert await ok(one_host, ref, "/ctx") == "later"
    assert await ok(one_host, ref, "/module") == "later"
    assert await eventually(
        one_host,
        ref,
        "/read",
        [
            "written by this.ctx.waitUntil",
            "written by waitUntil of cloudflare:workers",
        ],
    ) == ["written by this.ctx.waitUntil", "written by waitUntil of cloudflare:workers"]


async def test_without_warm_instances_the_class_and_its_imports_work_the_same(
    tmp_path: Path,
) -> None:
    """With VORTEX_WARM_INSTANCES=0 every request evaluates the module in a compartment of its
    own: cloudflare:workers finds the env and the waitUntil there too."""
    server = start_server(tmp_path, {**TEST_SERVER_ENV, "VORTEX_WARM_INSTANCES": "0"}, workers=1)
    try:
        async with aiohttp.ClientSession(base_url=server.url) as session:
            ref = await deploy(session, ENTRYPOINT, env={"GREETING": "bo"}, secrets={"TOKEN": "t"})
        body = await ok(server, ref)
        assert (body["greeting"], body["sameEnv"], body["atTopLevel"]["token"]) == (
            "hi bo",
            True,
            "t",
        )
        assert await ok(server, ref, "/module") == "later"
        assert (
            await eventually(
                server, ref, "/read", [None, "written by waitUntil of cloudflare:workers"]
            )
        )[1] == ("written by waitUntil of cloudflare:workers")
    finally:
        stop_and_check(server)


SCHEDULED = """
import { WorkerEntrypoint } from "cloudflare:workers";
export default class Cron extends WorkerEntrypoint {
  async scheduled(controller) {
    console.log(`tick ${controller.cron} ${controller.scheduledTime} args=${arguments.length} region=${this.env.REGION}`);
    this.ctx.waitUntil(new Promise((resolve) => setTimeout(resolve, 30)).then(() => console.log("waited")));
  }
}
"""


async def test_a_scheduled_handler_on_a_class(api: aiohttp.ClientSession) -> None:
    ref = await deploy(api, SCHEDULED, env={"REGION": "eu"})
    tick = {"cron": "*/5 * * * *", "scheduledTime": 1765000000000}
    async with api.post(f"/functions/{ref}/scheduled", json=tick) as response:
        body = await response.json()
        assert response.status == 200, body
    assert "error" not in body, body
    assert [line["message"] for line in body["logs"]] == [
        "tick */5 * * * * 1765000000000 args=1 region=eu",
        "waited",
    ]


async def test_a_cron_only_class_and_other_shapes_are_refused_with_both_forms(
    one_host: ServerProcess, api: aiohttp.ClientSession
) -> None:
    cron_only = await deploy(api, SCHEDULED)
    status, body = await get(one_host, cron_only)
    assert (status, body["error"]["code"]) == (500, "invalid_module")
    assert body["error"]["message"].startswith("This module has a scheduled handler only")
    assert "a fetch(request) method in its class" in body["error"]["message"]
    for code in (
        "export default class { hello() {} };",
        "export default { hello() {} };",
        "export default function handler(request) { return new Response('x'); };",
    ):
        ref = await deploy(api, code)
        status, body = await get(one_host, ref)
        assert (status, body["error"]["code"]) == (500, "invalid_module"), code
        message = body["error"]["message"]
        assert "export default { async fetch(request, env, ctx) { ... } }" in message
        assert "export default class extends WorkerEntrypoint { async fetch(request)" in message
    fetch_only = await deploy(
        api,
        'import { WorkerEntrypoint } from "cloudflare:workers";\n'
        "export default class extends WorkerEntrypoint { fetch() { return new Response('x'); } };",
    )
    async with api.post(f"/functions/{fetch_only}/scheduled") as response:
        body = await response.json()
    assert body["error"]["code"] == "invalid_module"
    assert "scheduled(event, env, ctx)" in body["error"]["message"]
    assert "async scheduled(controller)" in body["error"]["message"]


async def test_a_class_with_a_static_fetch_is_served_as_an_object(
    one_host: ServerProcess, api: aiohttp.ClientSession
) -> None:
    """A function (or class) with a fetch of its own is the object form, as before: called with
    (request, env, ctx), never constructed."""
    ref = await deploy(
        api,
        "export default class { static fetch(request, env, ctx) {"
        " return Response.json([this === undefined, arguments.length, typeof ctx.waitUntil]); } "
        "fetch() { return Response.json('constructed'); } };",
    )
    assert await ok(one_host, ref) == [False, 3, "function"]


UNSUPPORTED = """
import { DurableObject, WorkflowEntrypoint, RpcTarget, RpcStub, withEnv } from "cloudflare:workers";

export class Counter extends DurableObject {
  constructor(ctx, env) {
    super(ctx, env);
    this.count = 0;
  }
  async fetch() {
    return new Response(String(++this.count));
  }
}
export class Flow extends WorkflowEntrypoint {
  async run(event, step) {}
}
class Point extends RpcTarget {
  constructor(x) { super(); this.x = x; }
}

const refusal = (make) => { try { make(); return "made"; } catch (e) { return `${e.name}: ${e.message}`; } };

export default {
  fetch(request, env) {
    const point = new Point(3);
    return Response.json({
      durableObject: refusal(() => new Counter({}, env)),
      workflow: refusal(() => new Flow({}, env)),
      stub: refusal(() => new RpcStub({})),
      withEnv: refusal(() => withEnv({}, () => 1)),
      target: [point instanceof RpcTarget, point.x],
      names: [DurableObject.name, WorkflowEntrypoint.name, RpcTarget.name],
    });
  },
};
"""


async def test_a_module_that_extends_durable_object_deploys_and_says_what_cannot_work(
    one_host: ServerProcess, api: aiohttp.ClientSession
) -> None:
    ref = await deploy(api, UNSUPPORTED)
    body = await ok(one_host, ref)
    assert body["durableObject"].startswith(
        "TypeError: Durable Objects are not supported by Vortex"
    )
    assert "extends DurableObject can be deployed" in body["durableObject"]
    assert body["workflow"].startswith("TypeError: Workflows are not supported by Vortex")
    assert body["stub"].startswith("TypeError: RPC stubs are not supported by Vortex")
    assert body["withEnv"].startswith("TypeError: withEnv() overrides of env are not supported")
    assert body["target"] == [True, 3]
    assert body["names"] == ["DurableObject", "WorkflowEntrypoint", "RpcTarget"]
    # A default export that is a Durable Object class fails when a request makes it, clearly.
    as_default = await deploy(
        api,
        'import { DurableObject } from "cloudflare:workers";\n'
        "export default class extends DurableObject { fetch() { return new Response('x'); } };",
    )
    status, answer = await get(one_host, as_default)
    assert (status, answer["error"]["code"]) == (500, "function_error")
    assert answer["error"]["message"].startswith("Durable Objects are not supported by Vortex")


async def test_wait_until_outside_a_request_is_a_clear_type_error(
    one_host: ServerProcess, api: aiohttp.ClientSession
) -> None:
    """At the module's top level (global scope, no request) as on workerd."""
    ref = await deploy(
        api,
        'import { waitUntil } from "cloudflare:workers";\n'
        "waitUntil(Promise.resolve());\n"
        "export default { fetch: () => new Response('x') };",
    )
    status, body = await get(one_host, ref)
    assert (status, body["error"]["code"], body["error"]["name"]) == (
        500,
        "function_error",
        "TypeError",
    )
    assert "cannot be called at the top level of a module" in body["error"]["message"]
    # Called from a handler, it works: a run whose waitUntil rejects logs it and fails late.
    ref = await deploy(
        api,
        'import { waitUntil } from "cloudflare:workers";\n'
        "export default { fetch() { waitUntil(Promise.reject(new Error('late'))); "
        "return new Response('sent'); } };",
    )
    async with aiohttp.ClientSession() as client, client.get(one_host.fn_url(ref)) as response:
        assert (response.status, await response.text()) == (200, "sent")
        run_id = response.headers["X-Vortex-Run-Id"]
    logs = await run_logs(one_host, ref, run_id)
    assert logs and logs[0].startswith("Uncaught (in waitUntil) Error: late"), logs


POLLUTER = """
import * as workers from "cloudflare:workers";
const { WorkerEntrypoint, DurableObject, RpcTarget, env } = workers;
export default class extends WorkerEntrypoint {
  fetch() {
    WorkerEntrypoint.prototype.injected = "polluted";
    WorkerEntrypoint.shared = "polluted";
    Object.defineProperty(WorkerEntrypoint.prototype, "env", { get: () => ({ GREETING: "stolen" }), set() {}, configurable: true });
    DurableObject.prototype.injected = "polluted";
    RpcTarget.prototype.injected = "polluted";
    const frozen = [Object.isFrozen(env), Object.isFrozen(globalThis.Vortex)];
    let replaced;
    try { workers.waitUntil = () => {}; replaced = "replaced"; } catch (e) { replaced = e.name; }
    return Response.json({ frozen, replaced, mine: WorkerEntrypoint.prototype.injected });
  }
}
"""

OBSERVER = """
import { WorkerEntrypoint, DurableObject, RpcTarget, waitUntil } from "cloudflare:workers";
export default class extends WorkerEntrypoint {
  fetch() {
    waitUntil(Promise.resolve());
    return Response.json({
      greeting: this.env.GREETING,
      injected: [WorkerEntrypoint.prototype.injected ?? null, DurableObject.prototype.injected ?? null, RpcTarget.prototype.injected ?? null],
      shared: WorkerEntrypoint.shared ?? null,
      ownEnv: Object.getOwnPropertyNames(this).sort(),
    });
  }
}
"""


async def test_one_functions_changes_to_the_classes_are_not_seen_by_another(
    one_host: ServerProcess, api: aiohttp.ClientSession
) -> None:
    """Both functions run in the one host: cloudflare:workers is evaluated in each function's
    own compartment, so what one changes on its classes is its own."""
    observer = await deploy(api, OBSERVER, env={"GREETING": "mine"})
    fresh = await ok(one_host, observer)
    assert fresh == {
        "greeting": "mine",
        "injected": [None, None, None],
        "shared": None,
        "ownEnv": ["ctx", "env"],
    }
    polluter = await deploy(api, POLLUTER)
    polluted = await ok(one_host, polluter)
    assert polluted == {"frozen": [True, True], "replaced": "TypeError", "mine": "polluted"}
    later = await deploy(
        api, OBSERVER.replace("fetch()", "fetch(request)"), env={"GREETING": "mine"}
    )
    assert await ok(one_host, observer) == fresh
    assert await ok(one_host, later) == fresh
    stats = await (await api.get("/health")).json()
    assert stats.get("host_restarts", 0) == 0


async def test_other_cloudflare_modules_are_refused_with_the_list(
    api: aiohttp.ClientSession,
) -> None:
    for name in ("cloudflare:sockets", "cloudflare:email", "cloudflare:workflows", "workers"):
        code = (
            f'import x from "{name}";\nexport default {{ fetch: () => new Response(String(x)) }};\n'
        )
        async with api.post("/deploy", json={"code": code, "filename": "index.mjs"}) as r:
            assert r.status == 400
            error = (await r.json())["error"]
        assert error["code"] == "invalid_import", name
        if name.startswith("cloudflare:"):
            assert CLOUDFLARE_MODULES_ADVICE in error["message"]
        else:  # a bare name is a package, as on workerd
            assert "packages cannot be imported" in error["message"]
    for name in CLOUDFLARE_MODULES:
        assert name in CLOUDFLARE_MODULES_ADVICE


CLI_ENTRY = """\
import { WorkerEntrypoint, env } from "cloudflare:workers";
import { describe } from "./describe.js";
import { label } from "entrypoint-helper";
import legacy from "cjs-helper";

export default class App extends WorkerEntrypoint {
  async fetch(request) {
    return Response.json({
      described: describe(this),
      label: label(),
      legacy: legacy(this.env),
      same: env === this.env,
    });
  }
}
"""

CLI_FILES = {
    "describe.js": (
        'import { WorkerEntrypoint } from "cloudflare:workers";\n'
        "export const describe = (self) => [self instanceof WorkerEntrypoint, self.env.GREETING];\n"
    ),
    # A package that imports cloudflare:workers itself: bundled, its import left to the server.
    "node_modules/entrypoint-helper/package.json": (
        '{"name": "entrypoint-helper", "version": "1.0.0", "type": "module", "main": "index.js"}'
    ),
    "node_modules/entrypoint-helper/index.js": (
        'import { env } from "cloudflare:workers";\nexport const label = () => "helper " + env.GREETING;\n'
    ),
    # A CommonJS package that requires it: the require becomes an import, as for node: ones.
    "node_modules/cjs-helper/package.json": '{"name": "cjs-helper", "version": "1.0.0", "main": "index.js"}',
    "node_modules/cjs-helper/index.js": (
        'const workers = require("cloudflare:workers");\n'
        "module.exports = (env) => workers.env === env && typeof workers.WorkerEntrypoint;\n"
    ),
    "wrangler.toml": (
        'name = "cfw-bundled"\nmain = "index.mjs"\ncompatibility_date = "2025-09-01"\n\n'
        '[vars]\nGREETING = "from wrangler"\n'
    ),
}


async def test_vortex_deploy_bundles_a_class_app_that_imports_cloudflare_workers(
    one_host: ServerProcess, tmp_path: Path
) -> None:
    for name, text in {"index.mjs": CLI_ENTRY, **CLI_FILES}.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    answer = cli_deploy(one_host, tmp_path)
    assert answer.get("name") == "cfw-bundled", answer
    assert await ok(one_host, "cfw-bundled") == {
        "described": [True, "from wrangler"],
        "label": "helper from wrangler",
        "legacy": "function",
        "same": True,
    }


async def test_a_default_export_that_throws_when_looked_at_fails_the_run_at_once(
    one_host: ServerProcess, api: aiohttp.ClientSession
) -> None:
    """A Proxy's trap (on the export or on a class's prototype) and a throwing constructor are
    the function's own errors, not a run left hanging until its wall limit."""
    cases = {
        "export default new Proxy(function () {}, { get(t, k) { throw new Error('trap ' + String(k)); } });": (
            "Error",
            "trap fetch",
        ),
        "function F() {}\nF.prototype = new Proxy({}, { get() { throw new Error('proto trap'); } });\n"
        "export default F;": ("Error", "proto trap"),
        'import { WorkerEntrypoint } from "cloudflare:workers";\n'
        "export default class extends WorkerEntrypoint { constructor(ctx, env) { super(ctx, env); "
        "throw new RangeError('in the constructor'); } fetch() { return new Response('x'); } };": (
            "RangeError",
            "in the constructor",
        ),
    }
    for code, (name, message) in cases.items():
        ref = await deploy(api, code)
        started = asyncio.get_running_loop().time()
        status, body = await get(one_host, ref)
        assert (status, body["error"]["code"]) == (500, "function_error"), code
        assert (body["error"]["name"], body["error"]["message"]) == (name, message)
        assert asyncio.get_running_loop().time() - started < 2, code
