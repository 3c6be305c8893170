"""The global surface a Worker sees, kept in step with workerd's: the names along globalThis's
prototype chain and their typeof, against the list measured on workerd (tests/fixtures/
workerd_globals.json, written by ``bench/globals.py --write``, which says the version and the
compatibility date), less the differences docs/http-functions.md explains; and the members that
closed gaps the measure found."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp

from tests.jsrun import Run, js
from tests.server import ServerProcess

WORKERD = json.loads((Path(__file__).parent / "fixtures" / "workerd_globals.json").read_text())

# Globals of workerd a Worker on Vortex does not have, each for the reason given; the same list
# is in docs/http-functions.md ("Globals beside workerd's").
ABSENT = {
    # SES: shared memory is a timing channel between runs of a host; WeakRef and
    # FinalizationRegistry would let a run observe the host's garbage collection.
    "SharedArrayBuffer": "ses",
    "Atomics": "ses",
    "WeakRef": "ses",
    "FinalizationRegistry": "ses",
    # nodejs_compat's globals, on at this compatibility date: Vortex gives Buffer and process
    # to a bundle whose wrangler configuration asks for them (docs/cli.md), and has no
    # node:timers.
    "Buffer": "nodejs_compat",
    "process": "nodejs_compat",
    "global": "nodejs_compat",
    "setImmediate": "nodejs_compat",
    "clearImmediate": "nodejs_compat",
    # workerd's classes of its own global and of the events it dispatches: a run's global is
    # an SES compartment's, and Vortex hands handlers plain arguments.
    "ServiceWorkerGlobalScope": "global scope",
    "WorkerGlobalScope": "global scope",
    "addEventListener": "global scope",
    "removeEventListener": "global scope",
    "dispatchEvent": "global scope",
    "ExtendableEvent": "global scope",
    "FetchEvent": "global scope",
    "ScheduledEvent": "global scope",
    "TailEvent": "global scope",
    "TraceEvent": "global scope",
    # Request and Response keep their body methods on their own prototypes, as the Fetch
    # Standard's mixin reads; workerd's shared base class has no standard name.
    "Body": "body mixin",
    # Compatibility flags: Vortex has one behaviour, not a flag per change.
    "Cloudflare": "flags",
    # Durable Objects' hibernation; Vortex has no Durable Objects.
    "WebSocketRequestResponsePair": "durable objects",
    # Nothing in a Worker is observed or loaded as a resource.
    "PerformanceObserver": "observer",
    "PerformanceObserverEntryList": "observer",
    "PerformanceResourceTiming": "observer",
}
# Globals a Worker on Vortex has that workerd's has not.
EXTRA = {
    "Vortex": "Vortex.return and Vortex.env, for scripts run through /execute",
    "Compartment": "ses",
    "harden": "ses",
    "lockdown": "ses",
}

LIST_GLOBALS = """
export default {
  fetch() {
    const names = new Set();
    for (let o = globalThis; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
      for (const name of Object.getOwnPropertyNames(o)) names.add(name);
    }
    names.delete('constructor');
    return Response.json(Object.fromEntries([...names].map((n) => [n, typeof globalThis[n]])));
  },
};
"""


async def _globals_of_a_module(server: ServerProcess, http: aiohttp.ClientSession) -> Any:
    payload = {"code": LIST_GLOBALS, "filename": "index.mjs"}
    async with http.post("/deploy", json=payload) as response:
        body = await response.json()
        assert response.status == 200, body
    async with http.get(server.fn_url(body["function_id"], "/")) as response:
        assert response.status == 200
        return await response.json()


async def test_the_globals_are_workerds_but_for_the_documented_differences(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    ours: dict[str, str] = await _globals_of_a_module(server, http)
    theirs: dict[str, str] = WORKERD["globals"]
    assert set(theirs) - set(ours) == set(ABSENT), "missing: update ABSENT and the docs"
    assert set(ours) - set(theirs) == set(EXTRA), "new: update EXTRA and the docs"
    differ = {name: (theirs[name], ours[name]) for name in set(theirs) & set(ours)}
    assert {name: kinds for name, kinds in differ.items() if kinds[0] != kinds[1]} == {}


async def test_global_functions_have_their_names_and_are_no_constructors(run: Run) -> None:
    """esbuild had renamed some (`atob3`, `structuredClone2`; the timers' clear was `clear`),
    and `new atob()` made an object, where workerd's throw as a browser's do."""
    out = await js(
        run,
        """
        const names = ['atob', 'btoa', 'structuredClone', 'reportError', 'queueMicrotask',
          'setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'fetch'];
        const fails = (f) => { try { f(); return 'made'; } catch (e) { return e.name; } };
        Vortex.return({
          names: names.filter((n) => globalThis[n].name !== n),
          lengths: [atob.length, btoa.length, structuredClone.length, reportError.length],
          constructible: names.filter((n) => fails(() => new globalThis[n]()) === 'made' || 'prototype' in globalThis[n]),
          work: [atob(btoa('hi')), structuredClone({ a: [1] }).a[0], fails(() => atob('*'))],
        });
        """,
    )
    assert out == {
        "names": [],
        "lengths": [1, 1, 1, 1],
        "constructible": [],
        "work": ["hi", 1, "InvalidCharacterError"],
    }


async def test_headers_get_all_reads_set_cookie_only(run: Run) -> None:
    """workerd's Headers.getAll, older than getSetCookie and still used by Workers code to read
    cookies that a comma would join."""
    out = await js(
        run,
        """
        const h = new Headers([['Set-Cookie', 'a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT'], ['set-cookie', 'b=2'], ['x', '1']]);
        let refused;
        try { h.getAll('x'); } catch (e) { refused = [e.name, e.message]; }
        Vortex.return([h.getAll('set-cookie'), h.getAll('SET-COOKIE').length, new Headers().getAll('Set-Cookie'), refused]);
        """,
    )
    assert out == [
        ["a=1; Expires=Wed, 21 Oct 2015 07:28:00 GMT", "b=2"],
        2,
        [],
        ["TypeError", 'getAll() can only be used with the header name "Set-Cookie".'],
    ]


async def test_origin_and_navigator_platform_answer_as_workerds(run: Run) -> None:
    out = await js(run, "Vortex.return([origin, typeof origin, self.origin, navigator.platform]);")
    assert out == ["null", "string", "null", ""]
