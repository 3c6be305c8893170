"""A hostile tenant in Workers' service-worker syntax (js/src/harness/serviceworker.js,
vortex/serviceworker.py): listeners that add listeners, answers that never come, a script that
registers and returns, globals named like the runtime's, and pollution of whatever a warm
instance can reach, looked for by a later run and by another tenant's function on the same
host."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from tests.hardening.attacks import assert_host_kept, restarts
from tests.hardening.conftest import Api, api_for
from tests.server import ServerProcess


@pytest.fixture(scope="module")
def sw_server(module_servers: Callable[..., ServerProcess]) -> ServerProcess:
    # One host: every function below runs in the same process, on the same engine.
    return module_servers(workers=1)


@pytest.fixture
def api(client: aiohttp.ClientSession, sw_server: ServerProcess) -> Api:
    return api_for(client, sw_server)


async def _get(api: Api, function_id: str) -> tuple[int, Any]:
    async with api.http.get(api.server.fn_url(function_id)) as response:
        if response.content_type == "application/json":
            return response.status, await response.json()
        return response.status, await response.text()


async def test_listeners_that_add_listeners(api: Api) -> None:
    # Each request adds a listener (and one that adds more): they pile up in the instance,
    # which is the function's own; the first listener still answers every request.
    before = await restarts(api)
    function_id = await api.deploy(
        """
        let served = 0;
        addEventListener('fetch', (event) => {
          served++;
          addEventListener('fetch', () => { addEventListener('fetch', () => {}); });
          addEventListener('scheduled', () => {});
          removeEventListener('fetch', () => {});
          event.respondWith(new Response(String(served)));
        });
        """,
        filename="adds.js",
    )
    answers = [await _get(api, function_id) for _ in range(30)]
    assert all(status == 200 for status, _ in answers), answers
    assert answers[-1][1] != "", answers
    await assert_host_kept(api, before)


async def test_a_promise_that_never_settles_ends_at_the_wall(api: Api) -> None:
    before = await restarts(api)
    function_id = await api.deploy(
        "addEventListener('fetch', (event) => event.respondWith(new Promise(() => {})));",
        filename="never.js",
    )
    status, body = await _get(api, function_id)
    assert status >= 500, body
    assert body["error"]["code"] == "wall_time_exceeded", body
    # The instance of a failed run is not kept: the next request starts afresh and fails alike.
    status, body = await _get(api, function_id)
    assert body["error"]["code"] == "wall_time_exceeded", body
    await assert_host_kept(api, before)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # Registers, then returns: a script after all, its output through /execute.
        (
            "addEventListener('fetch', (e) => e.respondWith(new Response('sw')));"
            "Vortex.return('returned');",
            ("returned", None),
        ),
        # respondWith twice, and after the listener returned.
        (
            "addEventListener('fetch', (e) => { e.respondWith(new Response('a'));"
            "try { e.respondWith(new Response('b')); } catch (x) { console.log(x.name); } });",
            (None, None),
        ),
        # respondWith of something that is no Response.
        (
            "addEventListener('fetch', (e) => e.respondWith({ status: 200, body: 'fake' }));",
            (None, "invalid_response"),
        ),
        # A listener that throws after answering: the answer goes out, the run fails.
        (
            "addEventListener('fetch', (e) => { e.respondWith(new Response('x')); throw new Error('late'); });",
            (None, "function_error"),
        ),
        # Registering from a listener of another type, or a handleEvent object that lies.
        (
            "addEventListener('fetch', { get handleEvent() { throw new Error('getter'); } });",
            (None, "function_error"),
        ),
    ],
)
async def test_odd_registrations_end_with_a_clear_code(
    api: Api, code: str, expected: tuple[str | None, str | None]
) -> None:
    before = await restarts(api)
    function_id = await api.deploy(code, filename="odd.js")
    result = await api.execute(function_id)
    output, error = expected
    assert result.code == error, result.body
    if output is not None:
        assert result.body["output"] == output, result.body
    await assert_host_kept(api, before)


async def test_globals_named_like_the_runtimes(api: Api) -> None:
    # Bindings named like runtime globals never hide them; a script that shadows or deletes
    # its own globals changes only its own compartment.
    before = await restarts(api)
    names = ["Response", "fetch", "console", "addEventListener", "Vortex", "globalThis"]
    function_id = await api.deploy(
        "const names = " + json.dumps(names) + ";"
        """
        const kinds = {};
        for (const name of names) kinds[name] = typeof globalThis[name];
        delete globalThis.Request;
        globalThis.Headers = function Headers() { return 'mine'; };
        addEventListener('fetch', (event) => {
          event.respondWith(Response.json({ kinds, env: Vortex.env.Response, headers: Headers() }));
        });
        """,
        filename="names.js",
        env={name: f"value of {name}" for name in names},
    )
    status, body = await _get(api, function_id)
    assert status == 200, body
    assert body["kinds"] == {
        "Response": "function",
        "fetch": "function",
        "console": "object",
        "addEventListener": "function",
        "Vortex": "object",
        "globalThis": "object",
    }
    assert body["env"] == "value of Response"
    assert body["headers"] == "mine"
    # Another function on the same host has its own Request and Headers.
    other = await api.run("Vortex.return([typeof Request, new Headers({ a: '1' }).get('a')]);")
    assert other.body["output"] == ["function", "1"], other.body
    await assert_host_kept(api, before)


POLLUTE = """
// Every global's value, its prototype and the prototype's constructor, and what the event and
// the request hand out: try to write a marker on each, and on the objects they return.
const marked = [];
const mark = (where, target) => {
  if (target === null || (typeof target !== 'object' && typeof target !== 'function')) return;
  if (target === globalThis) return;  // its own global, as self: breaking it is self-harm
  for (const attempt of [
    () => { target.__polluted = 'yes'; },
    () => Object.defineProperty(target, '__polluted', { value: 'yes', configurable: true }),
    () => Reflect.set(target, 'toString', () => 'polluted'),
    () => Object.setPrototypeOf(target, { __polluted: 'yes' }),
  ]) {
    try { attempt(); } catch (e) {}
  }
  try { if (target.__polluted === 'yes') marked.push(where); } catch (e) {}
};
addEventListener('fetch', (event) => {
  for (const name of Reflect.ownKeys(globalThis)) {
    if (typeof name !== 'string' || name === 'globalThis') continue;
    let value;
    try { value = globalThis[name]; } catch (e) { continue; }
    mark(name, value);
    try { mark(name + '.prototype', value.prototype); } catch (e) {}
    try { mark(name + '.__proto__', Object.getPrototypeOf(value)); } catch (e) {}
    if (value && typeof value === 'object') {
      for (const key of Reflect.ownKeys(value)) {
        try { mark(name + '.' + String(key), value[key]); } catch (e) {}
      }
    }
  }
  mark('event', event);
  mark('event.respondWith', event.respondWith);
  mark('request.headers', event.request.headers);
  mark('request-prototype', Object.getPrototypeOf(event.request));
  // request.headers is the run's own, and its prototype its own once set: never Headers'.
  mark('request.headers-prototype', Object.getPrototypeOf(event.request.headers));
  globalThis.__polluted = 'yes';
  event.respondWith(Response.json(marked));
});
"""

PROBE = """
const seen = [];
const look = (where, target) => {
  try { if (target !== null && target !== undefined && target.__polluted === 'yes') seen.push(where); } catch (e) {}
  try { if (String(target.toString) .includes('polluted')) seen.push(where + '.toString'); } catch (e) {}
};
for (const name of Reflect.ownKeys(globalThis)) {
  if (typeof name !== 'string') continue;
  let value;
  try { value = globalThis[name]; } catch (e) { continue; }
  look(name, value);
  try { look(name + '.prototype', value.prototype); } catch (e) {}
  if (value && typeof value === 'object') {
    for (const key of Reflect.ownKeys(value)) { try { look(name + '.' + String(key), value[key]); } catch (e) {} }
  }
}
look('({})', {});
look('[]', []);
look('new Response()', new Response('x'));
look('new Headers()', new Headers());
"""


async def test_pollution_of_a_warm_instance_reaches_no_other_run(api: Api) -> None:
    before = await restarts(api)
    polluter = await api.deploy(POLLUTE, filename="pollute.js")
    status, marked = await _get(api, polluter)
    assert status == 200, marked
    # What it could write on is its own: its compartment's objects, never a shared one.
    shared = {"Object", "Array", "Function", "Response", "Request", "Headers", "Promise", "JSON"}
    assert not shared & {where.split(".")[0] for where in marked if "." in where}, marked
    # Another tenant's module on the same host, and a script: nothing of it.
    victim = await api.deploy(
        "export default { fetch() {" + PROBE + "return Response.json(seen); } };",
        filename="victim.mjs",
    )
    assert await _get(api, victim) == (200, [])
    script = await api.run(PROBE + "Vortex.return(seen);")
    assert script.body["output"] == [], script.body
    # A later run of the polluter itself sees its own instance's global, as a module's would.
    status, again = await _get(api, polluter)
    assert status == 200
    assert not shared & {where.split(".")[0] for where in again if "." in where}, again
    await assert_host_kept(api, before)
