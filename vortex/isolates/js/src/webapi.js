// The web-standard APIs of every run, bundled by esbuild (script/bootstrap) into one script the
// host evaluates in its start compartment before lockdown. It returns two things: `globals`, the
// classes and functions shared by all runs (hardened once after lockdown), and `internals`, what
// the harness uses to wire a run (never given to user code).
import { TextDecoder, TextDecoderStream, TextEncoder, TextEncoderStream } from '@exodus/bytes/encoding.js';
import * as streams from 'web-streams-polyfill';
import { URLPattern } from 'urlpattern-polyfill/urlpattern';
import { URL } from 'whatwg-url';
import { URLSearchParams } from './searchparams.js';
import { AbortController, AbortSignal } from './abort.js';
import { atob, btoa } from './base64.js';
import { Blob, File } from './blob.js';
import { FixedLengthStream, IdentityTransformStream, fixedLengthOf } from './bytestreams.js';
import { bytesStream, readAllChunks } from './body.js';
import { Cache, CacheStorage, caches } from './caches.js';
import { registerPlatformClasses, structuredClone } from './clone.js';
import { CompressionStream, DecompressionStream, setCodecHost } from './compression.js';
import { Crypto, CryptoKey, SubtleCrypto, makeCrypto, setCryptoHost, setDigestHost, setRandomSource } from './crypto.js';
import { DOMException } from './domexception.js';
import { describeThrown, setEngineStack, v8Stack } from './errors.js';
import { CustomEvent, ErrorEvent, Event, EventTarget, MessageEvent, PromiseRejectionEvent, reportError } from './events.js';
import { EventSource } from './eventsource.js';
import { AsyncDisposableStack, DisposableStack, SuppressedError } from './disposables.js';
import { FormData } from './formdata.js';
import { setRewriterWasm } from './lolhtml.js';
import { InvalidResponse, incomingRequest, makeFetch, sendResponse } from './exchange.js';
import { Headers } from './headers.js';
import { HTMLRewriter, rewriterSamples } from './htmlrewriter.js';
import { makeInspector } from './inspect.js';
import { MessageChannel, MessagePort } from './messaging.js';
import { Navigator, navigator } from './navigator.js';
import { Performance, PerformanceEntry, PerformanceMark, PerformanceMeasure, makePerformance } from './performance.js';
import { configure } from './hooks.js';
import { Request } from './request.js';
import { Response, responseInternals } from './response.js';
import { makeScheduler } from './scheduler.js';
import { bytesToBinary, copyBytes, hostBytes, hostText, isBufferSource } from './util.js';
import { nodeKeys } from './webcrypto/nodekeys.js';
import { WebAssembly } from './wasm.js';
import { setAllocationCheck } from './wasmlimits.js';
import { CloseEvent, WebSocket, WebSocketPair, socketInternals } from './websocket.js';

// @exodus/bytes builds TextEncoderStream/TextDecoderStream on the global TransformStream; the
// start compartment's global is the one it sees, and no user code can reach it.
globalThis.TransformStream = streams.TransformStream;
// urlpattern-polyfill canonicalizes each part with the global URL, as its spec says; the start
// compartment's must be whatwg-url's, never one pythonmonkey may provide.
globalThis.URL = URL;

const streamClasses = {
  ReadableStream: streams.ReadableStream,
  ReadableStreamDefaultReader: streams.ReadableStreamDefaultReader,
  ReadableStreamBYOBReader: streams.ReadableStreamBYOBReader,
  ReadableStreamDefaultController: streams.ReadableStreamDefaultController,
  ReadableByteStreamController: streams.ReadableByteStreamController,
  ReadableStreamBYOBRequest: streams.ReadableStreamBYOBRequest,
  WritableStream: streams.WritableStream,
  WritableStreamDefaultWriter: streams.WritableStreamDefaultWriter,
  WritableStreamDefaultController: streams.WritableStreamDefaultController,
  TransformStream: streams.TransformStream,
  TransformStreamDefaultController: streams.TransformStreamDefaultController,
  ByteLengthQueuingStrategy: streams.ByteLengthQueuingStrategy,
  CountQueuingStrategy: streams.CountQueuingStrategy,
};

const classes = {
  DOMException,
  Event,
  EventTarget,
  CustomEvent,
  ErrorEvent,
  PromiseRejectionEvent,
  MessageEvent,
  MessageChannel,
  MessagePort,
  AbortController,
  AbortSignal,
  Headers,
  Request,
  Response,
  Blob,
  File,
  FormData,
  URL,
  URLSearchParams,
  URLPattern,
  TextEncoder,
  TextDecoder,
  TextEncoderStream,
  TextDecoderStream,
  CompressionStream,
  DecompressionStream,
  IdentityTransformStream,
  FixedLengthStream,
  Crypto,
  CryptoKey,
  SubtleCrypto,
  Navigator,
  Performance,
  PerformanceEntry,
  PerformanceMark,
  PerformanceMeasure,
  Cache,
  CacheStorage,
  HTMLRewriter,
  WebSocket,
  WebSocketPair,
  CloseEvent,
  EventSource,
  ...streamClasses,
};

// ECMAScript's, which this SpiderMonkey lacks (disposables.js): no platform classes.
const language = { DisposableStack, AsyncDisposableStack, SuppressedError };

// esbuild renames classes whose names collide in the bundle (`_Headers`, `URL5`): user code
// sees `Headers.name`, `response.constructor.name` (which some libraries test) and console.log
// output. Named back once here, before lockdown, so nothing is done per run.
for (const [name, cls] of Object.entries({ ...classes, ...language })) {
  if (cls.name !== name) Object.defineProperty(cls, 'name', { value: name, configurable: true });
}

// Registered as before: every class but DOMException and the events (Event's subclasses with it).
const EVENT_CLASSES = [DOMException, Event, EventTarget, CustomEvent, ErrorEvent, PromiseRejectionEvent, MessageEvent, CloseEvent];
registerPlatformClasses(Object.values(classes).filter((cls) => !EVENT_CLASSES.includes(cls)));

// The web platform's global functions are no constructors and have no prototype (`new atob()`
// throws); ours are declarations, renamed by esbuild (`atob3`), so each is given as a method of
// its own name that forwards to it.
function webFunction(name, impl) {
  const fn = { [name](...args) { return Reflect.apply(impl, undefined, args); } }[name];
  Object.defineProperty(fn, 'length', { value: impl.length, configurable: true });
  return fn;
}

const functions = { atob, btoa, structuredClone, reportError };
for (const [name, impl] of Object.entries(functions)) functions[name] = webFunction(name, impl);

// `origin` as workerd has it: a Worker's global has an opaque origin, which serialises as "null".
export const globals = { ...classes, ...language, ...functions, WebAssembly, navigator, caches, origin: 'null' };

export const internals = {
  configure,
  makeInspector,
  describeThrown,
  setEngineStack,
  v8Stack,
  setRandomSource,
  setCryptoHost,
  setCodecHost,
  setDigestHost,
  setRewriterWasm,
  // The run's memory limit for WebAssembly memories, as for buffers (harness/allocations.js).
  setAllocationCheck,
  // node:crypto's keys, signatures and verifications, synchronous (harness/instances.js).
  nodeKeys,
  makeCrypto,
  makePerformance,
  makeScheduler,
  makeFetch,
  incomingRequest,
  sendResponse,
  isResponse: (value) => responseInternals.is(value),
  InvalidResponse,
  DOMException,
  bytesToBinary,
  hostBytes,
  hostText,
  // For KV values (harness/bindings.js): bytes in every shape a put takes, and back as a stream.
  isBufferSource,
  copyBytes,
  readAllChunks,
  bytesStream,
  ReadableStream: streams.ReadableStream,
  // The end of a WebSocketPair returned in a 101 Response (harness/handlers.js, frames.js).
  attachSocket: socketInternals.attach,
  socketReceived: socketInternals.received,
  socketClosing: socketInternals.closing,
  socketClosed: socketInternals.closed,
  failSocket: socketInternals.fail,
};

// Instances of the shared classes hold objects of classes that are not exported (readers,
// controllers, queues, iterators, whatwg-url's implementation objects): user code reaches their
// prototypes through its own instances, so the harness hardens every prototype reachable from
// these samples once, after lockdown.
export function samples() {
  const out = [];
  out.push(new Headers([['a', '1']]).entries());
  const url = new URL('http://example.com/?a=1');
  out.push(url, url.searchParams, url.searchParams.entries(), new URLSearchParams('b=2').keys());
  const pattern = new URLPattern({ pathname: '/books/:id' });
  out.push(pattern, pattern.exec('http://example.com/books/1'));
  let defaultController;
  const plain = new streams.ReadableStream({ start(c) { defaultController = c; } });
  out.push(plain, defaultController, plain.values(), new streams.ReadableStream().getReader());
  let byteController;
  const bytes = new streams.ReadableStream({ type: 'bytes', start(c) { byteController = c; } });
  out.push(bytes, byteController, bytes.getReader({ mode: 'byob' }));
  const [left, right] = new streams.ReadableStream().tee();
  out.push(left, right);
  const writable = new streams.WritableStream();
  out.push(writable, writable.getWriter());
  const transform = new streams.TransformStream();
  out.push(transform, transform.readable, transform.writable);
  out.push(new TextEncoderStream(), new TextDecoderStream(), new TextDecoder(), new TextEncoder());
  out.push(new CompressionStream('gzip'), new DecompressionStream('deflate-raw'));
  out.push(new Request('http://example.com/', { method: 'POST', body: 'x' }), new Response('x'));
  const form = new FormData();
  form.append('a', 'b');
  out.push(new Blob(['x']), new File(['x'], 'x.txt'), form, form.entries(), new Blob(['x']).stream());
  out.push(new AbortController(), new Event('x'), new DOMException('x'));
  const channel = new MessageChannel();
  out.push(channel, channel.port1, new MessageEvent('message', { data: 1 }), new CustomEvent('x', { detail: 1 }));
  out.push(new ErrorEvent('error'), new PromiseRejectionEvent('unhandledrejection', { promise: Promise.resolve() }));
  out.push(new IdentityTransformStream(), new FixedLengthStream(1), new Crypto.prototype.DigestStream('SHA-256'));
  const pair = new WebSocketPair();
  out.push(pair, pair[0], new CloseEvent('close'));
  const crypto = makeCrypto(() => new Uint8Array(0));
  out.push(crypto, crypto.subtle, navigator, caches, caches.default, ...rewriterSamples());
  return out;
}

// The objects every run reaches that are neither globals nor prototypes: one `crypto.subtle`
// and one `caches.default` (Crypto's and CacheStorage's getters give each run the same one).
// The harness freezes them with the globals; unfrozen, a property one run added to them, or
// a method it shadowed, was there for every other.
export function singletons() {
  return [makeCrypto(() => new Uint8Array(0)).subtle, caches.default];
}
