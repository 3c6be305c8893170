"""``env.KV`` / ``Vortex.kv`` with byte values and metadata, through a real server and its hosts
(SQLite, and one run on a real Redis): what Workers KV code does with ``arrayBuffer``,
``stream``, ``getWithMetadata`` and ``list``'s metadata (docs/kv.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from tests.fixtures.redis import RedisServer, redis_factory, redis_server
from tests.server import ServerProcess

__all__ = ["redis_factory", "redis_server"]

ROUND_TRIP = """
const every = new Uint8Array(256);
for (let i = 0; i < 256; i++) every[i] = i;
const same = (buffer) => {
  const got = new Uint8Array(buffer);
  return got.length === 256 && got.every((b, i) => b === i);
};
const shifted = new Uint8Array(300);
shifted.set(every, 20);
await Vortex.kv.put("u8", every);
await Vortex.kv.put("ab", every.buffer.slice(0));
await Vortex.kv.put("dv", new DataView(shifted.buffer, 20, 256));
await Vortex.kv.put("sub", shifted.subarray(20, 276));
await Vortex.kv.put("i16", new Int16Array(every.buffer.slice(0)));
await Vortex.kv.put("stream", new ReadableStream({
  start(c) { c.enqueue(every.slice(0, 100)); c.enqueue(every.slice(100)); c.close(); },
}));
const put = every.slice(0);
const pending = Vortex.kv.put("copied", put);
put.fill(7);  // too late: the value was taken when put was called
await pending;
const out = {};
for (const key of ["u8", "ab", "dv", "sub", "i16", "stream", "copied"]) {
  const buffer = await Vortex.kv.get(key, "arrayBuffer");
  out[key] = buffer instanceof ArrayBuffer && same(buffer);
}
const stream = await Vortex.kv.get("u8", { type: "stream", cacheTtl: 60 });
out.stream_read = stream instanceof ReadableStream && same(await new Response(stream).arrayBuffer());
out.text = (await Vortex.kv.get("u8")) === new TextDecoder().decode(every);
out.text_has_replacements = (await Vortex.kv.get("u8", { type: "text" })).includes("\\uFFFD");
await Vortex.kv.put("utf8", new TextEncoder().encode(JSON.stringify({ name: "Ada ☃" })));
out.json = await Vortex.kv.get("utf8", "json");
out.text_as_bytes = Array.from(new Uint8Array(await Vortex.kv.get("utf8", "arrayBuffer")).slice(0, 2));
out.missing = [await Vortex.kv.get("nope", "arrayBuffer"), await Vortex.kv.get("nope", "stream")];
await Vortex.kv.put("empty", new Uint8Array(0));
const emptyStream = await Vortex.kv.get("empty", "stream");
out.empty = [(await Vortex.kv.get("empty", "arrayBuffer")).byteLength, await Vortex.kv.get("empty"),
             (await new Response(emptyStream).arrayBuffer()).byteLength];
await Vortex.kv.put("meta", every, { metadata: { owner: "Ada", tags: ["x"] }, expirationTtl: 600 });
await Vortex.kv.put("plain", "text");
const withMeta = await Vortex.kv.getWithMetadata("meta", "arrayBuffer");
out.with_meta = { same: same(withMeta.value), metadata: withMeta.metadata };
out.without_meta = await Vortex.kv.getWithMetadata("plain");
out.json_meta = await Vortex.kv.getWithMetadata("utf8", { type: "json" });
out.absent = await Vortex.kv.getWithMetadata("nope");
const listed = await Vortex.kv.list({ prefix: "meta" });
out.listed = listed.keys.map((k) => ({ name: k.name, metadata: k.metadata, expires: typeof k.expiration }));
out.list_shape = [listed.list_complete, listed.cursor];
out.plain_listed = (await Vortex.kv.list({ prefix: "plain" })).keys;
Vortex.return(out);
"""

EXPECTED = {
    "u8": True,
    "ab": True,
    "dv": True,
    "sub": True,
    "i16": True,
    "stream": True,
    "copied": True,
    "stream_read": True,
    "text": True,
    "text_has_replacements": True,
    "json": {"name": "Ada ☃"},
    "text_as_bytes": [123, 34],
    "missing": [None, None],
    "empty": [0, "", 0],
    "with_meta": {"same": True, "metadata": {"owner": "Ada", "tags": ["x"]}},
    "without_meta": {"value": "text", "metadata": None},
    "json_meta": {"value": {"name": "Ada ☃"}, "metadata": None},
    "absent": {"value": None, "metadata": None},
    "listed": [{"name": "meta", "metadata": {"owner": "Ada", "tags": ["x"]}, "expires": "number"}],
    "list_shape": [True, None],
    "plain_listed": [{"name": "plain"}],
}


async def test_bytes_in_every_shape_round_trip_with_metadata(
    run: Callable[[str], Awaitable[dict[str, Any]]],
) -> None:
    body = await run(ROUND_TRIP)
    assert body.get("error") is None, body
    assert body["output"] == EXPECTED, body


async def test_the_same_on_redis(
    server_factory: Callable[..., ServerProcess], redis_server: RedisServer
) -> None:
    proc = server_factory({"REDIS_ADDR": redis_server.addr})
    async with aiohttp.ClientSession(base_url=proc.url) as http:
        async with http.post("/deploy", json={"code": ROUND_TRIP}) as response:
            function_id = (await response.json())["function_id"]
        async with http.post(f"/execute/{function_id}") as response:
            body = await response.json()
    assert body.get("error") is None, body
    assert body["output"] == EXPECTED, body
    assert redis_server.client().keys("vortex:kv:*:m:meta") != []


async def test_limits_and_errors_of_bytes_and_metadata(
    run: Callable[[str], Awaitable[dict[str, Any]]],
) -> None:
    body = await run(
        """
        const codes = {};
        const attempt = async (label, f) => {
          try { await f(); codes[label] = "no error"; }
          catch (e) { codes[label] = (e.code || e.name) + (e instanceof Error ? "" : " (not an Error)"); }
        };
        const limit = 128 * 1024;
        await attempt("bytes at the limit", () => Vortex.kv.put("k", new Uint8Array(limit)));
        await attempt("bytes over", () => Vortex.kv.put("k", new Uint8Array(limit + 1)));
        await attempt("buffer over", () => Vortex.kv.put("k", new ArrayBuffer(limit + 1)));
        let pulled = 0;
        await attempt("stream over", () => Vortex.kv.put("k", new ReadableStream({
          pull(c) { pulled += 1; c.enqueue(new Uint8Array(64 * 1024)); },
        })));
        codes.pulled_before_stopping = pulled <= 3;
        await attempt("stream of strings", () => Vortex.kv.put("k", new ReadableStream({
          start(c) { c.enqueue("text"); c.close(); },
        })));
        await attempt("metadata at the limit", () => Vortex.kv.put("k", "v", { metadata: "m".repeat(1022) }));
        await attempt("metadata over", () => Vortex.kv.put("k", "v", { metadata: "m".repeat(1023) }));
        await attempt("metadata over in utf8", () => Vortex.kv.put("k", "v", { metadata: "é".repeat(600) }));
        await attempt("metadata not json", () => Vortex.kv.put("k", "v", { metadata: () => 1 }));
        await attempt("metadata bigint", () => Vortex.kv.put("k", "v", { metadata: { n: 1n } }));
        await attempt("number value", () => Vortex.kv.put("k", 5));
        await attempt("bad type", () => Vortex.kv.getWithMetadata("k", { type: "blob" }));
        const kept = await Vortex.kv.getWithMetadata("k");
        codes.kept = [kept.value, kept.metadata.length];
        Vortex.return(codes);
        """
    )
    assert body["output"] == {
        "bytes at the limit": "no error",
        "bytes over": "kv_value_too_large",
        "buffer over": "kv_value_too_large",
        "stream over": "kv_value_too_large",
        "pulled_before_stopping": True,
        "stream of strings": "TypeError",
        "metadata at the limit": "no error",
        "metadata over": "kv_metadata_too_large",
        "metadata over in utf8": "kv_metadata_too_large",
        "metadata not json": "kv_invalid_metadata",
        "metadata bigint": "TypeError",
        "number value": "kv_invalid_value",
        "bad type": "TypeError",
        "kept": ["v", 1022],
    }, body
