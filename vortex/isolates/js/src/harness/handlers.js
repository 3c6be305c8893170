// A module function's runs: a request to its `fetch`, a cron tick to its `scheduled`, and the
// response sent back, whole or streamed.
import { JSON, api, host } from './platform.js';
import { socketWire } from './sockets.js';
import { describeThrown, errorLine, writeLog } from './logs.js';
import { end, fail, settleIfIdle } from './ending.js';
import { guardAlive, newState } from './state.js';
import { instanceOrFail } from './instances.js';

// The default export of the module, if it has `method`; otherwise the run has failed.
function loadHandler(state, instance, method) {
  const exports = instance.exports;
  const handler = exports ? exports.default : undefined;
  if ((typeof handler !== 'object' && typeof handler !== 'function') || handler === null || typeof handler[method] !== 'function') {
    const signature = method === 'fetch' ? 'fetch(request, env, ctx)' : method + '(event, env, ctx)';
    let message = 'The module must export a default object with a ' + method + ' method: export default { async ' + signature + ' { ... } }';
    // A cron-only Worker is valid: what is refused is reaching it by HTTP (or /execute).
    if (method === 'fetch' && handler && typeof handler.scheduled === 'function') {
      message = 'This module has a scheduled handler only: it runs on its cron schedule, and requests (and vortex run) need a fetch method too: export default { async fetch(request, env, ctx) { ... }, scheduled }';
    }
    fail(state, 'invalid_module', message);
    return undefined;
  }
  return handler;
}

// `ctx.waitUntil` of a module run, `event.waitUntil` of a service worker's: the run goes on
// until the promise settles; a rejection is logged and fails the run, not its response.
export function makeWaitUntil(state) {
  // A concise method: no .prototype object to freeze.
  return {
    waitUntil(promise) {
      guardAlive(state);
      state.waiting += 1;
      Promise.resolve(promise).then(
        () => {
          state.waiting -= 1;
          settleIfIdle(state);
        },
        (err) => {
          state.waiting -= 1;
          if (state.done) return;
          if (state.lateError === null) state.lateError = describeThrown(state, err);
          try {
            writeLog(state, 'error', 'Uncaught (in waitUntil) ' + errorLine(state, err));
          } catch (e) {
            return;
          }
          settleIfIdle(state);
        },
      );
    },
  }.waitUntil;
}

// Frozen by hand rather than hardened: harden's bookkeeping cost ~7 µs per request, and
// this object and its two methods are all there is to freeze (their prototypes are
// intrinsics, frozen by lockdown; concise methods have no .prototype).
function makeContext(state) {
  const ctx = {
    waitUntil: makeWaitUntil(state),
    passThroughOnException() {},
  };
  Object.freeze(ctx.waitUntil);
  Object.freeze(ctx.passThroughOnException);
  return Object.freeze(ctx);
}

export function runModule(id, script, limitsJson, filename, envJson, bindingsJson, instanceKey, requestJson, bodyBytes) {
  const state = newState(id, limitsJson, filename, true);
  const instance = instanceOrFail(state, instanceKey, script, envJson, bindingsJson);
  if (instance === undefined) return;
  const env = instance.env;
  const handler = loadHandler(state, instance, 'fetch');
  if (handler === undefined) return;
  const ctx = makeContext(state);
  let result;
  try {
    const request = api.incomingRequest(requestJson, bodyBytes);
    result = handler.fetch(request, env, ctx);
  } catch (err) {
    end(state, null, describeThrown(state, err));
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
    (err) => {
      if (!state.done) end(state, null, describeThrown(state, err));
    },
  );
}

// An instance made ahead of the first request, after a deploy: its top-level code runs now,
// as a run under the function's limits, and the instance is kept if that left nothing behind.
export function warmModule(id, script, limitsJson, filename, envJson, bindingsJson, instanceKey) {
  const state = newState(id, limitsJson, filename, true);
  if (instanceOrFail(state, instanceKey, script, envJson, bindingsJson) === undefined) return;
  end(state, null, null);
}

// A cron tick: `scheduled(event, env, ctx)`; the run ends once its promise and every
// waitUntil have settled. Its return value is not kept, as in Workers.
export function runScheduled(id, script, limitsJson, filename, envJson, bindingsJson, instanceKey, eventJson) {
  const state = newState(id, limitsJson, filename, true);
  const instance = instanceOrFail(state, instanceKey, script, envJson, bindingsJson);
  if (instance === undefined) return;
  const env = instance.env;
  const handler = loadHandler(state, instance, 'scheduled');
  if (handler === undefined) return;
  const tick = JSON.parse(api.hostText(eventJson));
  const event = harden({
    type: 'scheduled',
    cron: String(tick.cron),
    scheduledTime: Number(tick.scheduledTime),
    noRetry() {},
  });
  let result;
  try {
    result = handler.scheduled(event, env, makeContext(state));
  } catch (err) {
    end(state, null, describeThrown(state, err));
    return;
  }
  Promise.resolve(result).then(
    () => {
      state.responded = true;
      settleIfIdle(state);
    },
    (err) => {
      if (!state.done) end(state, null, describeThrown(state, err));
    },
  );
}

const NOT_ON_THE_LISTENER = 1;

function refusal(code) {
  if (code === NOT_ON_THE_LISTENER) {
    return 'A WebSocket can only be accepted on the functions listener (http://NAME.localhost:8787/), not through /execute';
  }
  return 'A 101 Response with a webSocket answers only a WebSocket handshake: a GET request with Upgrade: websocket';
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
      if (state.done || host.chunk(state.id, binary) !== true) return undefined;
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
