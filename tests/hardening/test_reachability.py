"""Nothing of the host is reachable from user code, by any path the graph offers.

Deeper than tests/test_isolation.py: the walk here follows every own property, accessor and
prototype, calls every getter on its holder, calls every function (with no arguments and with
``'return this'``) and constructs it, then walks what all of that returned (two generations of
calls deep), looking for anything of Python (proxied objects, their dunders, Python errors), the
real global of the host (``python``, ``pmEval``, ...) or a Node-like API to the filesystem, the
environment or the network.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest

from tests.hardening.conftest import Api, api_for
from tests.server import ServerProcess

WALK = r"""
const ours = globalThis;
const SKIP = new Set([Vortex.return]);
// Names that only the host's own global, Python objects or Node-like runtimes carry.
const MARKERS = ['python', 'pmEval', 'debuggerGlobal', 'XMLHttpRequest', 'require', 'process',
  'getenv', 'environ', 'Deno', 'Bun', 'internalBinding', 'importScripts', '__class__', '__dict__',
  '__globals__', '__builtins__', '__init__', '__module__', '__code__', '__loader__', '__spec__'];
const PYTHON_TEXT = /Traceback \(most recent|Python [A-Za-z]*(Error|Exception)|File "\//;
const seen = new Set();
const queue = [[globalThis, 'globalThis', 0]];
const found = [];
const files = new Set();
let current = 0;
let calls = 0, constructed = 0, getters = 0, errors = 0, globals = 0;
const hasOwn = (o, k) => { try { return Object.prototype.hasOwnProperty.call(o, k); } catch (e) { return false; } };

function visit(value, path, gen = current) {
  if (typeof value === 'string') {
    if (PYTHON_TEXT.test(value)) found.push(path + ' holds Python text: ' + value.slice(0, 200));
    return;
  }
  if ((typeof value === 'object' && value !== null) || typeof value === 'function') {
    queue.push([value, path, gen]);
  }
}
function caught(error, path) {
  errors += 1;
  let text = '';
  try { text = String(error && error.message) + '\n' + String(error && error.stack); } catch (e) { text = ''; }
  if (PYTHON_TEXT.test(text)) found.push(path + ' threw Python text: ' + text.slice(0, 300));
  for (const line of text.split('\n')) {
    const at = /@(.*?):\d+:\d+$/.exec(line);
    if (at) files.add(at[1]);
  }
  visit(error, path + ' (thrown)');
}
function call(fn, self, args, path) {
  calls += 1;
  try { visit(Reflect.apply(fn, self, args), path + '()', current + 1); } catch (e) { caught(e, path + '()'); }
}

while (queue.length) {
  const [obj, path, gen] = queue.shift();
  current = gen;
  if (seen.has(obj)) continue;
  seen.add(obj);
  if (obj !== ours && hasOwn(obj, 'globalThis')) globals += 1;
  for (const marker of MARKERS) if (hasOwn(obj, marker)) found.push(path + ' has ' + marker);
  let keys;
  try { keys = Reflect.ownKeys(obj); } catch (e) { caught(e, path + ' (keys)'); continue; }
  for (const key of keys) {
    let desc;
    try { desc = Reflect.getOwnPropertyDescriptor(obj, key); } catch (e) { caught(e, path); continue; }
    if (!desc) continue;
    const where = path + '.' + String(key);
    if ('value' in desc) visit(desc.value, where);
    if (desc.get) {
      visit(desc.get, where + ' (getter)');
      getters += 1;
      try { visit(Reflect.apply(desc.get, obj, []), where, current + 1); } catch (e) { caught(e, where); }
    }
    if (desc.set) visit(desc.set, where + ' (setter)');
  }
  try { visit(Object.getPrototypeOf(obj), path + '.__proto__'); } catch (e) { caught(e, path); }
  if (typeof obj === 'function' && !SKIP.has(obj) && gen < 2) {
    call(obj, undefined, [], path);
    call(obj, undefined, ['return this'], path);
    constructed += 1;
    try {
      const instance = Reflect.construct(obj, []);
      visit(instance, 'new ' + path, current + 1);
      const proto = obj.prototype;
      if (proto && typeof proto === 'object') {
        for (const key of Reflect.ownKeys(proto)) {
          const desc = Reflect.getOwnPropertyDescriptor(proto, key);
          if (desc && desc.get) {
            getters += 1;
            try { visit(Reflect.apply(desc.get, instance, []), 'new ' + path + '.' + String(key), current + 1); }
            catch (e) { caught(e, path); }
          }
        }
      }
    } catch (e) { caught(e, 'new ' + path); }
  }
}
Vortex.return({ found, files: [...files].sort(), reached: seen.size, calls, constructed, getters, errors, globals });
"""

# Every name a run's global may hold: the ECMAScript built-ins, what SES adds to every
# compartment, what Vortex grants, and the web APIs of HTTP functions (issue 5). A new global
# is a new surface: add it here only after reviewing what it reaches.
ECMASCRIPT = {
    "AggregateError", "Array", "ArrayBuffer", "Atomics", "BigInt", "BigInt64Array",
    "BigUint64Array", "Boolean", "DataView", "Date", "Error", "EvalError", "FinalizationRegistry",
    "Float16Array", "Float32Array", "Float64Array", "Function", "Infinity", "Int16Array",
    "Int32Array", "Int8Array", "Intl", "Iterator", "JSON", "Map", "Math", "NaN", "Number",
    "Object", "Promise", "Proxy", "RangeError", "ReferenceError", "Reflect", "RegExp", "Set",
    "SharedArrayBuffer", "String", "Symbol", "Symbol(Symbol.unscopables)", "SyntaxError",
    "TypeError", "URIError", "Uint16Array", "Uint32Array", "Uint8Array", "Uint8ClampedArray",
    "WeakMap", "WeakRef", "WeakSet", "decodeURI", "decodeURIComponent", "encodeURI",
    "encodeURIComponent", "escape", "eval", "globalThis", "isFinite", "isNaN", "parseFloat",
    "parseInt", "undefined", "unescape",
}  # fmt: skip
SES = {"Compartment", "harden", "lockdown"}
VORTEX = {
    "console", "setTimeout", "setInterval", "clearTimeout", "clearInterval", "scheduler", "Vortex",
}  # fmt: skip
WEB_APIS = {
    "AbortController", "AbortSignal", "ByteLengthQueuingStrategy", "Cache", "CacheStorage",
    "CompressionStream", "CountQueuingStrategy", "Crypto", "CryptoKey", "CustomEvent",
    "DOMException", "DecompressionStream", "ErrorEvent", "Event", "EventTarget",
    "FixedLengthStream", "HTMLRewriter", "Headers", "IdentityTransformStream", "MessageChannel",
    "MessageEvent", "MessagePort", "Navigator", "PromiseRejectionEvent",
    "ReadableByteStreamController", "ReadableStream", "ReadableStreamBYOBReader",
    "ReadableStreamBYOBRequest", "ReadableStreamDefaultController", "ReadableStreamDefaultReader",
    "Request", "Response", "SubtleCrypto", "TextDecoder", "TextDecoderStream", "TextEncoder",
    "TextEncoderStream", "TransformStream", "TransformStreamDefaultController", "URL",
    "URLPattern", "URLSearchParams", "WritableStream", "WritableStreamDefaultController",
    "WritableStreamDefaultWriter", "atob", "btoa", "caches", "crypto", "fetch", "navigator",
    "performance", "queueMicrotask", "reportError", "self", "structuredClone",
    # Reviewed with WebSockets (js/src/websocket.js): an end reaches only its peer and the
    # harness's wire of strings to the host; the constructor of WebSocket refuses every call.
    "WebSocketPair", "WebSocket", "CloseEvent",
    # Reviewed with EventSource (js/src/eventsource.js): it reaches the network only through the
    # run's own fetch (or a fetcher the function gives it), and its parser is private state.
    "EventSource",
    # ECMAScript's explicit resource management, which this SpiderMonkey lacks
    # (js/src/disposables.js): plain classes whose only state is private to each instance.
    "DisposableStack", "AsyncDisposableStack", "SuppressedError",
    # Shared since the web APIs came, and missed while only the global's own names were
    # listed: bodies of bytes (js/src/blob.js, formdata.js) and SpiderMonkey's WebAssembly in a
    # namespace of ours (js/src/wasm.js, tests/test_wasm.py).
    "Blob", "File", "FormData", "WebAssembly",
    # Reviewed with User Timing (js/src/performance.js): entries hold plain values; a run's
    # Performance reaches its clock and entries only through functions the harness made for
    # that run, in a private field. `origin` is the string "null".
    "Performance", "PerformanceEntry", "PerformanceMark", "PerformanceMeasure", "origin",
}  # fmt: skip
REVIEWED_GLOBALS = ECMASCRIPT | SES | VORTEX | WEB_APIS
SERVICE_WORKER = {"addEventListener", "removeEventListener"}
"""What a script in service-worker syntax has besides (vortex/serviceworker.py), with its bindings
and variables as globals; its fetch, crypto, performance and queueMicrotask are its own."""

WALK_ENV = {
    "VORTEX_CPU_LIMIT_MS": "15000",
    "VORTEX_WALL_LIMIT_MS": "30000",
    "VORTEX_MAX_LOG_LINES": "100000",
    "VORTEX_MAX_LOG_BYTES": "10485760",
    "VORTEX_MAX_OUTPUT_BYTES": "4194304",
}


@pytest.fixture(scope="module")
def walk_server(module_servers: Callable[..., ServerProcess]) -> ServerProcess:
    return module_servers(WALK_ENV, workers=1)


@pytest.fixture
def api(client: aiohttp.ClientSession, walk_server: ServerProcess) -> Api:
    return api_for(client, walk_server)


@pytest.fixture(scope="module")
def walked() -> dict[str, Any]:
    return {}


async def walk(api: Api, walked: dict[str, Any]) -> dict[str, Any]:
    """The walk's result, computed once per module."""
    if not walked:
        result = await api.run(WALK, within=60)
        assert result.code is None, result.body
        walked.update(result.body["output"])
        print(
            f"\nwalk: {walked['reached']} objects reached, {walked['calls']} calls, "
            f"{walked['constructed']} constructions, {walked['getters']} getters, "
            f"{walked['errors']} errors caught, {walked['globals']} other globals, "
            f"in {result.elapsed:.2f} s"
        )
    return walked


async def test_no_path_reaches_python_or_the_host_global(api: Api, walked: dict[str, Any]) -> None:
    result = await walk(api, walked)
    assert result["found"] == []
    assert result["reached"] > 2000
    assert result["calls"] > 1000
    assert result["getters"] > 100
    # Compartments a function makes for itself are globals too; none of them is the host's.
    assert result["globals"] >= 1
    await api.assert_serves_normally()


async def test_errors_name_no_file_of_the_host(api: Api, walked: dict[str, Any]) -> None:
    # pythonmonkey's core-js lives in site-packages: its frames are dropped from stacks and
    # Function.prototype.toString checks its receiver before core-js does (js/src/harness/boot.js).
    result = await walk(api, walked)
    host_paths = [name for name in result["files"] if name.startswith("/")]
    assert host_paths == []


# The names along the global's prototype chain: its own, and the shared global's it inherits.
GLOBAL_NAMES = """
const names = [];
for (let o = globalThis; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
  names.push(...Reflect.ownKeys(o).map(String));
}
Vortex.return(names);
"""


async def test_the_global_holds_only_reviewed_names(api: Api) -> None:
    result = await api.run(GLOBAL_NAMES)
    names = set(result.body["output"])
    assert names - REVIEWED_GLOBALS == set()
    assert names >= VORTEX


async def test_a_service_workers_global_holds_only_reviewed_names(api: Api) -> None:
    function_id = await api.deploy(
        "addEventListener('fetch', (e) => e.respondWith(Response.json(Reflect.ownKeys(globalThis).map(String))));",
        env={"GREETING": "hi"},
    )
    result = await api.execute(function_id)
    names = set(json.loads(result.body["output"]["body"]))
    assert names - REVIEWED_GLOBALS - SERVICE_WORKER == {"GREETING", "KV"}
    assert names >= VORTEX | SERVICE_WORKER


async def test_no_path_reaches_python_from_a_service_workers_global(api: Api) -> None:
    # The walk from the global of a script in service-worker syntax, whose endowments outlive
    # its run (its listener is registered, then Vortex.return ends it as a script).
    result = await api.run("addEventListener('fetch', () => {});\n" + WALK, within=60)
    assert result.code is None, result.body
    assert result.body["output"]["found"] == []
    assert result.body["output"]["reached"] > 2000


async def test_what_the_endowments_return_is_plain(api: Api) -> None:
    result = await api.run(
        """
        const values = {
          log: console.log('x'), error: console.error(), timeout: setTimeout(() => {}, 0),
          interval: setInterval(() => {}, 1000), clear: clearTimeout(12345),
          clearInterval: clearInterval(-1),
        };
        clearInterval(values.interval);
        const kinds = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, typeof v]));
        const frozen = [console, Vortex, console.log, setTimeout, Vortex.return].every(Object.isFrozen);
        let threw = '';
        try { setTimeout('code as a string', 0); } catch (e) {
          threw = e.constructor === TypeError && Object.getPrototypeOf(e) === TypeError.prototype;
        }
        Vortex.return({ kinds, frozen, threw, returned: typeof Vortex.return(null) });
        """
    )
    assert result.body["output"] == {
        "kinds": {
            "log": "undefined",
            "error": "undefined",
            "timeout": "number",
            "interval": "number",
            "clear": "undefined",
            "clearInterval": "undefined",
        },
        "frozen": True,
        "threw": True,
        "returned": "undefined",
    }


async def test_no_way_to_the_filesystem_the_environment_or_the_network(api: Api) -> None:
    # fetch (issue 5) is the one door to the network, and it goes through the outbound policy
    # of vortex/outbound; everything else must be absent or refused.
    probes = {
        "require": "require('fs')",
        "process.env": "process.env",
        "python.exec": "python.exec('import os')",
        "XMLHttpRequest": "new XMLHttpRequest()",
        "WebSocket": "new WebSocket('ws://127.0.0.1:1')",
        "Deno": "Deno.readTextFileSync('/etc/passwd')",
        "os via Function": "Function('return python')()",
        "os via compartment": "new Compartment().evaluate('typeof python')",
        "host global via child compartment": "new Compartment({ __options__: true, globals: {} }).globalThis.python",
        "lockdown again": "lockdown()",
        "module loader": "Compartment.prototype.import",
    }
    lines = [
        f"try {{ const v = {expr}; out[{name!r}] = typeof v === 'string' ? v : typeof v; }}"
        f" catch (e) {{ out[{name!r}] = 'refused'; }}"
        for name, expr in probes.items()
    ]
    result = await api.run("const out = {};\n" + "\n".join(lines) + "\nVortex.return(out)")
    allowed = {"refused", "undefined"}
    assert {k: v for k, v in result.body["output"].items() if v not in allowed} == {
        "module loader": "function"
    }
    # Compartment.prototype.import exists, but there is no module map: nothing to import.
    result = await api.run(
        "try { await new Compartment().import('fs'); Vortex.return('imported') }"
        " catch (e) { Vortex.return('refused') }"
    )
    assert result.body["output"] == "refused"
