"""node:stream (readable-stream, linked as a built-in): Node's streams in a function, deployed
through the API to a real server and called on the functions listener."""

from __future__ import annotations

from typing import Any

import aiohttp

from tests.jsrun import deploy_module as deploy
from tests.server import ServerProcess


async def call(server: ServerProcess, ref: str, path: str = "/") -> Any:
    async with aiohttp.ClientSession() as client, client.get(server.fn_url(ref, path)) as r:
        body = await r.json(content_type=None)
        assert r.status == 200, body
        return body


STREAMS = """
import stream, { Readable, Writable, Transform, PassThrough, Duplex, pipeline, finished } from "node:stream";
import { pipeline as pipelinePromise } from "node:stream/promises";
import { Buffer } from "node:buffer";
import { EventEmitter } from "node:events";

const upper = () => new Transform({
  transform(chunk, encoding, callback) { callback(null, chunk.toString().toUpperCase()); },
});
function sink(into) {
  return new Writable({ write(chunk, encoding, callback) { into.push(chunk); callback(); } });
}

export default {
  async fetch() {
    // A Readable piped through a Transform into a Writable.
    const piped = await new Promise((resolve, reject) => {
      const chunks = [];
      const out = sink(chunks);
      out.on("finish", () => resolve({ text: Buffer.concat(chunks).toString(), buffers: chunks.every((c) => Buffer.isBuffer(c)) }));
      out.on("error", reject);
      Readable.from(["ab", "cd", "ef"]).pipe(upper()).pipe(out);
    });

    // pipeline with a callback, and an error in its middle: the callback has it, all destroyed.
    const failing = await new Promise((resolve) => {
      const source = Readable.from(["x", "y"]);
      const broken = new Transform({ transform(chunk, enc, cb) { cb(new Error("bad chunk")); } });
      const out = sink([]);
      pipeline(source, broken, out, (err) => resolve({ message: err && err.message, destroyed: [source.destroyed, broken.destroyed, out.destroyed] }));
    });

    // stream/promises' pipeline, an async generator as a stage, and object mode.
    const collected = [];
    await pipelinePromise(
      Readable.from([1, 2, 3]),
      async function* (source) { for await (const n of source) yield n * 10; },
      new Writable({ objectMode: true, write(n, e, cb) { collected.push(n); cb(); } }),
    );

    // A rejected stream/promises pipeline.
    let rejected = null;
    try {
      await pipelinePromise(
        new Readable({ read() { this.destroy(new Error("source failed")); } }),
        new PassThrough(),
        sink([]),
      );
    } catch (err) {
      rejected = [err.message, err instanceof Error];
    }

    // Backpressure: write() says false past the highWaterMark, then "drain".
    const drained = await new Promise((resolve) => {
      const slow = new Writable({ highWaterMark: 4, write(chunk, e, cb) { setTimeout(cb, 1); } });
      const first = slow.write("abcdef");
      slow.once("drain", () => resolve([first, true]));
    });

    // Reading with async iteration, and an "error" event on a destroyed stream.
    const read = [];
    for await (const chunk of Readable.from(Buffer.from("hello"))) read.push(chunk.toString());
    const errored = await new Promise((resolve) => {
      const r = new Readable({ read() {} });
      r.on("error", (err) => resolve([err.message, r.destroyed]));
      r.destroy(new Error("boom"));
    });
    const ended = await new Promise((resolve) => {
      const r = Readable.from(["a"]);
      r.resume();
      finished(r, (err) => resolve(err === undefined || err === null));
    });

    // The old Stream constructor, which packages (jws) inherit from, and the EventEmitter.
    function Legacy() { stream.call(this); }
    Object.setPrototypeOf(Legacy.prototype, stream.prototype);
    const legacy = new Legacy();
    const duplex = new Duplex({ read() {}, write(c, e, cb) { cb(); } });

    return Response.json({
      piped,
      failing,
      collected,
      rejected,
      drained,
      read,
      errored,
      ended,
      legacy: [legacy instanceof EventEmitter, typeof legacy.pipe, stream.Stream === stream, stream.Readable === Readable],
      duplex: [duplex instanceof Readable, duplex instanceof Writable, duplex instanceof EventEmitter],
    });
  },
};
"""


async def test_streams_pipe_transform_pipeline_and_fail_as_node_does(
    one_host: ServerProcess, api: aiohttp.ClientSession
) -> None:
    body = await call(one_host, await deploy(api, STREAMS))
    assert body["piped"] == {"text": "ABCDEF", "buffers": True}
    assert body["failing"] == {"message": "bad chunk", "destroyed": [True, True, True]}
    assert body["collected"] == [10, 20, 30]
    assert body["rejected"] == ["source failed", True]
    assert body["drained"] == [False, True]
    assert body["read"] == ["hello"]
    assert body["errored"] == ["boom", True]
    assert body["ended"] is True
    assert body["legacy"] == [True, "function", True, True]
    assert body["duplex"] == [True, True, True]
