// Scripts in Workers' service-worker syntax: `addEventListener('fetch', (event) => ...)` and
// `addEventListener('scheduled', ...)` at the top level, bindings as globals.
//
// The server sends a script here (not to script.js) when its source calls addEventListener with
// 'fetch' or 'scheduled' (vortex/serviceworker.py); what it does at its top level decides the
// rest. Having registered such a listener without calling Vortex.return, it is a service
// worker: the run's event (a request or a cron tick) is dispatched to its listeners, and its
// instance (its Compartment, with the listeners and whatever the top level made) is kept like a
// module's and serves the next events of that version, so the top level runs once per instance.
// Otherwise it ends as script.js would end it. So that an instance can outlive the run that
// made it, everything its compartment is given acts for the run that the instance serves now.
import { JSON, WRAP_PREFIX, api, host } from './platform.js';
import { describeThrown, errorLine, makeConsole, writeLog } from './logs.js';
import { end, fail, handlerFailed, settleIfIdle, settleLater } from './ending.js';
import { compartmentFor, lastingEndowments, makeEnv, makeTimers, makeVortex } from './endowments.js';
import { guardAlive, newState } from './state.js';
import { afterTopLevel, takeIdle } from './instances.js';
import { respond } from './handlers.js';
import { makeWaitUntil } from './waituntil.js';

const NO_EVENT_LISTENER = 'no_event_listener';
const NO_RESPONSE = 'no_response';
const RESPOND_EXAMPLE = "addEventListener('fetch', (event) => event.respondWith(handle(event.request)))";

// The listeners of one instance's global, in the order they were added (EventTarget's rules:
// a callback is added once per type, `once` removes it before it is called).
function makeRegistry() {
  const byType = new Map();
  const drop = (type, callback) => {
    const list = byType.get(type);
    if (list === undefined) return;
    const at = list.findIndex((entry) => entry.callback === callback);
    if (at < 0) return;
    list[at].removed = true;
    list.splice(at, 1);
    if (list.length === 0) byType.delete(type);
  };
  const methods = {
    addEventListener(type, callback, options) {
      if (callback === null || callback === undefined) return;
      if (typeof callback !== 'function' && typeof callback !== 'object') {
        throw new TypeError("Failed to execute 'addEventListener': parameter 2 is not of type 'EventListener'.");
      }
      const name = String(type);
      const once = typeof options === 'object' && options !== null && Boolean(options.once);
      const list = byType.get(name) || [];
      if (list.some((entry) => entry.callback === callback)) return;
      list.push({ callback, once, removed: false });
      byType.set(name, list);
    },
    removeEventListener(type, callback) {
      drop(String(type), callback);
    },
  };
  return {
    methods,
    drop,
    of: (type) => (byType.has(type) ? byType.get(type).slice() : []),
    serves: () => byType.has('fetch') || byType.has('scheduled'),
  };
}

function newWorker(state, instanceKey, envJson, bindingsJson) {
  const holder = { state };
  const live = () => {
    guardAlive(holder.state);
    return holder.state;
  };
  const env = makeEnv(live, envJson, bindingsJson);
  const registry = makeRegistry();
  const compartment = compartmentFor({
    console: makeConsole(live),
    ...makeTimers(live),
    Vortex: makeVortex(live, env),
    ...lastingEndowments(live),
    addEventListener: registry.methods.addEventListener,
    removeEventListener: registry.methods.removeEventListener,
  });
  const global = compartment.globalThis;
  // In this syntax the bindings (KV, variables, secrets) are globals. One never hides a global
  // of the runtime: that name is still Vortex.env's.
  for (const name of Reflect.ownKeys(env)) {
    if (name in global) continue;
    Object.defineProperty(global, name, { value: env[name], writable: true, enumerable: false, configurable: true });
  }
  return { key: instanceKey, holder, registry, global, compartment };
}

// Calls the listeners of `entries` with `event`; what they threw is returned, not rethrown, so
// that the next listeners still run (as EventTarget's dispatch goes on).
function callListeners(state, worker, type, entries, event, control) {
  const thrown = [];
  for (const entry of entries) {
    if (entry.removed) continue;
    if (entry.once) worker.registry.drop(type, entry.callback);
    try {
      const callback = entry.callback;
      if (typeof callback === 'function') {
        Reflect.apply(callback, worker.global, [event]);
      } else {
        const handle = callback.handleEvent;
        if (typeof handle !== 'function') throw new TypeError("The listener's handleEvent is not a function");
        Reflect.apply(handle, callback, [event]);
      }
    } catch (err) {
      thrown.push(err);
    }
    if (state.done || control.stopped) break;
  }
  return thrown;
}

function freezeEvent(event) {
  for (const value of Object.values(event)) if (typeof value === 'function') Object.freeze(value);
  return Object.freeze(event);
}

function invalidState(message) {
  return new api.DOMException("Failed to execute 'respondWith' on 'FetchEvent': " + message, 'InvalidStateError');
}

function dispatchFetch(state, worker, requestJson, bodyBytes) {
  const entries = worker.registry.of('fetch');
  if (entries.length === 0) {
    const cronOnly = worker.registry.of('scheduled').length > 0;
    const message = cronOnly
      ? "This script has a 'scheduled' listener only: it runs on its cron schedule, and requests (and vortex run) need a 'fetch' listener too: " + RESPOND_EXAMPLE
      : "This script registers no 'fetch' listener: " + RESPOND_EXAMPLE;
    fail(state, NO_EVENT_LISTENER, message);
    return;
  }
  let request;
  try {
    request = api.incomingRequest(requestJson, bodyBytes);
  } catch (err) {
    end(state, null, describeThrown(state, err));
    return;
  }
  const control = { dispatching: true, answered: false, response: undefined, stopped: false };
  // Frozen by hand, as a module run's ctx is (handlers.js); concise methods have no .prototype.
  const event = freezeEvent({
    type: 'fetch',
    request,
    respondWith(response) {
      if (!control.dispatching) throw invalidState('respondWith() must be called synchronously, while the listener runs.');
      if (control.answered) throw invalidState('The event has already been responded to.');
      control.answered = true;
      control.response = response;
      // As the Service Workers standard says: the listeners after this one are not called.
      control.stopped = true;
    },
    waitUntil: makeWaitUntil(state),
    passThroughOnException() {},
    stopImmediatePropagation() {
      control.stopped = true;
    },
  });
  const thrown = callListeners(state, worker, 'fetch', entries, event, control);
  control.dispatching = false;
  if (state.done) return;
  if (!control.answered) {
    if (thrown.length) handlerFailed(state, describeThrown(state, thrown[0]), true);
    else fail(state, NO_RESPONSE, "No 'fetch' listener called event.respondWith() while it ran: call it synchronously in the listener, with a Response or a promise of one: " + RESPOND_EXAMPLE);
    return;
  }
  // A listener that threw after the event was answered: the answer goes out, the run has failed.
  for (const err of thrown) {
    if (state.lateError === null) state.lateError = describeThrown(state, err);
    try {
      writeLog(state, 'error', 'Uncaught ' + errorLine(state, err));
    } catch (e) {
      return; // the log limit ended the run
    }
  }
  const answer = control.response;
  if (api.isResponse(answer)) {
    respond(state, answer);
    return;
  }
  Promise.resolve(answer).then(
    (response) => respond(state, response),
    (err) => {
      if (!state.done) handlerFailed(state, describeThrown(state, err), true);
    },
  );
}

// A cron tick: as a module's scheduled handler, the run ends once the listeners have returned
// and every waitUntil promise has settled; what a listener returns is not awaited (Workers).
function dispatchScheduled(state, worker, scheduledJson) {
  const entries = worker.registry.of('scheduled');
  if (entries.length === 0) {
    fail(state, NO_EVENT_LISTENER, "This script registers no 'scheduled' listener: addEventListener('scheduled', (event) => event.waitUntil(work(event)))");
    return;
  }
  const tick = JSON.parse(api.hostText(scheduledJson));
  const control = { stopped: false };
  const event = freezeEvent({
    type: 'scheduled',
    cron: String(tick.cron),
    scheduledTime: Number(tick.scheduledTime),
    noRetry() {},
    waitUntil: makeWaitUntil(state),
    stopImmediatePropagation() {
      control.stopped = true;
    },
  });
  const thrown = callListeners(state, worker, 'scheduled', entries, event, control);
  if (state.done) return;
  if (thrown.length) {
    handlerFailed(state, describeThrown(state, thrown[0]), false);
    return;
  }
  state.responded = true;
  settleIfIdle(state);
}

function serve(state, worker, requestJson, bodyBytes, scheduledJson) {
  if (state.done) return;
  // From here the run ends as a module's does: by its response and its waitUntil promises.
  state.module = true;
  state.bodySettled = true;
  state.instance = worker;
  if (scheduledJson) dispatchScheduled(state, worker, scheduledJson);
  else if (requestJson) dispatchFetch(state, worker, requestJson, bodyBytes);
  else end(state, null, null);
}

export function runWorker(id, code, limitsJson, filename, envJson, bindingsJson, instanceKey, requestJson, bodyBytes, scheduledJson) {
  const state = newState(id, limitsJson, filename, false);
  const kept = takeIdle(instanceKey);
  if (kept !== undefined) {
    kept.holder.state = state;
    serve(state, kept, requestJson, bodyBytes, scheduledJson);
    return;
  }
  startWorker(state, code, instanceKey, envJson, bindingsJson, (worker) => {
    if (!state.returned && worker.registry.serves()) {
      serve(state, worker, requestJson, bodyBytes, scheduledJson);
      return;
    }
    // Not a service worker after all: it ends as any script does (script.js).
    if (state.returned) settleIfIdle(state);
    else settleLater(state);
  });
}

// An instance made ahead of the first event, after a deploy (as handlers.js warmModule): the
// top level runs now, silently, and the instance is kept if it registered a listener and left
// nothing pending. A script that turns out not to be a worker ends here, whatever it left
// running: its work is a run's, and none was asked for.
export function warmWorker(id, code, limitsJson, filename, envJson, bindingsJson, instanceKey) {
  const state = newState(id, limitsJson, filename, false);
  startWorker(state, code, instanceKey, envJson, bindingsJson, (worker) => {
    if (!state.returned && worker.registry.serves()) serve(state, worker, null, null, null);
    else end(state, null, null);
  });
}

// Evaluates a new instance's top level; `settled(worker)` once its body has settled.
function startWorker(state, code, instanceKey, envJson, bindingsJson, settled) {
  let worker;
  let body;
  try {
    worker = newWorker(state, instanceKey, envJson, bindingsJson);
    body = worker.compartment.evaluate(WRAP_PREFIX + code + '\n})');
  } catch (err) {
    end(state, null, describeThrown(state, err));
    return;
  }
  body().then(
    () => {
      state.bodySettled = true;
      if (state.done) return;
      // What the top level started and left running (an init chain) runs first, as for a
      // module (instances.js afterTopLevel): workerd's microtask checkpoint after evaluation.
      state.topLevelJobs = host.hasJobs();
      afterTopLevel(state, () => settled(worker));
    },
    (err) => {
      if (!state.done) end(state, null, describeThrown(state, err));
    },
  );
}
