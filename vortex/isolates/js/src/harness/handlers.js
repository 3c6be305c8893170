// A module function's runs: a request to its `fetch`, a cron tick to its `scheduled`, and the
// response sent back, whole or streamed.
import { JSON, api, host } from './platform.js';
import { socketWire } from './sockets.js';
import { describeThrown } from './logs.js';
import { end, fail, handlerFailed, settleIfIdle } from './ending.js';
import { newState } from './state.js';
import { afterTopLevel, entryExport, instanceOrFail } from './instances.js';
import { makeContext } from './context.js';

// How the default export serves `method`. OBJECT: it has the method, its own or inherited
// (`export default { fetch }`), called as `handler.fetch(request, env, ctx)`. CLASS: a class
// whose prototype has it (`export default class extends WorkerEntrypoint`): each run makes an
// instance, `new Cls(ctx, env)`, and calls its method with the request (or the controller)
// alone, as workerd does. NONE: the run fails.
const NONE = 0;
const OBJECT = 1;
const CLASS = 2;

function shapeOf(handler, method) {
  // The object form first and with nothing more than before: it is the hello-world hot path.
  if (typeof handler === 'object') return handler !== null && typeof handler[method] === 'function' ? OBJECT : NONE;
  if (typeof handler !== 'function') return NONE;
  if (typeof handler[method] === 'function') return OBJECT;
  const prototype = handler.prototype;
  return typeof prototype === 'object' && prototype !== null && typeof prototype[method] === 'function' ? CLASS : NONE;
}

function defaultExport(instance) {
  const exports = instance.exports;
  return exports ? exports.default : undefined;
}

// The shape, or NONE once the run has failed: the default export does not serve `method`, or
// looking threw (a Proxy's trap, a getter), which would otherwise escape the run and leave it
// hanging until its wall limit.
function servingShape(state, handler, method) {
  try {
    const shape = shapeOf(handler, method);
    if (shape === NONE) refuse(state, handler, method);
    return shape;
  } catch (err) {
    end(state, null, describeThrown(state, err));
    return NONE;
  }
}

// A service binding's named entrypoint (`entrypoint`), as servingShape does for the default
// export: [export, shape], the shape NONE once the run has failed.
function entrypointShape(state, instance, entrypoint, method) {
  let handler;
  try {
    handler = entryExport(instance, entrypoint);
    if (handler === undefined) {
      fail(state, 'entrypoint_not_found', 'The module has no export named ' + entrypoint + ', the entrypoint its service binding names: export class ' + entrypoint + ' extends WorkerEntrypoint { ... } (from "cloudflare:workers")');
      return [handler, NONE];
    }
    const shape = shapeOf(handler, method);
    if (shape === NONE) fail(state, 'invalid_module', 'The export ' + entrypoint + ' has no ' + method + ' method: export class ' + entrypoint + ' extends WorkerEntrypoint { async ' + method + '(request) { ... } }');
    return [handler, shape];
  } catch (err) {
    end(state, null, describeThrown(state, err));
    return [handler, NONE];
  }
}

// The run fails: the default export does not serve `method`. Both shapes are said.
function refuse(state, handler, method) {
  let message;
  if (method === 'fetch' && shapeOf(handler, 'scheduled') !== NONE) {
    // A cron-only Worker is valid: what is refused is reaching it by HTTP (or /execute).
    message =
      'This module has a scheduled handler only: it runs on its cron schedule, and requests (and vortex run) need a fetch method too: export default { async fetch(request, env, ctx) { ... }, scheduled }, or a fetch(request) method in its class';
  } else {
    const signature = method === 'fetch' ? 'fetch(request, env, ctx)' : method + '(event, env, ctx)';
    const classSignature = method === 'fetch' ? 'fetch(request)' : method + '(controller)';
    message =
      'The module must export a default object with a ' + method + ' method, or a class with one: export default { async ' + signature + ' { ... } }, or export default class extends WorkerEntrypoint { async ' + classSignature + ' { ... } } (WorkerEntrypoint from "cloudflare:workers", this.env and this.ctx set)';
  }
  fail(state, 'invalid_module', message);
}

// `entrypoint`: a service binding's named entrypoint serves the request, not the default export
// (undefined or null: the default, as the listener's requests are); `propsJson`: the binding's
// props, the run's ctx.props.
export function runModule(id, script, limitsJson, filename, envJson, bindingsJson, instanceKey, requestJson, bodyBytes, entrypoint, propsJson) {
  const state = newState(id, limitsJson, filename, true);
  if (propsJson != null) state.props = JSON.parse(api.hostText(propsJson));
  const instance = instanceOrFail(state, instanceKey, script, envJson, bindingsJson);
  if (instance === undefined) return;
  if (state.topLevelJobs) afterTopLevel(state, () => serveFetch(state, instance, requestJson, bodyBytes, entrypoint));
  else serveFetch(state, instance, requestJson, bodyBytes, entrypoint);
}

function serveFetch(state, instance, requestJson, bodyBytes, entrypoint) {
  const env = instance.env;
  let handler, shape;
  if (entrypoint == null) {
    handler = defaultExport(instance);
    shape = servingShape(state, handler, 'fetch');
  } else {
    [handler, shape] = entrypointShape(state, instance, entrypoint, 'fetch');
  }
  if (shape === NONE) return;
  const ctx = makeContext(state);
  let result;
  try {
    const request = api.incomingRequest(requestJson, bodyBytes);
    result = shape === OBJECT ? handler.fetch(request, env, ctx) : new handler(ctx, env).fetch(request);
  } catch (err) {
    thrown(state, err);
    return;
  }
  if (api.isResponse(result)) {
    // A handler that answers at once: no promise hop, each of which costs a turn of the
    // host's event loop (~10 µs, a twentieth of a hello-world request).
    respond(state, result);
    return;
  }
  Promise.resolve(result).then(
    (response) => respond(state, response),
    (err) => thrown(state, err),
  );
}

// The fetch handler threw or rejected: answered now, its waitUntil work goes on (ending.js).
function thrown(state, err) {
  if (!state.done) handlerFailed(state, describeThrown(state, err), true);
}

// The scheduled handler threw or rejected: its waitUntil work goes on, and the tick's outcome
// is known when it settles, as in workerd.
function tickFailed(state, err) {
  if (!state.done) handlerFailed(state, describeThrown(state, err), false);
}

// An instance made ahead of the first request, after a deploy: its top-level code runs now,
// as a run under the function's limits, and the instance is kept if that left nothing behind.
// The promise jobs the top level queued (an init chain, a bundled import()) run first: a run's
// jobs are dropped when it ends, and an instance kept with them undone awaited a promise that
// never settles.
export function warmModule(id, script, limitsJson, filename, envJson, bindingsJson, instanceKey) {
  const state = newState(id, limitsJson, filename, true);
  if (instanceOrFail(state, instanceKey, script, envJson, bindingsJson) === undefined) return;
  afterTopLevel(state, () => end(state, null, null));
}

// A cron tick: `scheduled(event, env, ctx)` (a class's `scheduled(controller)`); the run ends
// once its promise and every waitUntil have settled. Its return value is not kept, as in
// Workers.
export function runScheduled(id, script, limitsJson, filename, envJson, bindingsJson, instanceKey, eventJson) {
  const state = newState(id, limitsJson, filename, true);
  const instance = instanceOrFail(state, instanceKey, script, envJson, bindingsJson);
  if (instance === undefined) return;
  afterTopLevel(state, () => serveScheduled(state, instance, eventJson));
}

function serveScheduled(state, instance, eventJson) {
  const env = instance.env;
  const handler = defaultExport(instance);
  const shape = servingShape(state, handler, 'scheduled');
  if (shape === NONE) return;
  const tick = JSON.parse(api.hostText(eventJson));
  const event = harden({
    type: 'scheduled',
    cron: String(tick.cron),
    scheduledTime: Number(tick.scheduledTime),
    noRetry() {},
  });
  const ctx = makeContext(state);
  let result;
  try {
    result = shape === OBJECT ? handler.scheduled(event, env, ctx) : new handler(ctx, env).scheduled(event);
  } catch (err) {
    tickFailed(state, err);
    return;
  }
  Promise.resolve(result).then(
    () => {
      state.responded = true;
      settleIfIdle(state);
    },
    (err) => tickFailed(state, err),
  );
}

const NOT_ON_THE_LISTENER = 1;

function refusal(code) {
  if (code === NOT_ON_THE_LISTENER) {
    return 'A WebSocket can only be accepted on the functions listener (http://NAME.localhost:8787/), not through /execute';
  }
  return 'A 101 Response with a webSocket answers only a WebSocket handshake: a GET request with Upgrade: websocket';
}

// What Host.chunk (bridge.py) answers: sent, wait for the client to drain, the client has
// gone, or the run's reader through the supervisor (a service binding's caller) gave up on the
// body. Either of the last two cancels the body's stream (exchange.js streamBody), so that what
// feeds it (a passed-through fetch, its origin's connection) stops too.
const CHUNK_FULL = 1;
const CHUNK_GONE = 2;
const CHUNK_UNREAD = 3;
// The reason the body's stream is cancelled with: made in the run (its stack is the run's), and
// known again when the send fails with it.
const goneReasons = new WeakSet();

function unread(said) {
  const reason = new Error(said === CHUNK_GONE ? 'The client closed the connection' : 'Nobody reads the response body any more');
  goneReasons.add(reason);
  return reason;
}

export function respond(state, response) {
  if (state.done) return;
  let headSent = false;
  const sink = {
    head(headJson, bodyBinary, streaming) {
      if (state.done) return;
      headSent = true;
      host.respond(state.id, headJson, bodyBinary, streaming);
    },
    chunk(binary) {
      if (state.done) return undefined;
      const said = host.chunk(state.id, binary);
      if (said === CHUNK_GONE || said === CHUNK_UNREAD) throw unread(said);
      if (said !== CHUNK_FULL) return undefined;
      return new Promise((resolve) => {
        state.drain = resolve;
      });
    },
    end(errorText) {
      if (!state.done) host.bodyEnd(state.id, errorText);
    },
    // A 101 with the end of a WebSocketPair: the host writes the handshake's answer and the
    // run goes on until the socket closes (sockets.js).
    upgrade(headJson, socket) {
      if (state.done) return;
      const refused = host.wsAccept(state.id, headJson);
      if (refused !== 0) throw new api.InvalidResponse(refusal(refused));
      headSent = true;
      state.socket = socket;
      state.socketOpen = true;
      api.attachSocket(socket, socketWire(state));
    },
  };
  const failed = (err) => {
    if (state.done) return;
    if (typeof err === 'object' && err !== null && goneReasons.has(err)) {
      // Not the function's failure: its body was cancelled because nobody reads it any more.
      sent();
      return;
    }
    if (!headSent) {
      if (err instanceof api.InvalidResponse) fail(state, 'invalid_response', err.message);
      else end(state, null, describeThrown(state, err));
      return;
    }
    // The status was sent already; the body broke off. The run fails, the client sees a cut.
    state.responded = true;
    if (state.lateError === null) state.lateError = describeThrown(state, err);
    settleIfIdle(state);
  };
  const sent = () => {
    state.responded = true;
    settleIfIdle(state);
  };
  let streaming;
  try {
    streaming = api.sendResponse(response, sink, state.limits.response_bytes);
  } catch (err) {
    failed(err);
    return;
  }
  if (streaming === undefined) sent();
  else streaming.then(sent, failed);
}
