// What the harness needs to move HTTP between the wire and the web classes: the request a
// function's fetch handler gets, the serialisation of the Response it returns (inline bytes or
// streamed chunks), and the outbound fetch() of one run. Bytes from the host arrive as bytearrays
// (see hostBytes); bytes to the host leave as binary strings.
import { ReadableStream } from 'web-streams-polyfill';
import { AbortSignal } from './abort.js';
import { BodyState, bodyUsed, consumeBody, takeKnownBytes } from './body.js';
import { fixedLengthOf } from './bytestreams.js';
import { headersInternals } from './headers.js';
import { Request, requestInternals } from './request.js';
import { Response, responseInternals } from './response.js';
import { URL } from 'whatwg-url';
import { bytesToBinary, chunkBytes, hostBytes, hostText } from './util.js';
import { socketInternals } from './websocket.js';

// Bodies up to this size go in the response frame itself; larger ones go as chunks.
const INLINE_BYTES = 1 << 20;

export class InvalidResponse extends Error {}

function hostBody(view) {
  const bytes = hostBytes(view);
  return bytes === null ? null : new BodyState(bytes, null);
}

// The request a fetch handler gets: immutable headers, as in Workers.
export function incomingRequest(metaJson, bodyBytes) {
  const meta = JSON.parse(hostText(metaJson));
  return requestInternals.create({
    method: meta.method,
    url: meta.url,
    headers: meta.headers,
    body: hostBody(bodyBytes),
    signal: null,
    protocol: meta.protocol,
  });
}

function describeValue(value) {
  if (value === null) return 'null';
  if (typeof value !== 'object') return typeof value;
  const proto = Object.getPrototypeOf(value);
  const ctor = proto && Object.prototype.hasOwnProperty.call(proto, 'constructor') ? proto.constructor : null;
  return typeof ctor === 'function' && ctor.name ? `a ${ctor.name}` : 'an object';
}

// Sends `response` through `sink` ({head(json, binary|null, streaming), chunk(binary), end(errorText|null)}).
// Throws InvalidResponse when `response` cannot be sent at all (nothing was sent then). A body
// held as bytes is sent at once and nothing is returned: every promise hop costs a turn of the
// host's event loop, so the common case takes none. A stream returns the promise of its end.
export function sendResponse(response, sink, limit) {
  if (!responseInternals.is(response)) {
    throw new InvalidResponse(`The fetch handler must return a Response (or a promise of one), got ${describeValue(response)}`);
  }
  const { status, statusText, headers, body, webSocket, encodeBody } = responseInternals.parts(response);
  if (status === 0) throw new InvalidResponse('The fetch handler returned Response.error()');
  const manual = encodeBody === 'manual' ? true : undefined;
  // `length` (left out when undefined): a body sent in parts whose length is known.
  const headWith = (length) => JSON.stringify({ status, statusText, headers: headersInternals.list(headers), length, manual });
  const head = headWith(undefined);
  if (webSocket !== null) {
    const problem = socketInternals.attachable(webSocket);
    if (problem !== null) throw new InvalidResponse(problem);
    sink.upgrade(head, webSocket);
    return undefined;
  }
  if (body === null) {
    sink.head(head, null, false);
    return undefined;
  }
  if (bodyUsed(body) || (body.stream !== null && body.stream.locked)) {
    throw new InvalidResponse('The body of the returned Response has already been used');
  }
  const known = takeKnownBytes(body);
  if (body.stream === null || known !== null) {
    body.used = true;
    const bytes = known !== null ? known : body.bytes;
    if (bytes.length > limit) throw new InvalidResponse(`The response body is larger than ${limit} bytes`);
    if (bytes.length <= INLINE_BYTES) {
      sink.head(head, bytesToBinary(bytes), false);
      return undefined;
    }
    // Sent in parts, but its length is known: stated, as workerd does, not chunked.
    sink.head(headWith(bytes.length), null, true);
    return sendChunks(bytes, sink, 0);
  }
  // The readable side of a FixedLengthStream goes with its Content-Length, as in Workers.
  const fixed = fixedLengthOf(body.stream);
  if (fixed === undefined) {
    sink.head(head, null, true);
    return streamBody(body.stream, sink, limit, undefined);
  }
  if (fixed > limit) throw new InvalidResponse(`The response body is larger than ${limit} bytes`);
  sink.head(headWith(fixed), null, true);
  return streamBody(body.stream, sink, limit, fixed);
}

// `sink.chunk` returns a promise when the client is not reading fast enough (the connection's
// buffer is full): the rest waits for it, so a slow reader holds one buffer, not the whole body.
function sendChunks(bytes, sink, from) {
  for (let i = from; i < bytes.length; i += INLINE_BYTES) {
    const drained = sink.chunk(bytesToBinary(bytes.subarray(i, i + INLINE_BYTES)));
    if (drained) return drained.then(() => sendChunks(bytes, sink, i + INLINE_BYTES));
  }
  sink.end(null);
  return undefined;
}

// `fixed`: the length the head stated, which the body must have exactly (the stream enforces it
// already; a connection whose body does not match its Content-Length is cut instead).
async function streamBody(stream, sink, limit, fixed) {
  const reader = stream.getReader();
  let total = 0;
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      let bytes;
      try {
        bytes = chunkBytes(value, 'A response body stream');
      } catch {
        const described = describeValue(value);
        // A Proxy of a Uint8Array describes itself as one.
        const got = described === 'a Uint8Array' ? 'an object that only looks like one' : described;
        throw new TypeError(`A response body stream must produce Uint8Array chunks, got ${got}`);
      }
      total += bytes.length;
      if (total > limit) throw new RangeError(`The response body is larger than ${limit} bytes`);
      if (fixed !== undefined && total > fixed) throw new TypeError('The response body is longer than its FixedLengthStream');
      const drained = bytes.length ? sink.chunk(bytesToBinary(bytes)) : undefined;
      if (drained) await drained;
    }
    if (fixed !== undefined && total !== fixed) throw new TypeError('The response body is shorter than its FixedLengthStream');
  } catch (error) {
    reader.cancel(error).catch(() => {});
    sink.end(String((error && error.message) || error));
    throw error;
  }
  sink.end(null);
}

// Bytes of a fetched body the host holds for the run's stream before its reader asks: what the
// host says it read (channel.pull) before the queue runs dry, so the next bytes are on their way
// while the run reads these. The supervisor sends no more than its window ahead of that.
const FETCHED_AHEAD = 512 << 10;

// One run's fetch(). `channel` = {start(fid, metaJson, bodyBinary|null), cancel(fid),
// pull(fid, size), check(), refused(code, message)}. Answers come back through deliver(), and
// a body that streams through chunk() and end(); what is pending when the run ends is simply
// dropped (the supervisor closes the connections). `fetchService(key, input, init)` is a
// service binding's fetch (`key` the binding's), sent to the function it names rather than
// the network; a refusal of one is the error channel.refused makes, as for the binding's other
// calls. Only the harness has it: the run's global fetch takes no key.
export function makeFetch(channel) {
  const pending = new Map();
  const bodies = new Map();
  let next = 1;

  // An arrow, as the async function it was: not a constructor, no prototype, length 1.
  const fetch = (input, init = undefined) => send(input, init, undefined);

  async function send(input, init, service) {
    channel.check();
    const request = new Request(input, init);
    const upgrade = request.headers.get('upgrade');
    if (upgrade !== null && upgrade.toLowerCase().includes('websocket')) {
      throw new TypeError('fetch() cannot open a WebSocket: outbound WebSockets (Upgrade: websocket) are not supported by Vortex');
    }
    const { signal } = request;
    signal.throwIfAborted();
    const url = new URL(request.url);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`fetch: the scheme of ${url.protocol.slice(0, -1)} URLs is not supported (only http and https)`);
    }
    url.hash = '';
    const state = requestInternals.body(request);
    const bytes = state === null ? null : await consumeBody(state);
    signal.throwIfAborted();
    channel.check();
    const fid = next;
    next += 1;
    const meta = JSON.stringify({
      method: request.method,
      url: url.href,
      headers: headersInternals.list(request.headers),
      redirect: request.redirect,
      service,
    });
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        if (!pending.delete(fid)) return;
        channel.cancel(fid);
        reject(signal.reason);
      };
      pending.set(fid, { resolve, reject, signal, onAbort, head: request.method === 'HEAD' });
      signal.addEventListener('abort', onAbort, { once: true });
      channel.start(fid, meta, bytes === null ? null : bytesToBinary(bytes));
    });
  }

  function deliver(fid, resultJson, bodyBytes) {
    const entry = pending.get(fid);
    if (!entry) return;
    pending.delete(fid);
    const result = JSON.parse(hostText(resultJson));
    if (result.error) {
      entry.signal.removeEventListener('abort', entry.onAbort);
      entry.reject(result.code ? channel.refused(result.code, result.error) : new TypeError(result.error));
      return;
    }
    let body;
    if (entry.head) {
      // The answer to a HEAD has no body, whatever its length says.
      entry.signal.removeEventListener('abort', entry.onAbort);
      if (result.stream) channel.cancel(fid);
      body = null;
    } else if (result.stream) {
      body = new BodyState(null, streamedBody(fid, hostBytes(bodyBytes), entry));
    } else {
      entry.signal.removeEventListener('abort', entry.onAbort);
      body = hostBody(bodyBytes);
    }
    entry.resolve(
      responseInternals.fetched({
        status: result.status,
        statusText: result.statusText,
        headers: result.headers,
        body,
        url: result.url,
        redirected: result.redirected,
      }),
    );
  }

  // The body of fetch `fid` as the supervisor sends it, `first` the bytes that came with the
  // head. The fetch's signal still aborts it (the stream errors with its reason, as in Workers).
  function streamedBody(fid, first, entry) {
    const flow = { controller: null, given: 0, stream: null, signal: entry.signal, onAbort: null };
    const stream = new ReadableStream(
      {
        type: 'bytes',
        start(controller) {
          flow.controller = controller;
          if (first !== null && first.length) {
            controller.enqueue(first);
            flow.given = first.length;
          }
        },
        pull(controller) {
          const read = flow.given - (FETCHED_AHEAD - controller.desiredSize);
          if (read > 0 && bodies.has(fid)) {
            flow.given -= read;
            channel.pull(fid, read);
          }
        },
        cancel() {
          if (drop(fid)) channel.cancel(fid);
        },
      },
      { highWaterMark: FETCHED_AHEAD },
    );
    flow.stream = stream;
    flow.onAbort = () => {
      if (!drop(fid)) return;
      channel.cancel(fid);
      flow.controller.error(entry.signal.reason);
    };
    entry.signal.removeEventListener('abort', entry.onAbort);
    entry.signal.addEventListener('abort', flow.onAbort, { once: true });
    bodies.set(fid, flow);
    return stream;
  }

  function drop(fid) {
    const flow = bodies.get(fid);
    if (flow === undefined) return false;
    bodies.delete(fid);
    flow.signal.removeEventListener('abort', flow.onAbort);
    return true;
  }

  function chunk(fid, bytes) {
    const flow = bodies.get(fid);
    if (flow === undefined) return;
    const data = hostBytes(bytes);
    flow.given += data.length;
    flow.controller.enqueue(data);
  }

  function end(fid, error) {
    const flow = bodies.get(fid);
    if (flow === undefined) return;
    drop(fid);
    if (error === null || error === undefined) flow.controller.close();
    else flow.controller.error(new TypeError(String(error)));
  }

  // What keeps a script alive: fetches without their answer yet, and bodies being read (a body
  // nobody reads is not waited for).
  function waitedFor() {
    let reading = 0;
    for (const flow of bodies.values()) if (flow.stream.locked) reading += 1;
    return pending.size + reading;
  }

  const fetchService = (key, input, init) => send(input, init, key);
  return { fetch, fetchService, deliver, chunk, end, pending: waitedFor };
}

export { Response, AbortSignal };
