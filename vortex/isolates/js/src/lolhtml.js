// lol-html, Cloudflare's streaming HTML rewriter (the one behind Workers' HTMLRewriter), as
// WebAssembly built by html-rewriter-wasm, with its wasm-bindgen glue. The host reads the wasm
// (dist/lol_html.wasm) when a run first needs it; it is compiled once per host, and every rewrite
// gets an instance of its own: its own linear memory (capped at MAX_MEMORY, and in the engine's
// heap, where the run's memory is measured), its own glue state, nothing shared with another
// run. build.mjs makes the glue's two CommonJS files into functions, run here per instance.
import { TextDecoder, TextEncoder } from '@exodus/bytes/encoding.js';
import makeGlue from 'html-rewriter-wasm/dist/html_rewriter.js';
import makeAsyncify from 'html-rewriter-wasm/dist/asyncify.js';
import { hostBytes } from './util.js';
import { WebAssembly, engineModule } from './wasm.js';
import { withMaximumAtMost } from './wasmlimits.js';

// The engine's Module: lol-html is the platform's, compiled once per host with its own maximum,
// not the first run's limit (wasmlimits.js).
const Module = engineModule;
const { Instance, RuntimeError } = WebAssembly;
const PAGE = 1 << 16;
// lol-html buffers a tag (or a comment, a doctype) until it ends: a page whose one attribute
// never closes grows it with the input. 32 MiB holds real pages (a 10 MB data: URI in an
// attribute) and makes that page a TypeError instead of an allocation without end.
export const MAX_MEMORY = 32 << 20;

let loadWasm = null;
let compiled = null;

export function setRewriterWasm(load) {
  loadWasm = load;
}

// The module defines its memory with no maximum; one is written into its memory section, so
// that growing past it fails inside the module (Rust's allocator aborts: a trap) rather than
// taking what the host has.
function withMemoryMaximum(bytes, pages) {
  const capped = withMaximumAtMost(bytes, pages);
  if (capped === bytes) throw new TypeError('HTMLRewriter: lol_html.wasm has no memory section of the expected shape');
  return capped;
}

function compiledModule() {
  if (compiled === null) {
    const bytes = loadWasm === null ? null : hostBytes(loadWasm());
    if (bytes === null) throw new TypeError('HTMLRewriter is not available: lol_html.wasm is missing from this host');
    compiled = new Module(withMemoryMaximum(bytes, MAX_MEMORY / PAGE));
  }
  return compiled;
}

function assert(ok) {
  if (!ok) throw new TypeError('HTMLRewriter: the rewriter is in an unexpected state');
}
assert.strictEqual = (left, right) => assert(left === right);

const modules = {
  util: { TextDecoder, TextEncoder },
  path: { join: () => '' },
  fs: { readFileSync: () => null },
};

// A fresh lol-html: the glue's exports (HTMLRewriter and the token classes, never given to user
// code) and the instance's memory.
export function newLolHtml() {
  const module = compiledModule();
  const asyncify = { exports: {} };
  makeAsyncify(asyncify, asyncify.exports, () => assert, '', undefined);
  const glue = { exports: {} };
  const require = (name) => (name === './asyncify.js' ? asyncify.exports : modules[name]);
  // The glue compiles `new WebAssembly.Module(bytes)` itself: given the compiled module instead.
  const wasm = { Module: function compiledOnce() { return module; }, Instance };
  makeGlue(glue, glue.exports, require, '', wasm);
  return glue.exports;
}

// What a lol-html error becomes for user code: a trap (the module aborts when its memory is
// full, or on a bug of its own) is a TypeError; a handler's own exception is itself.
export function rewriterError(error, lol) {
  if (!(error instanceof RuntimeError)) return error;
  // lol-html's buffers double as they grow: one that fails is at least half the memory.
  const full = lol.__wasm.memory.buffer.byteLength * 2 > MAX_MEMORY;
  return new TypeError(
    full
      ? `HTMLRewriter: the page needs more than ${MAX_MEMORY >> 20} MiB of buffering (a tag, comment or doctype that does not end)`
      : 'HTMLRewriter: the rewriter failed on this input',
  );
}
