"""The platform's functions print as the engine's own, ``function fetch() { [native code] }``,
as on workerd: libraries test for it (``@sentry/core``'s ``isNativeFunction``, lodash's
``isNative``), and the runtime's source is not shown. A function's own code prints as
written."""

from __future__ import annotations

import aiohttp

from tests.jsrun import Run, js
from tests.server import ServerProcess

# Sentry's test (@sentry/core, isNativeFunction), as user code would run it.
CHECKS = r"""
const isNative = (f) =>
  /^function\s+\w*\(\)\s+\{\s+\[native code\]\s+\}$/.test(Function.prototype.toString.call(f));
const platform = {
  fetch, Response, Request, Headers, URL, atob, setTimeout, queueMicrotask, structuredClone,
  log: console.log, text: new Response('x').text, read: new ReadableStream().getReader().read,
  digest: crypto.subtle.digest, getRandomValues: crypto.getRandomValues, now: performance.now,
  body: Object.getOwnPropertyDescriptor(Object.getPrototypeOf(new Response('x')), 'body')?.get,
};
function mine(a) { return a + 1; }
class Mine { m() {} }
const seen = {
  notNative: Object.keys(platform).filter((name) => !isNative(platform[name])),
  fetch: String(fetch),
  mine: String(mine),
  Mine: String(Mine),
  arrow: String(() => 1),
  mineNative: isNative(mine),
};
"""


def _expected(seen: dict[str, object]) -> None:
    assert seen["notNative"] == []
    assert seen["fetch"] == "function fetch() {\n    [native code]\n}"
    assert seen["mine"] == "function mine(a) {\n  return a + 1;\n}" or "a + 1" in str(seen["mine"])
    assert str(seen["Mine"]).startswith("class Mine {")
    assert seen["arrow"] == "() => 1"
    assert seen["mineNative"] is False


async def test_a_scripts_platform_functions_are_native_code(run: Run) -> None:
    _expected(await js(run, CHECKS + "Vortex.return(seen);"))


async def test_a_modules_platform_functions_are_native_code(
    server: ServerProcess, http: aiohttp.ClientSession
) -> None:
    code = CHECKS + "export default { fetch(request, env, ctx) {\n"
    code += "  return Response.json({ ...seen, waitUntil: String(ctx.waitUntil) }); } };\n"
    async with http.post("/deploy", json={"code": code, "filename": "index.mjs"}) as response:
        assert response.status == 200, await response.text()
        function_id = (await response.json())["function_id"]
    async with aiohttp.ClientSession() as client, client.get(server.fn_url(function_id)) as got:
        seen = await got.json()
    _expected(seen)
    assert seen["waitUntil"] == "function waitUntil() {\n    [native code]\n}"
