"""node:async_hooks: AsyncLocalStorage and AsyncResource as workerd's nodejs_compat gives them,
deployed through the API to a real server and called on the functions listener.

One server with one worker process, so that concurrent requests of a function share a host and
interleave their awaits and timers in it; the upstream they fetch is a local aiohttp server.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from tests.jsrun import deploy_module as deploy
from tests.server import ServerProcess
from tests.threaded_app import app_in_thread
from vortex.modules.build import build
from vortex.modules.detect import Upload


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    async def sleep(request: web.Request) -> web.Response:
        await asyncio.sleep(int(request.query.get("ms", "0")) / 1000)
        return web.Response(text="slept")

    app = web.Application()
    app.router.add_get("/sleep", sleep)
    with app_in_thread(app) as port:
        yield f"http://127.0.0.1:{port}"


ONE_HOST_ENV = {"VORTEX_FETCH_ALLOW_PRIVATE": "1"}


async def get(server: ServerProcess, ref: str, path: str = "/") -> tuple[int, Any]:
    async with aiohttp.ClientSession() as client, client.get(server.fn_url(ref, path)) as r:
        return r.status, await r.json(content_type=None)


SEMANTICS = """
import { AsyncLocalStorage, AsyncResource, createHook, executionAsyncId, triggerAsyncId } from "node:async_hooks";
import hooks from "async_hooks";
const als = new AsyncLocalStorage();
const other = new AsyncLocalStorage();
const tick = (ms = 1) => new Promise((resolve) => setTimeout(resolve, ms));
const store = () => als.getStore() ?? null;

async function* numbers() {
  for (let i = 0; i < 3; i++) {
    await tick();
    yield store() + i;
  }
}

export default {
  async fetch() {
    const out = {};
    out.outside = store();
    out.awaited = await als.run("a", async () => {
      await null;
      await tick();
      await Promise.resolve();
      return store();
    });
    out.nested = await als.run("outer", async () => {
      const inner = await als.run("inner", async () => { await tick(); return store(); });
      await tick();
      return [inner, store()];
    });
    out.two = await als.run(1, () => other.run(2, async () => { await tick(); return [store(), other.getStore()]; }));
    out.exit = await als.run("x", async () => {
      const inside = als.exit(() => store());
      await tick();
      return [inside, store()];
    });
    out.then = await als.run("t", () => Promise.resolve(1).then(() => store()).then((s) => s + "!"));
    out.catchFinally = await als.run("c", () => {
      let seen = null;
      return Promise.reject(new Error("no")).catch(() => store()).finally(() => { seen = store(); }).then((s) => [s, seen]);
    });
    out.all = await als.run("all", () =>
      Promise.all([tick(2).then(() => store()), (async () => { await tick(); return store(); })()]),
    );
    out.thrown = await (async () => {
      try {
        await als.run("e", async () => { await tick(); throw new Error("boom"); });
      } catch (err) {
        return [err.message, store()];
      }
    })();
    try {
      als.run("sync", () => { throw new Error("sync boom"); });
    } catch (err) {
      out.thrownSync = [err.message, store()];
    }
    const bound = als.run("bound", () => AsyncLocalStorage.bind(() => store()));
    const snapshot = als.run("snap", () => AsyncLocalStorage.snapshot());
    out.bind = [bound(), snapshot((x) => store() + x, "!"), store()];
    out.enterWith = await (async () => {
      await tick();
      als.enterWith("entered");
      await tick();
      return store();
    })();
    out.afterEnterWith = store();
    const disabled = new AsyncLocalStorage();
    out.disable = disabled.run("d", () => { disabled.disable(); return disabled.getStore() ?? null; });
    out.timer = await als.run("timer", () => new Promise((resolve) => setTimeout(() => resolve(store()), 2)));
    out.interval = await als.run("interval", () => new Promise((resolve) => {
      let n = 0;
      const id = setInterval(() => { n += 1; if (n === 2) { clearInterval(id); resolve(store()); } }, 1);
    }));
    out.microtask = await als.run("micro", () => new Promise((resolve) => queueMicrotask(() => resolve(store()))));
    out.wait = await als.run("wait", async () => { await scheduler.wait(1); return store(); });
    out.generator = await als.run("g", async () => {
      const seen = [];
      for await (const value of numbers()) seen.push(value, store());
      return seen;
    });
    const resource = als.run("res", () => new AsyncResource("Thing"));
    out.resource = [
      resource.runInAsyncScope(function (a) { return [store(), this.k, a]; }, { k: 1 }, 2),
      resource.bind(() => store())(),
      AsyncResource.bind(() => store())(),
      als.run("static", () => AsyncResource.bind(() => store()))(),
      typeof resource.asyncId(),
      resource.triggerAsyncId(),
      resource.emitDestroy() === resource,
    ];
    const hook = createHook({ init() {} });
    out.hooks = [executionAsyncId(), triggerAsyncId(), hook.enable() === hook, hook.disable() === hook];
    out.defaultImport = hooks.AsyncLocalStorage === AsyncLocalStorage && hooks.AsyncResource === AsyncResource;
    out.instanceOf = [
      Promise.resolve(1) instanceof Promise,
      new Response("x").text() instanceof Promise,
      (async () => {})() instanceof Promise,
    ];
    out.fetchText = await als.run("body", () => new Response("y").text().then(() => store()));
    out.last = store();
    return Response.json(out);
  },
};
"""


async def test_async_local_storage_follows_awaits_timers_and_then(
    api: aiohttp.ClientSession, one_host: ServerProcess
) -> None:
    ref = await deploy(api, SEMANTICS)
    status, out = await get(one_host, ref)
    assert status == 200, out
    assert out.pop("fetchText") is None  # a native promise's own then: see docs
    assert out == {
        "outside": None,
        "awaited": "a",
        "nested": ["inner", "outer"],
        "two": [1, 2],
        "exit": [None, "x"],
        "then": "t!",
        "catchFinally": ["c", "c"],
        "all": ["all", "all"],
        "thrown": ["boom", None],
        "thrownSync": ["sync boom", None],
        "bind": ["bound", "snap!", None],
        "enterWith": "entered",
        "afterEnterWith": None,
        "disable": None,
        "timer": "timer",
        "interval": "interval",
        "microtask": "micro",
        "wait": "wait",
        "generator": ["g0", "g", "g1", "g", "g2", "g"],
        "resource": [["res", 1, 2], "res", None, "static", "number", 0, True],
        "hooks": [0, 0, True, True],
        "defaultImport": True,
        "instanceOf": [True, True, True],
        "last": None,
    }


CONCURRENT = """
import { AsyncLocalStorage } from "node:async_hooks";
const als = new AsyncLocalStorage();
const UPSTREAM = %r;
export default {
  async fetch(request) {
    const id = new URL(request.url).searchParams.get("id");
    const delays = new URL(request.url).searchParams.get("delays").split(",").map(Number);
    return als.run(id, async () => {
      const seen = [];
      for (const [i, ms] of delays.entries()) {
        if (i %% 3 === 0) await new Promise((resolve) => setTimeout(resolve, ms));
        else if (i %% 3 === 1) await fetch(UPSTREAM + "/sleep?ms=" + ms);
        else await fetch(UPSTREAM + "/sleep?ms=" + ms).then((r) => r.text()).then(() => seen.push(als.getStore()));
        seen.push(als.getStore());
      }
      return Response.json({ id, seen });
    });
  },
};
"""


async def test_concurrent_requests_each_see_their_own_store(
    api: aiohttp.ClientSession, one_host: ServerProcess, upstream: str
) -> None:
    ref = await deploy(api, CONCURRENT % upstream, allow_hosts=["127.0.0.1"])
    rng = random.Random(7)

    async def one(i: int) -> tuple[int, Any]:
        delays = ",".join(str(rng.randrange(0, 25)) for _ in range(6))
        return await get(one_host, ref, f"/?id=req{i}&delays={delays}")

    results = await asyncio.gather(*(one(i) for i in range(20)))
    for i, (status, body) in enumerate(results):
        assert status == 200, body
        assert body["id"] == f"req{i}"
        assert body["seen"] == [f"req{i}"] * 8, body


# On the compartment's global, which the instances of a version share: the instance of a
# stopped run is dropped, and the next run's instance must not find the store in its own.
STOPPED = """
import { AsyncLocalStorage } from "node:async_hooks";
const als = (globalThis.sharedStorage ??= new AsyncLocalStorage());
export default {
  async fetch(request) {
    const spin = new URL(request.url).searchParams.get("spin");
    if (spin === "sync") als.run("stuck", () => { for (;;) {} });
    if (spin === "async") await als.run("stuck", async () => { await null; for (;;) {} });
    if (spin === "enter") { await null; als.enterWith("stuck"); for (;;) {} }
    const later = await Promise.resolve().then(() => als.getStore() ?? null);
    const timer = await new Promise((resolve) => setTimeout(() => resolve(als.getStore() ?? null), 1));
    return Response.json([als.getStore() ?? null, later, timer]);
  },
};
"""


async def test_a_run_stopped_inside_run_leaves_no_store_to_the_next(
    api: aiohttp.ClientSession, one_host: ServerProcess
) -> None:
    ref = await deploy(api, STOPPED)
    for spin in ("sync", "async", "enter"):
        status, body = await get(one_host, ref, f"/?spin={spin}")
        assert status != 200, body
        assert "CPU time limit" in str(body), body
        status, body = await get(one_host, ref)
        assert (status, body) == (200, [None, None, None]), spin


ASYNC_CODE = {
    "index.mjs": (
        "// mentions async_hooks in a comment only\n"
        'import { helper } from "./lib.mjs";\n'
        "export default { async fetch() { await null; return new Response(await helper()); } };\n"
    ),
    "lib.mjs": "export async function* gen() { yield 1; }\nexport async function helper() {"
    " for await (const x of gen()) return String(x); }\n",
}


async def test_only_a_function_importing_async_hooks_has_its_awaits_lowered() -> None:
    plain = await build(Upload(dict(ASYNC_CODE), "index.mjs"))
    assert "await null" in plain.script and "__async" not in plain.script
    assert "async function*" in plain.script and "for await" in plain.script
    importing = dict(ASYNC_CODE)
    importing["lib.mjs"] = 'import "async_hooks";\n' + importing["lib.mjs"]
    lowered = await build(Upload(importing, "index.mjs"))
    assert "await null" not in lowered.script and "__async(" in lowered.script
    assert "async function" not in lowered.script and "for await" not in lowered.script
    assert '\n  "node:async_hooks": [function (exports, require, module) {\n' in lowered.script
