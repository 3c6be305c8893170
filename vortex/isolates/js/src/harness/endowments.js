// What a run's compartment is given: console, timers, Vortex, fetch, performance, its own
// Math and Date, and the shared global it inherits the web APIs from.
import { Date, JSON, LimitError, Math, api, host } from './platform.js';
import { describeThrown } from './logs.js';
import { end, fail, settleIfIdle, settleLater } from './ending.js';
import { elapsed, guardAlive } from './state.js';
import { bindingError, makeKv } from './bindings.js';
import { makeAssets } from './assets.js';
import { makeR2 } from './r2.js';
import { makeD1 } from './d1.js';
import { makeService } from './services.js';
import { mathForRun, osRandom } from './random.js';
import { sharedGlobal } from './sharedglobal.js';
import { markEndowments } from './boot.js';
import { guardEvaluators } from './evaluators.js';

// Endowments take `live`, which answers the state of the run they act for, or throws if it
// has ended: the run they were made for (a script), or the run whose turn it is (a warm
// module instance, shared by the runs of one function version).
export function boundTo(state) {
  return () => {
    guardAlive(state);
    return state;
  };
}

// Timers pending and messages posted to a MessagePort and not yet delivered (each is a task of
// its own) share the run's timer limit: either could otherwise pile up work without end.
export function checkTimerRoom(state) {
  if (state.timers.size + state.deliveries >= state.limits.timers) {
    const text = 'Too many pending timers and port messages (limit ' + state.limits.timers + ' per run)';
    fail(state, 'timer_limit_exceeded', text);
    throw new LimitError(text);
  }
}

// `context`: the async context of a function that imports node:async_hooks (asynccontext.js),
// or null. A timer's callback then runs in the frame of the code that set the timer.
export function makeTimers(live, context = null) {
  function schedule(callback, ms, args, repeat) {
    const state = live();
    if (typeof callback !== 'function') {
      throw new TypeError('The "callback" argument must be of type function');
    }
    checkTimerRoom(state);
    if (context !== null) callback = inFrameOf(context, callback);
    const delay = Math.min(Math.max(Number(ms) || 0, 0), 2147483647);
    const id = state.nextTimer;
    state.nextTimer += 1;
    const fire = () => {
      if (state.done || !state.timers.has(id)) return;
      if (repeat) state.timers.set(id, host.setTimer(fire, Math.max(delay, 1)));
      else state.timers.delete(id);
      try {
        callback(...args);
      } catch (err) {
        if (!state.done) end(state, null, describeThrown(state, err));
        return;
      }
      // Not at once: what the callback awaited or chained runs before the run may end. A
      // module run ends by its response, waitUntil promises and calls, each of which checks
      // for itself, so a timer changes nothing there: no check (a timer and a turn less).
      if (!state.module) settleLater(state);
    };
    state.timers.set(id, host.setTimer(fire, delay));
    return id;
  }
  function clear(id) {
    let state;
    try {
      state = live();
    } catch (err) {
      return; // the run has ended: its timers are gone
    }
    const handle = state.timers.get(id);
    if (handle === undefined) return;
    host.clearTimer(handle);
    state.timers.delete(id);
    // Cleared from a callback (or a promise reaction), the rest of it still runs: the run
    // may end only after it.
    if (!state.module) settleLater(state);
  }
  return {
    setTimeout: (callback, ms, ...args) => schedule(callback, ms, args, false),
    setInterval: (callback, ms, ...args) => schedule(callback, ms, args, true),
    // Arrows, named by their keys: Workers' timer functions are no constructors.
    clearTimeout: (id) => clear(id),
    clearInterval: (id) => clear(id),
    // Workers' scheduler.wait: its promise is settled by a timer of setTimeout's kind.
    scheduler: api.makeScheduler((callback, ms) => schedule(callback, ms, [], false), clear),
  };
}

export function makeVortex(live, env) {
  return {
    kv: env.KV,
    return(value) {
      const state = live();
      let text;
      try {
        text = JSON.stringify(value === undefined ? null : value);
      } catch (err) {
        const message = 'Vortex.return needs a JSON-serialisable value: ' + String(err && err.message);
        fail(state, 'invalid_return_value', message);
        throw new LimitError(message);
      }
      if (text === undefined) {
        const message = 'Vortex.return needs a JSON-serialisable value, got ' + typeof value;
        fail(state, 'invalid_return_value', message);
        throw new LimitError(message);
      }
      if (text.length > state.limits.output_bytes) {
        const message = 'The return value is larger than ' + state.limits.output_bytes + ' bytes';
        fail(state, 'output_too_large', message);
        throw new LimitError(message);
      }
      state.returned = true;
      state.outputJson = text;
      settleIfIdle(state);
    },
    env,
  };
}

// What a compartment that outlives one run gets instead of the shared per-run getters, which
// cache their value on the global for the run that first read it: fetch, crypto, performance
// and queueMicrotask that act for the run `live` answers at each call.
// With an async `context` (asynccontext.js), a microtask runs in the frame that queued it, and
// fetch's promise is the compartment's Promise, whose `then` carries the frame.
export function lastingEndowments(live, context = null) {
  return {
    queueMicrotask: makeQueueMicrotask(live, context),
    fetch(input, init) {
      const response = fetcherOf(live()).fetch(input, init);
      return context === null ? response : context.Promise.resolve(response);
    },
    performance: api.makePerformance({
      timeOrigin: () => live().timeOrigin,
      now: () => elapsed(live()),
      entries: () => timingsOf(live()),
    }),
    crypto: api.makeCrypto((n) => {
      live();
      return osRandom(n);
    }),
  };
}

// The run's fetch machinery, made at its first use (a fetch(), or a service binding's fetch).
export function fetcherOf(state) {
  if (state.fetcher === null) state.fetcher = makeFetch(state);
  return state.fetcher;
}

function makeFetch(state) {
  return api.makeFetch({
    start(fid, metaJson, bodyBinary) {
      host.fetch(state.id, fid, metaJson, bodyBinary);
    },
    cancel(fid) {
      host.fetchAbort(state.id, fid);
      if (!state.module) settleLater(state);
    },
    pull(fid, size) {
      host.fetchPull(state.id, fid, size);
    },
    check() {
      guardAlive(state);
    },
    refused: bindingError,
  });
}

// `callback` run in the async frame current now, whenever it is called.
function inFrameOf(context, callback) {
  const frame = context.current();
  return (...args) => context.runIn(frame, callback, undefined, args);
}

export function makeQueueMicrotask(live, context = null) {
  // A method: no constructor, as the platform's functions are not.
  return {
    queueMicrotask(callback) {
      const state = live();
      if (typeof callback !== 'function') {
        throw new TypeError("Failed to execute 'queueMicrotask': parameter 1 is not of type 'Function'.");
      }
      if (context !== null) callback = inFrameOf(context, callback);
      Promise.resolve().then(() => {
        if (state.done) return;
        try {
          callback();
        } catch (err) {
          if (!state.done) end(state, null, describeThrown(state, err));
        }
      });
    },
  }.queueMicrotask;
}

// A run's marks and measures, made on the first mark.
function timingsOf(state) {
  if (state.timings === null) state.timings = [];
  return state.timings;
}

export function makePerformance(state) {
  return api.makePerformance({
    timeOrigin: () => state.timeOrigin,
    now: () => elapsed(state),
    entries: () => {
      guardAlive(state);
      return timingsOf(state);
    },
  });
}

export function makeEnv(live, envJson, bindingsJson) {
  const env = JSON.parse(envJson);
  const out = {};
  for (const key of Object.keys(env)) out[key] = String(env[key]);
  const bindings = JSON.parse(bindingsJson);
  // The binding wins over a variable of the same name: `KV` is reserved (docs/kv.md). Not
  // enumerable: Object.keys(env) and JSON.stringify(env) show the variables only.
  if (bindings.kv) {
    Object.defineProperty(out, 'KV', { value: makeKv(live, bindings.kv), enumerable: false });
  }
  if (bindings.assets) {
    Object.defineProperty(out, bindings.assets.name, { value: makeAssets(live), enumerable: false });
  }
  // R2 buckets, keyed "r2:NAME" (vortex/r2/binding.py): env.NAME, as Workers binds them.
  for (const key of Object.keys(bindings)) {
    if (!key.startsWith('r2:')) continue;
    const name = key.slice(3);
    Object.defineProperty(out, name, { value: makeR2(live, name, bindings[key]), enumerable: false });
  }
  // D1 databases, keyed "d1:NAME" (vortex/d1/binding.py): env.NAME.
  for (const key of Object.keys(bindings)) {
    if (!key.startsWith('d1:')) continue;
    const name = key.slice(3);
    Object.defineProperty(out, name, { value: makeD1(live, name), enumerable: false });
  }
  // Service bindings, keyed "service:NAME" (vortex/services/binding.py). KV, ASSETS and the R2
  // buckets, defined above for good, win over a service of their name: a version that kept its
  // services while another binding took that name must still make its env.
  for (const key of Object.keys(bindings)) {
    if (!key.startsWith('service:')) continue;
    const describe = bindings[key];
    if (!Object.prototype.hasOwnProperty.call(out, describe.name) || Object.getOwnPropertyDescriptor(out, describe.name).enumerable) {
      Object.defineProperty(out, describe.name, { value: makeService(live, key, describe, fetcherOf), enumerable: false });
    }
  }
  return harden(out);
}

// The ECMAScript globals that no code a Worker runs replaces: made non-writable and
// non-configurable on each compartment's global before its first evaluation, so that SES's
// evaluator binds them as constants. Any other name the code reads is looked up through the
// four `with` scopes of SES's evaluator at every read: `Math.max(i, 1)` cost ~350 ns there,
// ~10 ns as a constant (30x in a loop of 100,000). Promise, Map, Set, WeakMap, WeakSet and
// Symbol stay writable: polyfills (core-js, es6-shim) replace them, and an assignment to a
// constant global throws in strict code. The web globals (fetch, Response...) stay writable
// for the same reason: instrumentation wraps `globalThis.fetch`.
const CONSTANT_GLOBALS = [
  'Object', 'Function', 'Array', 'String', 'Number', 'Boolean', 'BigInt', 'Math', 'JSON', 'Reflect',
  'Date', 'RegExp', 'Error', 'TypeError', 'RangeError', 'SyntaxError', 'ReferenceError', 'EvalError',
  'URIError', 'AggregateError', 'ArrayBuffer', 'DataView', 'Int8Array', 'Uint8Array',
  'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Int32Array', 'Uint32Array', 'BigInt64Array',
  'BigUint64Array', 'Float32Array', 'Float64Array', 'parseInt', 'parseFloat', 'isNaN', 'isFinite',
  'encodeURIComponent', 'decodeURIComponent', 'encodeURI', 'decodeURI', 'escape', 'unescape',
];

function bindConstants(global) {
  for (const name of CONSTANT_GLOBALS) {
    const descriptor = Object.getOwnPropertyDescriptor(global, name);
    if (descriptor === undefined || !('value' in descriptor) || !descriptor.configurable) continue;
    Object.defineProperty(global, name, { value: descriptor.value, writable: false, enumerable: false, configurable: false });
  }
}

// Date and Math are own properties: a compartment has tamed ones of its own to replace.
export function compartmentFor(globals) {
  markEndowments(Object.values(globals));
  const compartment = new Compartment({ __options__: true, globals: harden({ ...globals, Date, Math: mathForRun() }) });
  Object.setPrototypeOf(compartment.globalThis, sharedGlobal);
  guardEvaluators(compartment.globalThis);
  bindConstants(compartment.globalThis);
  // Workers code reaches the global as `self` too.
  Object.defineProperty(compartment.globalThis, 'self', {
    value: compartment.globalThis,
    writable: true,
    configurable: true,
  });
  return compartment;
}
