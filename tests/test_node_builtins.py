"""The Node.js built-ins of nodejs_compat that Vortex links (vortex/modules/nodebuiltins.py):
deployed through the API to a real server and called on the functions listener.

One server with one worker process, so that every function here shares a host: what one
function does to a built-in's state must not be seen by another.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
from pathlib import Path
from typing import Any

import aiohttp

from tests.jsrun import deploy_module as deploy
from tests.server import ServerProcess
from vortex.modules.errors import NODE_BUILTINS_ADVICE
from vortex.modules.nodebuiltins import SUPPORTED


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
    // A pair that failed inside a Set's search is not equal when met again.
    const failedInSet = () => {
      const o = { x: 1 }, p = { x: 2 };
      return isDeepStrictEqual([new Set([o, { x: 2 }]), o], [new Set([p, { x: 1 }]), p]);
    };
    const cyclesMeet = () => {
      const c1 = { n: 1 }, c2 = { n: 1 };
      c1.self = c1;
      c2.self = c2;
      return isDeepStrictEqual(c1, c2);
    };
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
        [isDeepStrictEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }), isDeepStrictEqual({ a: 1 }, { a: "1" }), isDeepStrictEqual(new Set([1]), new Set([1])), failedInSet(), cyclesMeet()],
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
        [True, False, True, False, True],
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
    for name in ("fs", "net", "child_process", "http", "tls", "zlib"):
        code = f'import x from "node:{name}";\nexport default {{ fetch: () => new Response(String(x)) }};\n'
        async with api.post("/deploy", json={"code": code, "filename": "index.mjs"}) as r:
            assert r.status == 400
            error = (await r.json())["error"]
        assert error["code"] == "invalid_import", name
        assert f'import of "node:{name}" in index.mjs' in error["message"]
        assert NODE_BUILTINS_ADVICE in error["message"]
    for name in SUPPORTED:
        assert f"node:{name}" in NODE_BUILTINS_ADVICE


TIMERS = """
import { setTimeout as later, clearTimeout, setInterval, clearInterval, setImmediate, promises } from "node:timers";
import { setTimeout as sleep, setImmediate as soon, setInterval as every, scheduler } from "timers/promises";
export default {
  async fetch() {
    const seen = [];
    await new Promise((resolve) => {
      const timer = later((a, b) => { seen.push("timeout " + a + b); resolve(); }, 5, "x", "y");
      seen.push([typeof timer, timer.hasRef(), timer.unref() === timer, typeof +timer]);
      const cancelled = later(() => seen.push("never"), 1);
      clearTimeout(cancelled);
      const byId = later(() => seen.push("never by id"), 1);
      clearTimeout(+byId);
    });
    await new Promise((resolve) => setImmediate((v) => { seen.push("immediate " + v); resolve(); }, 1));
    let ticks = 0;
    await new Promise((resolve) => {
      const interval = setInterval(() => { ticks += 1; if (ticks === 3) { clearInterval(interval); resolve(); } }, 2);
    });
    seen.push("ticks " + ticks);
    seen.push(await sleep(3, "slept"), await soon("soon"), await promises.setTimeout(1, "same"));
    const controller = new AbortController();
    const aborted = sleep(10000, "x", { signal: controller.signal }).catch((e) => [e.name, e.code]);
    controller.abort();
    seen.push(await aborted);
    const counted = [];
    for await (const value of every(2, "tick")) { counted.push(value); if (counted.length === 2) break; }
    seen.push(counted, await scheduler.wait(1), sleep === promises.setTimeout);
    let threw = null;
    try { later("not a function", 1); } catch (e) { threw = e.code; }
    seen.push(threw);
    return Response.json(seen);
  },
};
"""


async def test_timers_and_timers_promises_as_node_gives_them(
    one_host: ServerProcess, api: aiohttp.ClientSession
) -> None:
    # unenv's preset for Cloudflare imports the timer functions from node:timers (Nitro's
    # cloudflare-module output does), as workerd's nodejs_compat has it.
    ref = await deploy(api, TIMERS)
    assert await call(one_host, ref) == [
        ["object", True, True, "number"],
        "timeout xy",
        "immediate 1",
        "ticks 3",
        "slept",
        "soon",
        "same",
        ["AbortError", "ABORT_ERR"],
        ["tick", "tick"],
        None,
        True,
        "ERR_INVALID_ARG_TYPE",
    ]


POLLUTER = """
import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";
import process from "node:process";
import util from "node:util";
import crypto from "node:crypto";
import assert from "node:assert";
export default {
  fetch() {
    crypto.createHash = () => ({ update() { return this; }, digest: () => "hijacked" });
    crypto.randomUUID = () => "00000000-0000-4000-8000-000000000000";
    Object.getPrototypeOf(crypto.createHmac("sha256", "k")).digest = () => "hijacked";
    assert.strictEqual = () => {};
    assert.AssertionError.prototype.code = "HIJACKED";
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
import crypto from "node:crypto";
import assert from "node:assert";
export default {
  fetch() {
    let code = "none";
    try { assert.strictEqual(1, 2); } catch (err) { code = err.code; }
    return Response.json({
      sha256: crypto.createHash("sha256").update("abc").digest("hex"),
      hmac: crypto.createHmac("sha256", "k").update("abc").digest("hex").length,
      uuid: crypto.randomUUID() !== "00000000-0000-4000-8000-000000000000",
      assert: code,
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
    function's own compartment, so what A changes (node:crypto's createHash, its Hmac
    prototype, node:assert's functions...) is A's alone."""
    observer = await deploy(api, OBSERVER)
    fresh = await call(one_host, observer)
    polluter = await deploy(api, POLLUTER)
    assert await call(one_host, polluter) == {"poolSize": 1, "frozen": True}
    assert await call(one_host, polluter) == {"poolSize": 1, "frozen": True}
    # A function deployed after, and the one deployed before (its warm instance and a new one).
    later = await deploy(api, OBSERVER.replace("fetch()", "fetch(request)"))
    assert fresh == {
        "sha256": hashlib.sha256(b"abc").hexdigest(),
        "hmac": 64,
        "uuid": True,
        "assert": "ERR_ASSERTION",
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


CRYPTO = """
import crypto, { createHash, createHmac, randomBytes, randomUUID, randomInt, timingSafeEqual, getHashes, webcrypto, subtle } from "node:crypto";
import bare from "crypto";
import { Buffer } from "node:buffer";
export default {
  async fetch() {
    const abc = (alg, enc = "hex") => createHash(alg).update("abc").digest(enc);
    const digest = createHash("sha256").update("ab").update(new Uint8Array([0x63])).digest();
    const partial = createHash("sha1").update("a");
    const copied = partial.copy();
    partial.update("bc");
    const failed = (fn) => { try { fn(); return null; } catch (err) { return [err.name, err.code ?? null, err.message]; } };
    const finished = createHash("md5");
    finished.digest();
    const random = randomBytes(48);
    const viaCallback = await new Promise((resolve) => randomBytes(5, (err, b) => resolve([err, b.length])));
    const ints = Array.from({ length: 200 }, () => randomInt(3, 6));
    const derived = await new Promise((resolve, reject) => crypto.pbkdf2("pw", "salt", 1000, 16, "sha256", (err, key) => (err ? reject(err) : resolve(key.toString("hex")))));
    return Response.json({
      sameModule: bare === crypto,
      hashes: ["md5", "sha1", "sha224", "sha256", "sha384", "sha512", "sha512-256", "SHA256", "RSA-SHA1"].map((alg) => abc(alg)),
      encodings: ["base64", "base64url", "latin1", "binary"].map((enc) => abc("sha256", enc)),
      inputs: [
        createHash("sha256").update("616263", "hex").digest("hex"),
        createHash("sha256").update("YWJj", "base64").digest("hex"),
        createHash("sha256").update(Buffer.from("abc")).digest("hex"),
        createHash("sha256").update(new DataView(new TextEncoder().encode("xabc").buffer, 1)).digest("hex"),
        crypto.hash("sha1", "abc"),
      ],
      digest: [Buffer.isBuffer(digest), digest instanceof Buffer, digest.length, digest.toString("hex")],
      copy: [copied.digest("hex"), partial.digest("hex")],
      hmac: [
        createHmac("sha256", "Jefe").update("what do ya want for nothing?").digest("hex"),
        createHmac("sha512", Buffer.from("Jefe")).update("what do ya want for nothing?").digest("base64"),
        createHmac("sha1", new Uint8Array(100).fill(7)).update("x").digest("hex"),
        Buffer.isBuffer(createHmac("md5", "k").update("x").digest()),
      ],
      errors: [
        failed(() => createHash("sha3-256")),
        failed(() => createHmac("nope", "k")),
        failed(() => createHash("sha256").update(42)),
        failed(() => finished.update("x")),
        failed(() => finished.digest()),
        failed(() => timingSafeEqual(Buffer.from("a"), Buffer.from("ab"))),
        failed(() => randomBytes(-1)),
      ],
      random: [Buffer.isBuffer(random), random.length, random.equals(randomBytes(48)), viaCallback, Math.min(...ints), Math.max(...ints)],
      uuid: randomUUID(),
      timingSafeEqual: [timingSafeEqual(Buffer.from("same"), Buffer.from("same")), timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))],
      web: [webcrypto === globalThis.crypto, subtle === globalThis.crypto.subtle, crypto.getRandomValues(new Uint8Array(4)).length],
      subtleAgrees: Buffer.from(await subtle.digest("SHA-256", new TextEncoder().encode("abc"))).toString("hex") === abc("sha256"),
      getHashes: ["md5", "sha1", "sha256", "sha512"].every((h) => getHashes().includes(h)),
      pbkdf2: derived,
      missing: ["createCipheriv", "generateKeyPair", "pbkdf2Sync", "scryptSync"].filter((name) => name in crypto),
    });
  },
};
"""


async def test_crypto_hashes_hmacs_and_randomness_as_node_gives_them(
    one_host: ServerProcess, api: aiohttp.ClientSession
) -> None:
    body = await call(one_host, await deploy(api, CRYPTO))
    sha256_abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    assert body["sameModule"] is True
    assert body["hashes"] == [
        "900150983cd24fb0d6963f7d28e17f72",
        "a9993e364706816aba3e25717850c26c9cd0d89d",
        hashlib.sha224(b"abc").hexdigest(),
        sha256_abc,
        hashlib.sha384(b"abc").hexdigest(),
        hashlib.sha512(b"abc").hexdigest(),
        hashlib.new("sha512_256", b"abc").hexdigest(),
        sha256_abc,
        "a9993e364706816aba3e25717850c26c9cd0d89d",
    ]
    raw = bytes.fromhex(sha256_abc)
    assert body["encodings"] == [
        "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=",
        "ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0",
        raw.decode("latin-1"),
        raw.decode("latin-1"),
    ]
    assert body["inputs"] == [sha256_abc] * 4 + ["a9993e364706816aba3e25717850c26c9cd0d89d"]
    assert body["digest"] == [True, True, 32, sha256_abc]
    assert body["copy"] == [hashlib.sha1(b"a").hexdigest(), hashlib.sha1(b"abc").hexdigest()]
    # RFC 4231, test case 2
    rfc4231_sha512 = (
        "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
        "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"
    )
    assert body["hmac"] == [
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
        base64.b64encode(bytes.fromhex(rfc4231_sha512)).decode(),
        hmac.new(bytes([7] * 100), b"x", "sha1").hexdigest(),
        True,
    ]
    assert body["errors"] == [
        ["Error", None, "Digest method not supported"],
        ["TypeError", "ERR_CRYPTO_INVALID_DIGEST", "Invalid digest: nope"],
        [
            "TypeError",
            "ERR_INVALID_ARG_TYPE",
            'The "data" argument must be of type string or an instance of Buffer, TypedArray, '
            "or DataView. Received type number (42)",
        ],
        ["Error", "ERR_CRYPTO_HASH_FINALIZED", "Digest already called"],
        ["Error", "ERR_CRYPTO_HASH_FINALIZED", "Digest already called"],
        [
            "RangeError",
            "ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH",
            "Input buffers must have the same byte length",
        ],
        [
            "RangeError",
            "ERR_OUT_OF_RANGE",
            'The value of "size" is out of range. It must be >= 0 && <= 2147483647. Received -1',
        ],
    ]
    assert body["random"] == [True, 48, False, [None, 5], 3, 5]
    assert re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", body["uuid"]
    )
    assert body["timingSafeEqual"] == [True, False]
    assert body["web"] == [True, True, 4]
    assert body["subtleAgrees"] is True
    assert body["getHashes"] is True
    assert body["pbkdf2"] == hashlib.pbkdf2_hmac("sha256", b"pw", b"salt", 1000, 16).hex()
    assert body["missing"] == []


# A GitHub webhook receiver as apps write it for nodejs_compat: the x-hub-signature-256 header
# is "sha256=" and the HMAC of the raw body with the webhook's secret, compared in constant time.
WEBHOOK = """
import { createHmac, timingSafeEqual } from "node:crypto";
import { Buffer } from "node:buffer";

function verified(body, header, secret) {
  const expected = Buffer.from("sha256=" + createHmac("sha256", secret).update(body).digest("hex"));
  const given = Buffer.from(header ?? "");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export default {
  async fetch(request, env) {
    const body = await request.text();
    if (!verified(body, request.headers.get("x-hub-signature-256"), env.GITHUB_WEBHOOK_SECRET)) {
      return new Response("signature mismatch", { status: 401 });
    }
    const event = JSON.parse(body);
    return Response.json({ event: request.headers.get("x-github-event"), action: event.action, repo: event.repository.full_name });
  },
};
"""


async def test_a_github_webhook_signature_is_verified_with_create_hmac(
    one_host: ServerProcess, api: aiohttp.ClientSession
) -> None:
    secret = "It's a Secret to Everybody"
    ref = await deploy(api, WEBHOOK, secrets={"GITHUB_WEBHOOK_SECRET": secret})
    payload = json.dumps({"action": "opened", "repository": {"full_name": "o/r"}}).encode()
    signature = "sha256=" + hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()
    # GitHub's documented example: this secret and body give this signature.
    example = hmac.new(secret.encode(), b"Hello, World!", hashlib.sha256).hexdigest()
    assert example == "757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"

    async def post(body: bytes, header: str | None) -> tuple[int, str]:
        headers = {"x-github-event": "pull_request", "content-type": "application/json"}
        if header is not None:
            headers["x-hub-signature-256"] = header
        async with (
            aiohttp.ClientSession() as client,
            client.post(one_host.fn_url(ref), data=body, headers=headers) as r,
        ):
            return r.status, await r.text()

    status, text = await post(payload, signature)
    assert status == 200, text
    assert json.loads(text) == {"event": "pull_request", "action": "opened", "repo": "o/r"}
    tampered = payload.replace(b"opened", b"closed")
    assert await post(tampered, signature) == (401, "signature mismatch")
    assert await post(payload, signature[:-1] + "0") == (401, "signature mismatch")
    assert await post(payload, "sha256=short") == (401, "signature mismatch")
    assert await post(payload, None) == (401, "signature mismatch")


ASSERT = """
import assert, { strictEqual, AssertionError } from "node:assert";
import strict from "node:assert/strict";
import bare from "assert";
const caught = (fn) => { try { fn(); return "passed"; } catch (err) { return [err.name, err.code ?? null, err.operator ?? null, err.message, err instanceof AssertionError, "actual" in err ? err.actual ?? null : "absent", err.generatedMessage ?? null]; } };
const rejected = async (promise) => { try { await promise; return "passed"; } catch (err) { return [err.name, err.code ?? null, err.operator ?? null, err.message]; } };
export default {
  async fetch() {
    return Response.json({
      same: [bare === assert, strict === assert.strict, strict.strict === strict, strict.AssertionError === AssertionError],
      ok: [caught(() => assert(true)), caught(() => assert(0)), caught(() => assert.ok("", "need text")), caught(() => assert(false, new RangeError("mine")))],
      equal: [caught(() => assert.equal(1, "1")), caught(() => assert.equal(1, 2)), caught(() => assert.notEqual(1, "1"))],
      strictEqual: [caught(() => strictEqual(1, 1)), caught(() => strictEqual(1, "1")), caught(() => assert.notStrictEqual(2, 2, "two"))],
      deep: [
        caught(() => assert.deepEqual({ a: [1, "2"] }, { a: ["1", 2] })),
        caught(() => assert.deepStrictEqual({ a: [1, new Map([[1, { b: 2 }]])] }, { a: [1, new Map([[1, { b: 2 }]])] })),
        caught(() => assert.deepStrictEqual({ a: 1 }, { a: "1" })),
        caught(() => assert.notDeepStrictEqual({ a: 1 }, { a: 1 })),
      ],
      strict: [caught(() => strict.equal(1, "1")), caught(() => strict.deepEqual({ a: 1 }, { a: "1" })), caught(() => strict(1))],
      throws: [
        caught(() => assert.throws(() => { throw new TypeError("bad"); }, TypeError)),
        caught(() => assert.throws(() => { throw new Error("boom"); }, /boom/)),
        caught(() => assert.throws(() => { throw Object.assign(new Error("x"), { code: "E1" }); }, { code: "E1", message: "x" })),
        caught(() => assert.throws(() => {})),
        caught(() => assert.throws(() => { throw new RangeError("r"); }, TypeError)),
        caught(() => assert.doesNotThrow(() => { throw new Error("oops"); })),
        caught(() => assert.doesNotThrow(() => 1)),
      ],
      rejects: [
        await rejected(assert.rejects(Promise.reject(new TypeError("t")), TypeError)),
        await rejected(assert.rejects(async () => 1)),
        await rejected(assert.doesNotReject(Promise.reject(new Error("no")))),
        await rejected(assert.doesNotReject(async () => 1)),
      ],
      match: [caught(() => assert.match("abc", /b/)), caught(() => assert.match("abc", /x/))],
      fail: [caught(() => assert.fail()), caught(() => assert.fail("boom"))],
      constructed: (() => { const e = new AssertionError({ actual: 1, expected: 2, operator: "strictEqual" }); return [e.name, e.code, e.message, String(e)]; })(),
    });
  },
};
"""


async def test_assert_and_assert_strict_fail_as_node_does(
    one_host: ServerProcess, api: aiohttp.ClientSession
) -> None:
    body = await call(one_host, await deploy(api, ASSERT))
    error = ["AssertionError", "ERR_ASSERTION"]
    assert body["same"] == [True, True, True, True]
    assert body["ok"] == [
        "passed",
        [*error, "==", "0 == true", True, 0, True],
        [*error, "==", "need text", True, "", False],
        ["RangeError", None, None, "mine", False, "absent", None],
    ]
    assert body["equal"] == [
        "passed",
        [*error, "==", "1 == 2", True, 1, True],
        [*error, "!=", "1 != '1'", True, 1, True],
    ]
    assert body["strictEqual"] == [
        "passed",
        [
            *error,
            "strictEqual",
            "Expected values to be strictly equal:\n\n1 !== '1'\n",
            True,
            1,
            True,
        ],
        [*error, "notStrictEqual", "two", True, 2, False],
    ]
    deep_failure = "Expected values to be strictly deep-equal:\n+ actual - expected\n\n+ { a: 1 }\n- { a: '1' }"
    assert body["deep"][:2] == ["passed", "passed"]
    assert body["deep"][2][:4] == [*error, "deepStrictEqual", deep_failure]
    assert body["deep"][3][2:4] == [
        "notDeepStrictEqual",
        'Expected "actual" not to be strictly deep-equal to: { a: 1 }',
    ]
    assert body["strict"][0][2:4] == [
        "strictEqual",
        "Expected values to be strictly equal:\n\n1 !== '1'\n",
    ]
    assert body["strict"][1][2:4] == ["deepStrictEqual", deep_failure]
    assert body["strict"][2] == "passed"
    assert body["throws"][:3] == ["passed", "passed", "passed"]
    assert body["throws"][3][:4] == [*error, "throws", "Missing expected exception."]
    assert body["throws"][4][:4] == [
        *error,
        "throws",
        'The error is expected to be an instance of "TypeError". Received "RangeError"\n\n'
        "Error message:\n\nr",
    ]
    assert body["throws"][5][:4] == [
        *error,
        "doesNotThrow",
        'Got unwanted exception.\nActual message: "oops"',
    ]
    assert body["throws"][6] == "passed"
    assert body["rejects"] == [
        "passed",
        [*error, "rejects", "Missing expected rejection."],
        [*error, "doesNotReject", 'Got unwanted rejection.\nActual message: "no"'],
        "passed",
    ]
    assert body["match"][0] == "passed"
    assert body["match"][1][:4] == [
        *error,
        "match",
        "The input did not match the regular expression /x/. Input:\n\n'abc'\n",
    ]
    assert body["fail"] == [
        [*error, "fail", "Failed", True, None, True],
        [*error, "fail", "boom", True, None, False],
    ]
    assert body["constructed"] == [
        "AssertionError",
        "ERR_ASSERTION",
        "1 strictEqual 2",
        "AssertionError [ERR_ASSERTION]: 1 strictEqual 2",
    ]
