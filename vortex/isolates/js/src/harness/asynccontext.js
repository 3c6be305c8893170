// The async context of node:async_hooks' AsyncLocalStorage, for the functions that import it
// (instances.js): the current *frame*, an immutable Map of AsyncLocalStorage → store, carried
// from where a continuation is registered (`then`, a timer, queueMicrotask) to where it runs.
//
// The engine does not carry it for us: pythonmonkey's job queue drops SpiderMonkey's
// host-defined data, and the job loop (jobloop.py) sees a job when it is queued, with the
// resolver's run, not the registrant's. So such a function's async code is lowered at deploy
// to `.then` calls (vortex/modules/esbuild.py) on its compartment's own `Promise`, whose
// `then` captures the frame and restores it around the callback. Nothing here is shared by two
// functions: each compartment gets its own context and Promise, and a function that does not
// import node:async_hooks gets neither (the intrinsic `then` stays untouched: SpiderMonkey's
// await fast paths depend on it).
//
// A frame must never outlive the run that set it. A callback stopped by a limit does not run
// its `finally`, so rather than trusting every exit to put the frame back, each frame is
// stamped with the *epoch* it was set in, and the epoch moves on at the start of every promise
// job (`jobTrampoline`, which the job loop runs every job through) and of every call into the
// runtime (`entry`) and of every timer: a frame read in a later epoch is no frame. One increment per job for
// every function; frames are looked at only by functions that import node:async_hooks.
const NativeMap = Map;
const NativePromise = Promise;
const nativeThen = Promise.prototype.then;
const mapSet = Map.prototype.set;
const mapGet = Map.prototype.get;
const mapDelete = Map.prototype.delete;
const apply = Reflect.apply;

let epoch = 0;

export function jobTrampoline(job) {
  epoch = (epoch + 1) | 0;
  job();
}

// A call from Python into the runtime (runtime.js) or a timer firing: a new epoch, as a job is.
export function newEpoch() {
  epoch = (epoch + 1) | 0;
}

export function entry(fn) {
  return (...args) => {
    epoch = (epoch + 1) | 0;
    return fn(...args);
  };
}

export const ASYNC_CONTEXT = Symbol.for('vortex.node:async_hooks.context');

export function makeAsyncContext() {
  let frame = null; // null: no store for any AsyncLocalStorage
  let frameEpoch = -1;
  const current = () => (frameEpoch === epoch ? frame : null);
  const enter = (f) => {
    frame = f;
    frameEpoch = epoch;
  };
  // fn in frame `f`, then the frame of before back (a throw included).
  function runIn(f, fn, thisArg, args) {
    const before = current();
    enter(f);
    try {
      return apply(fn, thisArg, args);
    } finally {
      enter(before);
    }
  }
  // Copy on write: a frame captured earlier never changes under the code that captured it.
  function withStore(key, store) {
    const f = current();
    const next = f === null ? new NativeMap() : new NativeMap(f);
    apply(mapSet, next, [key, store]);
    return next;
  }
  function withoutStore(key) {
    const f = current();
    if (f === null) return null;
    const next = new NativeMap(f);
    apply(mapDelete, next, [key]);
    return next.size ? next : null;
  }
  function bindFrame(f, fn) {
    return function bound(...args) {
      return runIn(f, fn, this, args);
    };
  }
  // What node:async_hooks (src/node/async_hooks.js) is given, under ASYNC_CONTEXT on its
  // `Vortex`. Frames themselves never reach user code: only closures over them.
  const api = harden({
    get(key) {
      const f = current();
      return f === null ? undefined : apply(mapGet, f, [key]);
    },
    run: (key, store, fn, args) => runIn(withStore(key, store), fn, undefined, args),
    exit: (key, fn, args) => runIn(withoutStore(key), fn, undefined, args),
    enter(key, store) {
      enter(withStore(key, store));
    },
    leave(key) {
      enter(withoutStore(key));
    },
    bind: (fn) => bindFrame(current(), fn),
    snapshot() {
      const f = current();
      return (fn, ...args) => runIn(f, fn, undefined, args);
    },
  });
  return { current, runIn, api, Promise: makeContextPromise(current, runIn) };
}

function makeContextPromise(current, runIn) {
  const inFrame = (f, callback) =>
    typeof callback === 'function' ? (value) => runIn(f, callback, undefined, [value]) : callback;
  // The compartment's `Promise`: every `then` (so catch, finally, the statics and esbuild's
  // lowered awaits, which all go through it) carries the frame of its caller to its callbacks.
  // A native promise (fetch's, a binding's) is still `instanceof Promise`.
  class Promise extends NativePromise {
    static [Symbol.hasInstance](value) {
      return value instanceof NativePromise;
    }
    then(onFulfilled, onRejected) {
      const f = current();
      // No frame: the callback runs in a job, whose new epoch has none either.
      if (f === null) return apply(nativeThen, this, [onFulfilled, onRejected]);
      return apply(nativeThen, this, [inFrame(f, onFulfilled), inFrame(f, onRejected)]);
    }
  }
  return harden(Promise);
}
