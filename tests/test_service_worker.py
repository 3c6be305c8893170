"""Scripts in Workers' service-worker syntax (``addEventListener('fetch', ...)``), through a real
server, its hosts and the functions listener: events, bindings as globals, warm instances, cron,
and plain scripts left as they were."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from tests.server import ServerProcess

Deploy = Callable[..., Awaitable[str]]

NEVER = "0 0 1 1 *"
"""A schedule whose tick never falls within a test."""


def unique(prefix: str) -> str:
    return f"{prefix}-{time.monotonic_ns() % 10**9}"


async def deployed(http: aiohttp.ClientSession, code: str, **extra: object) -> str:
    """Deploy ``code`` as ``worker.js`` under a new name; the name."""
    name = unique("sw")
    body = {"code": code, "filename": "worker.js", "name": name, **extra}
    async with http.post("/deploy", json=body) as response:
        answer = await response.json()
        assert response.status == 200, answer
    return name


async def get(
    http: aiohttp.ClientSession, url: str, **kwargs: Any
) -> tuple[int, str, aiohttp.typedefs.LooseHeaders]:
    async with http.get(url, **kwargs) as response:
        return response.status, await response.text(), response.headers


async def history_entry(http: aiohttp.ClientSession, ref: str, run_id: str) -> dict[str, Any]:
    for _ in range(100):
        async with http.get(f"/functions/{ref}/runs/{run_id}") as response:
            if response.status == 200:
                entry: dict[str, Any] = await response.json()
                return entry
        await asyncio.sleep(0.05)
    raise AssertionError(f"run {run_id} of {ref} never reached the history")


HELLO = """
let served = 0;
console.log('top level');
addEventListener('fetch', (event) => {
  served += 1;
  const url = new URL(event.request.url);
  event.respondWith(new Response(`hello ${url.pathname} ${event.request.method} ${served}`, {
    headers: { 'x-sw': String(event instanceof Object) },
  }));
});
"""


async def test_a_service_worker_answers_on_the_listener_and_stays_warm(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = await deployed(http, HELLO)
    # One kept-alive connection: one host, whose instance serves every request.
    async with aiohttp.ClientSession() as client:
        answers = [await get(client, server.fn_url(name, f"/a/{n}")) for n in range(3)]
    assert [(status, text) for status, text, _ in answers] == [
        (200, "hello /a/0 GET 1"),
        (200, "hello /a/1 GET 2"),
        (200, "hello /a/2 GET 3"),
    ]
    headers = answers[0][2]
    assert headers["x-sw"] == "true"
    entry = await history_entry(http, name, str(headers["x-vortex-run-id"]))
    assert entry["ok"] and entry["trigger"] == "http"
    # The top level ran once: in the warm-up at deploy, or in the first run if that came first.
    assert [line["message"] for line in entry["logs"]] in ([], ["top level"])
    later = await history_entry(http, name, str(answers[1][2]["x-vortex-run-id"]))
    assert later["logs"] == []


async def test_respond_with_a_promise_and_a_post_body(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = await deployed(
        http,
        """
        async function handle(request) {
          await new Promise((resolve) => setTimeout(resolve, 20));
          return Response.json({ method: request.method, body: await request.text() }, { status: 201 });
        }
        addEventListener('fetch', (event) => event.respondWith(handle(event.request)));
        """,
    )
    async with http.post(server.fn_url(name, "/p"), data=b"payload") as response:
        assert response.status == 201
        assert await response.json() == {"method": "POST", "body": "payload"}


async def test_listeners_run_in_order_and_the_first_answer_wins(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = await deployed(
        http,
        """
        addEventListener('fetch', (event) => {
          console.log('first');
          if (new URL(event.request.url).pathname === '/first') event.respondWith(new Response('first'));
        });
        addEventListener('fetch', { handleEvent(event) {
          console.log('second');
          event.respondWith(new Response('second'));
        } });
        const once = () => console.log('once');
        addEventListener('fetch', once, { once: true });
        const removed = () => console.log('removed');
        addEventListener('fetch', removed);
        removeEventListener('fetch', removed);
        """,
    )
    status, text, headers = await get(http, server.fn_url(name, "/other"))
    assert (status, text) == (200, "second")
    entry = await history_entry(http, name, str(headers["x-vortex-run-id"]))
    # respondWith stops the listeners after its own, as the Service Workers standard says.
    assert [line["message"] for line in entry["logs"]] == ["first", "second"]
    status, text, headers = await get(http, server.fn_url(name, "/first"))
    assert (status, text) == (200, "first")
    entry = await history_entry(http, name, str(headers["x-vortex-run-id"]))
    assert [line["message"] for line in entry["logs"]] == ["first"]


async def test_no_listener_answering_is_no_response(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = await deployed(http, "addEventListener('fetch', (event) => { console.log('seen'); });")
    status, text, headers = await get(http, server.fn_url(name, "/"))
    assert status == 500
    assert headers["x-vortex-error"] == "no_response"
    assert "respondWith" in text
    # Only a cron listener: requests are told so.
    name = await deployed(http, "addEventListener('scheduled', () => {});", schedule=NEVER)
    status, text, headers = await get(http, server.fn_url(name, "/"))
    assert status == 500
    assert headers["x-vortex-error"] == "no_event_listener"
    assert "'scheduled' listener only" in text


async def test_a_listener_that_throws_is_a_function_error(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = await deployed(
        http, "addEventListener('fetch', () => { throw new RangeError('broken'); });"
    )
    status, text, headers = await get(http, server.fn_url(name, "/"))
    assert (status, headers["x-vortex-error"]) == (500, "function_error")
    assert "RangeError" in text


async def test_respond_with_twice_or_late_is_an_invalid_state_error(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = await deployed(
        http,
        """
        addEventListener('fetch', (event) => {
          const seen = [];
          event.respondWith((async () => {
            await null;
            try { event.respondWith(new Response('late')); } catch (e) { seen.push('late ' + e.name); }
            return Response.json(seen);
          })());
          try { event.respondWith(new Response('twice')); } catch (e) {
            seen.push('twice ' + e.name + ' ' + (e instanceof DOMException));
          }
        });
        """,
    )
    status, text, _ = await get(http, server.fn_url(name, "/"))
    assert status == 200
    assert text == '["twice InvalidStateError true","late InvalidStateError"]'


async def test_wait_until_work_finishes_after_the_response(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = await deployed(
        http,
        """
        addEventListener('fetch', (event) => {
          event.passThroughOnException();
          event.waitUntil(new Promise((resolve) => setTimeout(resolve, 1500))
            .then(() => KV.put('after', 'done')));
          event.respondWith(new Response('sent'));
        });
        """,
    )
    started = time.monotonic()
    status, text, headers = await get(http, server.fn_url(name, "/"))
    assert (status, text) == (200, "sent")
    assert time.monotonic() - started < 1.0  # not after the 1.5 s of waitUntil work
    entry = await history_entry(http, name, str(headers["x-vortex-run-id"]))
    assert entry["ok"] and entry["execution_time_ms"] >= 1500
    async with http.get(f"/functions/{name}/kv/value", params={"key": "after"}) as response:
        assert (await response.json())["value"] == "done"


async def test_bindings_and_variables_are_globals(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = await deployed(
        http,
        """
        const region = REGION;  // read at the top level, as Workers scripts do
        addEventListener('fetch', (event) => event.respondWith((async () => {
          await KV.put('k', 'v');
          return Response.json({
            region, token: TOKEN, kv: await KV.get('k'), same: KV === Vortex.env.KV,
            // A variable never hides a global of the runtime: it stays Vortex.env's.
            url: typeof URL, shadowed: Vortex.env.URL,
            keys: Object.keys(Vortex.env).sort(),
          });
        })()));
        """,
        env={"REGION": "eu", "URL": "not a class"},
        secrets={"TOKEN": "s3cret"},
    )
    status, text, _ = await get(http, server.fn_url(name, "/"))
    assert status == 200, text
    assert json.loads(text) == {
        "region": "eu",
        "token": "s3cret",
        "kv": "v",
        "same": True,
        "url": "function",
        "shadowed": "not a class",
        "keys": ["REGION", "TOKEN", "URL"],
    }


async def test_the_scheduled_listener_runs_on_a_tick(http: aiohttp.ClientSession) -> None:
    name = await deployed(
        http,
        """
        addEventListener('scheduled', (event) => {
          console.log(`tick ${event.type} [${event.cron}] ${event.scheduledTime}`);
          event.waitUntil(KV.put('last', event.cron));
        });
        addEventListener('fetch', (event) => event.respondWith(new Response('also http')));
        """,
        schedule=NEVER,
    )
    # The very run a tick makes (vortex.scheduled), started on demand.
    async with http.post(
        f"/functions/{name}/scheduled", json={"cron": "*/5 * * * *", "scheduledTime": 1234}
    ) as response:
        body = await response.json()
        assert response.status == 200, body
    assert "error" not in body, body
    assert [line["message"] for line in body["logs"]] == ["tick scheduled [*/5 * * * *] 1234"]
    async with http.get(f"/functions/{name}/kv/value", params={"key": "last"}) as response:
        assert (await response.json())["value"] == "*/5 * * * *"
    # A worker without a scheduled listener says so.
    other = await deployed(
        http, "addEventListener('fetch', (e) => e.respondWith(new Response('x')));"
    )
    async with http.post(f"/functions/{other}/scheduled") as response:
        body = await response.json()
    assert body["error"]["code"] == "no_event_listener"


async def test_execute_answers_with_the_workers_response(http: aiohttp.ClientSession) -> None:
    name = await deployed(
        http,
        "addEventListener('fetch', (e) => e.respondWith(new Response(e.request.method + ' ok')));",
    )
    async with http.post(f"/execute/{name}") as response:
        body = await response.json()
    assert body["output"]["status"] == 200
    assert body["output"]["body"] == "GET ok"


async def test_plain_scripts_still_answer_their_return_value(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    plain = await deployed(http, "Vortex.return({ hello: 'world', sw: typeof addEventListener });")
    status, text, _ = await get(http, server.fn_url(plain, "/"))
    assert (status, text) == (200, '{"hello":"world","sw":"undefined"}')
    async with http.post(f"/execute/{plain}") as response:
        assert (await response.json())["output"] == {"hello": "world", "sw": "undefined"}
    # Naming the call is not enough: a script that returns a value is a script.
    mention = await deployed(
        http,
        "const doc = \"addEventListener('fetch', ...)\";\n"
        "if (false) addEventListener('fetch', () => {});\n"
        "Vortex.return({ doc, sw: typeof addEventListener });",
    )
    status, text, _ = await get(http, server.fn_url(mention, "/"))
    assert status == 200
    assert text == '{"doc":"addEventListener(\'fetch\', ...)","sw":"function"}'
    async with http.post(f"/execute/{mention}") as response:
        assert (await response.json())["output"]["sw"] == "function"
    # Plain scripts have no scheduled handler to run on demand.
    async with http.post(f"/functions/{plain}/scheduled") as response:
        assert (await response.json())["error"]["code"] == "not_a_module"


async def test_the_global_of_a_service_worker(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    name = await deployed(
        http,
        """
        const own = Reflect.ownKeys(globalThis).map(String);
        addEventListener('fetch', (event) => event.respondWith(Response.json({
          own: own.filter((n) => ['addEventListener', 'removeEventListener', 'GREETING'].includes(n)),
          frozen: [addEventListener, removeEventListener, event, event.respondWith].every(Object.isFrozen),
          fetch: typeof fetch, crypto: typeof crypto.getRandomValues, now: typeof performance.now(),
        })));
        """,
        env={"GREETING": "hi"},
    )
    async with aiohttp.ClientSession() as client:
        for _ in range(2):  # the second run is served by the kept instance
            status, text, _ = await get(client, server.fn_url(name, "/"))
            assert status == 200, text
            assert json.loads(text) == {
                "own": ["addEventListener", "removeEventListener", "GREETING"],
                "frozen": True,
                "fetch": "function",
                "crypto": "function",
                "now": "number",
            }


async def test_the_api_shows_a_service_worker_as_one(http: aiohttp.ClientSession) -> None:
    worker = await deployed(http, HELLO)
    plain = await deployed(http, "Vortex.return(1);")
    for name, kind in ((worker, "service-worker"), (plain, "script")):
        async with http.get(f"/functions/{name}") as response:
            assert (await response.json())["kind"] == kind, name
        async with http.get("/functions", params={"prefix": name}) as response:
            listed = (await response.json())["functions"]
        assert {f["name"]: f["kind"] for f in listed}[name] == kind


SLOW_TOP_LEVEL = """
const started = Date.now();
while (Date.now() - started < 300) {}  // top-level work, as a big app's setup is
console.log('top level ran');
addEventListener('fetch', (event) => event.respondWith(new Response('warm')));
"""


async def test_a_deploy_makes_the_service_workers_instance(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    # As a module's (test_listener.py): the first request finds an instance made at deploy,
    # whose top level's log line was the warm-up's, dropped.
    name = await deployed(http, SLOW_TOP_LEVEL)
    await asyncio.sleep(1.5)  # the warm-up's 300 ms, on each host, on a busy machine
    status, text, headers = await get(http, server.fn_url(name, "/"))
    assert (status, text) == (200, "warm")
    entry = await history_entry(http, name, str(headers["x-vortex-run-id"]))
    assert entry["logs"] == [], entry
    assert float(entry["execution_time_ms"]) < 150, entry


async def test_a_warm_up_that_is_no_worker_keeps_nothing_and_runs_nothing_twice(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    # A script that names the call but returns a value is run at deploy too, silently: its
    # binding calls are dropped, nothing is kept, and its runs are a script's.
    name = await deployed(
        http,
        "if (false) addEventListener('fetch', () => {});\n"
        "const seen = await Vortex.kv.get('warmed');\n"
        "await Vortex.kv.put('warmed', 'yes');\n"
        "Vortex.return({ seen });",
    )
    await asyncio.sleep(0.5)
    async with http.get(f"/functions/{name}/kv/value", params={"key": "warmed"}) as response:
        assert response.status == 404, await response.text()
    status, text, _ = await get(http, server.fn_url(name, "/"))
    assert (status, json.loads(text)) == (200, {"seen": None})


async def test_a_rejected_answer_is_the_failure_at_once_and_wait_until_goes_on(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    """As a module's throwing handler (and workerd): on the listener and through /execute, the
    failure is answered without waiting for the event's waitUntil work, which still runs."""
    name = await deployed(
        http,
        """
        addEventListener('fetch', (event) => {
          event.waitUntil(new Promise((resolve) => setTimeout(() => { console.log('late work done'); resolve(); }, 1500)));
          event.respondWith(Promise.reject(new Error('no answer')));
        });
        """,
    )
    started = time.monotonic()
    async with http.get(server.fn_url(name, "/"), headers={"X-Vortex-Run-Id": "sw-early"}) as r:
        assert r.status == 500
        assert (await r.json())["error"]["message"] == "no answer"
    async with http.post(f"/execute/{name}") as response:
        body = await response.json()
    assert time.monotonic() - started < 1.2, body
    assert (body["error"]["message"], body["running"]) == ("no answer", True)
    for run_id in ("sw-early", body["run_id"]):
        entry = await history_entry(http, name, run_id)
        assert [line["message"] for line in entry["logs"]] == ["late work done"]
        assert entry["error"]["code"] == "function_error"


TOP_LEVEL_STATE = """
let state = 'pending';
const ready = (async () => { await null; await null; await null; state = 'ready'; return state; })();
addEventListener('fetch', (event) => {
  const seen = state;
  const path = new URL(event.request.url).pathname;
  if (path === '/busy') {
    event.respondWith(new Promise((resolve) => setTimeout(() => resolve(new Response(seen)), 300)));
  } else if (path === '/await') {
    event.respondWith(ready.then((text) => new Response(text)));
  } else {
    event.respondWith(new Response(seen));
  }
});
"""


async def test_a_new_instance_runs_its_top_levels_promise_jobs_before_its_first_event(
    server_factory: Callable[..., Any],
) -> None:
    """As a module's (test_modules.py): concurrent requests each get an instance, most of them
    made in their own runs, and the listener sees the chain the top level started done, as
    after workerd's microtask checkpoint; it saw "pending"."""
    proc = server_factory(workers=1)
    async with aiohttp.ClientSession(base_url=proc.url) as http:
        name = await deployed(http, TOP_LEVEL_STATE)
        timeout = aiohttp.ClientTimeout(total=5)

        async def text(path: str) -> str:
            async with http.get(proc.fn_url(name, path), timeout=timeout) as response:
                assert response.status == 200
                return await response.text()

        assert await asyncio.gather(*(text("/busy") for _ in range(6))) == ["ready"] * 6
        assert [await text("/await") for _ in range(6)] == ["ready"] * 6
