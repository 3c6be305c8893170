"""The Node.js built-ins of nodejs_compat that Vortex links (vortex/modules/nodebuiltins.py):
deployed through the API to a real server and called on the functions listener.

One server with one worker process, so that every function here shares a host: what one
function does to a built-in's state must not be seen by another.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.conftest import TEST_SERVER_ENV
from tests.server import ServerProcess, start_server, stop_and_check
from vortex.modules.errors import NODE_BUILTINS_ADVICE
from vortex.modules.nodebuiltins import SUPPORTED


@pytest.fixture(scope="module")
def one_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = start_server(tmp_path_factory.mktemp("node"), TEST_SERVER_ENV, workers=1)
    yield proc
    stop_and_check(proc)


@pytest.fixture
async def api(one_host: ServerProcess) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=one_host.url) as session:
        yield session


async def deploy(api: aiohttp.ClientSession, code: str, **extra: Any) -> str:
    async with api.post("/deploy", json={"code": code, "filename": "index.mjs", **extra}) as r:
        body = await r.json()
        assert r.status == 200, body
        return str(body["function_id"])


async def call(server: ServerProcess, ref: str, path: str = "/") -> Any:
    async with aiohttp.ClientSession() as client, client.get(server.fn_url(ref, path)) as r:
        body = await r.json(content_type=None)
        assert r.status == 200, body
        return body


BUFFER = """
import { Buffer, isUtf8, constants } from "node:buffer";
import bare from "buffer";
export default {
  fetch() {
    const text = "héllo wörld ✓";
    const b = Buffer.from(text);
    return Response.json({
      sameModule: bare.Buffer === Buffer,
      utf8: b.toString(),
      hex: b.toString("hex"),
      base64: b.toString("base64"),
      base64url: Buffer.from([251, 255, 191]).toString("base64url"),
      fromUrl: [...Buffer.from("-_-_", "base64url")],
      latin1: Buffer.from("ÿé", "latin1").toString("hex"),
      ucs2: Buffer.from("ab", "utf16le").toString("hex"),
      ascii: Buffer.from("hi", "ascii").toString(),
      fromHex: Buffer.from("c3a9", "hex").toString(),
      byteLength: Buffer.byteLength(text),
      byteLength64: Buffer.byteLength("aGk=", "base64"),
      concat: Buffer.concat([Buffer.from("a"), Buffer.from("bc")]).toString(),
      compare: [Buffer.compare(Buffer.from("a"), Buffer.from("b")), Buffer.from("x").equals(Buffer.from("x"))],
      alloc: Buffer.alloc(4, "ab").toString(),
      slice: b.subarray(0, 5).toString(),
      isBuffer: [Buffer.isBuffer(b), Buffer.isBuffer(new Uint8Array(1)), b instanceof Uint8Array],
      ints: (() => { const x = Buffer.alloc(6); x.writeUInt32BE(0xdeadbeef, 0); x.writeInt16LE(-2, 4); return [x.readUInt32BE(0), x.readInt16LE(4), x.toString("hex")]; })(),
      json: Buffer.from("hi").toJSON(),
      isUtf8: [isUtf8(b), isUtf8(new Uint8Array([0xff]))],
      encodings: ["utf8", "hex", "base64", "base64url", "latin1", "binary", "ucs2", "nope"].map((e) => Buffer.isEncoding(e)),
      maxLength: constants.MAX_LENGTH > 0,
    });
  },
};
"""


async def test_buffer_encodes_and_decodes_as_node_does(
    one_host: ServerProcess, api: aiohttp.ClientSession
) -> None:
    body = await call(one_host, await deploy(api, BUFFER))
    text = "héllo wörld ✓"
    assert body == {
        "sameModule": True,
        "utf8": text,
        "hex": text.encode().hex(),
        "base64": "aMOpbGxvIHfDtnJsZCDinJM=",
        "base64url": "-_-_",
        "fromUrl": [251, 255, 191],
        "latin1": "ffe9",
        "ucs2": "61006200",
        "ascii": "hi",
        "fromHex": "é",
        "byteLength": len(text.encode()),
        "byteLength64": 2,
        "concat": "abc",
        "compare": [-1, True],
        "alloc": "abab",
        "slice": "héll",
        "isBuffer": [True, False, True],
        "ints": [0xDEADBEEF, -2, "deadbeeffeff"],
        "json": {"type": "Buffer", "data": [104, 105]},
        "isUtf8": [True, False],
        "encodings": [True, True, True, True, True, True, True, False],
        "maxLength": True,
    }


MISC = """
import { EventEmitter, once, on } from "node:events";
import EE from "events";
import util, { promisify, callbackify, inherits, format, inspect, types, isDeepStrictEqual } from "node:util";
import path from "node:path";
import posix from "node:path/posix";
import { StringDecoder } from "node:string_decoder";
import process from "node:process";

function Legacy() { EventEmitter.call(this); }
inherits(Legacy, EventEmitter);

export default {
  async fetch(request, env) {
    const e = new EventEmitter();
    const seen = [];
    e.on("a", (x) => seen.push("on " + x));
    e.once("a", (x) => seen.push("once " + x));
    e.emit("a", 1);
    e.emit("a", 2);
    queueMicrotask(() => e.emit("b", "x", "y"));
    const args = await once(e, "b");
    const iterated = [];
    queueMicrotask(() => { e.emit("c", 1); e.emit("c", 2); });
    for await (const [n] of on(e, "c")) { iterated.push(n); if (n === 2) break; }
    const legacy = new Legacy();
    let legacyHeard = false;
    legacy.on("x", () => { legacyHeard = true; });
    legacy.emit("x");
    const sleep = promisify((ms, done) => setTimeout(() => done(null, "slept " + ms), ms));
    const cb = await new Promise((resolve) => callbackify(async (x) => x * 2)(21, (err, v) => resolve([err, v])));
    const decoder = new StringDecoder("utf8");
    const euro = new Uint8Array([0xe2, 0x82, 0xac]);
    const decoded = [decoder.write(euro.subarray(0, 1)), decoder.write(euro.subarray(1)), decoder.end()];
    let exited = "";
    try { process.exit(1); } catch (err) { exited = err.message; }
    const ticked = await new Promise((resolve) => process.nextTick(resolve, "tick"));
    return Response.json({
      events: [seen, args, iterated, legacyHeard, EE === EventEmitter, EventEmitter.defaultMaxListeners],
      util: [
        await sleep(5),
        cb,
        format("%s is %d years and %j", "Bob", 42, { a: 1 }),
        inspect({ a: [1, "two"], b: new Map([[1, 2]]) }),
        inspect("str"),
        inspect({ a: [1, { b: { c: 1 } }] }),
        [types.isPromise(Promise.resolve()), types.isDate(new Date()), types.isRegExp(/x/), types.isUint8Array(new Uint8Array()), types.isUint8Array([]), types.isAsyncFunction(async () => {})],
        [isDeepStrictEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), isDeepStrictEqual({ a: 1 }, { a: "1" }), isDeepStrictEqual(new Set([1]), new Set([1]))],
        util.TextEncoder === TextEncoder,
      ],
      path: [path.join("/a/b", "../c", "./d.txt"), path.resolve("x", "y"), path.extname("f.tar.gz"), path.basename("/a/b.js", ".js"), path.relative("/a/b", "/a/c/d"), path.sep, posix === path, path.isAbsolute("x")],
      decoded,
      process: [process.env, process.platform, typeof process.version, process.cwd(), exited, ticked, typeof process.on],
    });
  },
};
"""


async def test_events_util_path_string_decoder_and_process(
    one_host: ServerProcess, api: aiohttp.ClientSession
) -> None:
    ref = await deploy(api, MISC, env={"REGION": "eu"}, secrets={"TOKEN": "t0k"})
    body = await call(one_host, ref)
    assert body["events"] == [["on 1", "once 1", "on 2"], ["x", "y"], [1, 2], True, True, 10]
    assert body["util"] == [
        "slept 5",
        [None, 42],
        'Bob is 42 years and {"a":1}',
        "{ a: [ 1, 'two' ], b: Map(1) { 1 => 2 } }",
        "'str'",
        # Node's default depth of 2, counted from the value itself
        "{ a: [ 1, { b: [Object] } ] }",
        [True, True, True, True, False, True],
        [True, False, True],
        True,
    ]
    assert body["path"] == ["/a/c/d.txt", "/x/y", ".gz", "b", "../c/d", "/", True, False]
    assert body["decoded"] == ["", "€", ""]
    assert body["process"] == [
        {"REGION": "eu", "TOKEN": "t0k"},
        "linux",
        "string",
        "/",
        "process.exit(1) is not supported: return a Response instead",
        "tick",
        "function",
    ]


async def test_other_node_builtins_are_refused_with_the_list(api: aiohttp.ClientSession) -> None:
    for name in ("fs", "net", "child_process", "crypto", "async_hooks", "stream", "http", "assert"):
        code = f'import x from "node:{name}";\nexport default {{ fetch: () => new Response(String(x)) }};\n'
        async with api.post("/deploy", json={"code": code, "filename": "index.mjs"}) as r:
            assert r.status == 400
            error = (await r.json())["error"]
        assert error["code"] == "invalid_import", name
        assert f'import of "node:{name}" in index.mjs' in error["message"]
        assert NODE_BUILTINS_ADVICE in error["message"]
    for name in SUPPORTED:
        assert f"node:{name}" in NODE_BUILTINS_ADVICE


POLLUTER = """
import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";
import process from "node:process";
import util from "node:util";
export default {
  fetch() {
    Buffer.poolSize = 1;
    Buffer.prototype.foo = "polluted";
    Buffer.from = () => "hijacked";
    EventEmitter.defaultMaxListeners = 1;
    EventEmitter.prototype.bar = "polluted";
    process.env.INJECTED = "yes";
    process.platform = "win32";
    util.format = () => "hijacked";
    let frozen = false;
    try { Uint8Array.prototype.foo = 1; } catch { frozen = true; }
    return Response.json({ poolSize: Buffer.poolSize, frozen });
  },
};
"""

OBSERVER = """
import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";
import process from "node:process";
import util from "node:util";
export default {
  fetch() {
    return Response.json({
      poolSize: Buffer.poolSize,
      foo: Buffer.prototype.foo === undefined && Buffer.alloc(1).foo === undefined,
      from: Buffer.from("ok").toString(),
      max: EventEmitter.defaultMaxListeners,
      bar: new EventEmitter().bar === undefined,
      env: process.env,
      platform: process.platform,
      format: util.format("%d", 1),
    });
  },
};
"""


async def test_one_functions_changes_to_a_builtin_are_not_seen_by_another(
    one_host: ServerProcess, api: aiohttp.ClientSession
) -> None:
    """Both functions run in the one host process: the built-ins are evaluated in each
    function's own compartment, so what A changes is A's alone."""
    observer = await deploy(api, OBSERVER)
    fresh = await call(one_host, observer)
    polluter = await deploy(api, POLLUTER)
    assert await call(one_host, polluter) == {"poolSize": 1, "frozen": True}
    assert await call(one_host, polluter) == {"poolSize": 1, "frozen": True}
    # A function deployed after, and the one deployed before (its warm instance and a new one).
    later = await deploy(api, OBSERVER.replace("fetch()", "fetch(request)"))
    assert fresh == {
        "poolSize": 8192,
        "foo": True,
        "from": "ok",
        "max": 10,
        "bar": True,
        "env": {},
        "platform": "linux",
        "format": "1",
    }
    assert await call(one_host, observer) == fresh
    assert await call(one_host, later) == fresh
    stats = await (await api.get("/health")).json()
    assert stats.get("host_restarts", 0) == 0


async def test_a_function_that_imports_no_builtin_carries_none(
    one_host: ServerProcess, tmp_path: Path
) -> None:
    """No built-in code is linked into a function that imports none (nothing to evaluate)."""
    from vortex.modules.esbuild import Import, Transformed
    from vortex.modules.linker import link

    plain = Transformed("index.mjs", "module.exports = 1;\n", "", ())
    assert "EventEmitter" not in link({"index.mjs": plain}, "index.mjs").script
    with_events = Transformed(
        "index.mjs", 'require("node:process");\n', "", (Import("node:process", "require-call"),)
    )
    script = link({"index.mjs": with_events}, "index.mjs").script
    # process needs events (it is an EventEmitter); nothing else comes along.
    assert '"node:process": [function' in script
    assert '"node:events": [function' in script
    assert '"node:buffer"' not in script
