// The trusted side of a host process: evaluated once at boot in the start compartment, after the
// web APIs bundle (`webapi`, see js/src/webapi.js) and before SES `lockdown()`, which it calls.
// It builds one Compartment per invocation and hands user code only what Vortex grants. User
// code never sees anything defined here except the hardened endowments, and only strings and
// numbers cross to Python (through the `host` bridge of host.py).
(function prepare(webapi) {
  'use strict';

  // Captured before lockdown replaces the constructors reachable from prototypes with inert ones:
  // compiling a body with the real one checks syntax without running anything.
  const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
  const hostSetTimeout = globalThis.setTimeout;
  const ErrorPrototype = Error.prototype;
  const FunctionPrototype = Function.prototype;
  const hostClearTimeout = globalThis.clearTimeout;

  hideHostFiles();

  lockdown({
    errorTaming: 'unsafe', // keep `stack`, filtered before any user sees it
    stackFiltering: 'verbose',
    consoleTaming: 'unsafe',
    overrideTaming: 'moderate',
    evalTaming: 'safe-eval',
  });
  // SES leaves these outside its frozen intrinsics; every compartment shares them, so freeze them.
  harden(Intl);
  // The web classes are shared by every run: frozen once here, with every prototype that their
  // instances lead to (readers, controllers, iterators, implementation objects).
  // SES leaves the float typed arrays out of new compartments on this SpiderMonkey (it knows
  // no Float16Array); lockdown froze the start compartment's, so they are endowed from there.
  const floatArrays = {};
  for (const name of ['Float16Array', 'Float32Array', 'Float64Array']) {
    if (typeof globalThis[name] === 'function') floatArrays[name] = globalThis[name];
  }
  const shared = harden({ ...webapi.globals, ...floatArrays, Intl });
  hardenPrototypesReachableFrom(webapi.samples());
  const api = webapi.internals;
  // Every run's global inherits the shared globals from this one frozen object instead of
  // getting ~40 own properties copied in (measured: that copy was most of what the web APIs
  // added to a run). Accessors, not data properties: assigning `globalThis.URL = x` in a run
  // must shadow it for that run, as in a browser, not hit the frozen prototype.
  const sharedGlobal = Object.create(Object.prototype);
  for (const [name, value] of Object.entries(shared)) {
    Object.defineProperty(sharedGlobal, name, {
      get() {
        return value;
      },
      set(replacement) {
        Object.defineProperty(this, name, { value: replacement, writable: true, enumerable: false, configurable: true });
      },
      enumerable: false,
      configurable: false,
    });
  }
  // What belongs to one run but most runs never touch is made on first use, by a shared getter
  // that finds the run whose turn it is (never the receiver's say) and caches the value as an
  // own property of that run's global.
  const perRun = new Map();
  function definePerRun(name, make) {
    perRun.set(name, make);
  }
  for (const name of ['fetch', 'crypto', 'performance', 'queueMicrotask']) {
    Object.defineProperty(sharedGlobal, name, {
      get() {
        const value = perRun.get(name)();
        Object.defineProperty(this, name, { value, writable: true, enumerable: false, configurable: true });
        return value;
      },
      set(replacement) {
        Object.defineProperty(this, name, { value: replacement, writable: true, enumerable: false, configurable: true });
      },
      enumerable: false,
      configurable: false,
    });
  }
  harden(sharedGlobal);
  const { Date, Math, JSON, Error: ErrorCtor } = globalThis;

  const WRAP_PREFIX = '(async function () {';
  const CHECK_PREFIX = "'use strict';";
  // The real AsyncFunction constructor puts the body two lines down.
  const CHECK_LINE_OFFSET = 2;
  const RANDOM_BATCH = 4096;
  // Module runs report positions in the built script under this name; the server maps them back
  // to the uploaded files through the source map (vortex/modules/sourcemap.py).
  const BUNDLE_NAME = 'vortex-bundle';

  // pythonmonkey loads core-js from its site-packages folder, so an error thrown inside a
  // core-js polyfill (`Function.prototype.toString.call(1)`) named files of the host in its
  // stack and fileName. Frames of absolute paths are dropped from every stack (user code,
  // ses.js, webapi.js and this file have names of their own), and toString checks its receiver
  // here, before core-js's, so that error is made in this file.
  function hideHostFiles() {
    const HOST_FRAME = /^[^\n@]*@(?:\/|file:)[^\n]*(?:\n|$)/gm;
    const stack = Object.getOwnPropertyDescriptor(ErrorPrototype, 'stack');
    if (stack && typeof stack.get === 'function') {
      const getStack = stack.get;
      Object.defineProperty(ErrorPrototype, 'stack', {
        ...stack,
        get() {
          const text = Reflect.apply(getStack, this, []);
          return typeof text === 'string' ? text.replace(HOST_FRAME, '') : text;
        },
      });
    }
    const polyfilled = FunctionPrototype.toString;
    Object.defineProperty(FunctionPrototype, 'toString', {
      value: {
        toString() {
          if (typeof this !== 'function') {
            throw new TypeError("Function.prototype.toString requires that 'this' be a Function");
          }
          return Reflect.apply(polyfilled, this, []);
        },
      }.toString,
      writable: true,
      enumerable: false,
      configurable: true,
    });
  }

  function hardenPrototypesReachableFrom(roots) {
    const seen = new Set();
    const queue = [...roots];
    while (queue.length) {
      const obj = queue.pop();
      if ((typeof obj !== 'object' && typeof obj !== 'function') || obj === null || seen.has(obj)) continue;
      seen.add(obj);
      const proto = Object.getPrototypeOf(obj);
      if (proto !== null) {
        harden(proto);
        queue.push(proto);
      }
      for (const key of Reflect.ownKeys(obj)) {
        const desc = Reflect.getOwnPropertyDescriptor(obj, key);
        if (desc && 'value' in desc) queue.push(desc.value);
      }
    }
  }

  // A Python exception raised under a call to the host becomes a JavaScript Error whose message
  // is the Python traceback (file names of the host, source lines) and whose fileName is a path
  // of the host. Calls to the host happen in user code's turns (a stream chunk, fetch(), a
  // binding), so such an error would reach user code: it is replaced by a plain one here.
  class PlatformError extends Error {}
  function guardHost(python) {
    const guarded = {};
    for (const name of Object.keys(python)) {
      const call = python[name];
      guarded[name] = function (...args) {
        try {
          return Reflect.apply(call, undefined, args);
        } catch {
          throw new PlatformError('Vortex could not pass this value to the platform');
        }
      };
    }
    return Object.freeze(guarded);
  }

  return function makeRuntime(pythonHost) {
    const host = guardHost(pythonHost);
    const runs = new Map();

    // ---- what the shared classes ask of the current run (see js/src/hooks.js) -------------
    function currentState() {
      return runs.get(host.current());
    }

    let randomPool = new Uint8Array(0);
    let randomOffset = 0;
    function osRandom(n) {
      if (randomOffset + n > randomPool.length) {
        randomPool = api.hostBytes(host.random(Math.max(RANDOM_BATCH, n)));
        randomOffset = 0;
      }
      const out = randomPool.slice(randomOffset, randomOffset + n);
      randomPool.fill(0, randomOffset, randomOffset + n);
      randomOffset += n;
      return out;
    }
    api.setRandomSource(osRandom);

    api.configure({
      reportError(error) {
        const state = currentState();
        if (!state || state.done) return;
        const text = errorLine(state, error);
        try {
          writeLog(state, 'error', 'Uncaught ' + text);
        } catch (e) {
          /* the log limit ended the run */
        }
      },
      runTimer(callback, ms) {
        const state = currentState();
        if (!state || state.done) throw new ErrorCtor('This invocation has already ended');
        const delay = Math.min(Math.max(Number(ms) || 0, 0), 2147483647);
        const handle = hostSetTimeout(() => {
          state.internalTimers.delete(handle);
          if (!state.done) callback();
        }, delay);
        state.internalTimers.add(handle);
      },
      now() {
        const state = currentState();
        return state ? elapsed(state) : 0;
      },
      randomBytes: osRandom,
    });

    function elapsed(state) {
      // Coarsened to 0.1 ms, as browsers do without cross-origin isolation.
      return Math.round((host.now() - state.startedAt) * 10) / 10;
    }

    function runOfThisTurn() {
      const state = currentState();
      if (!state || state.done) throw new ErrorCtor('This invocation has already ended');
      return state;
    }
    definePerRun('fetch', () => {
      const state = runOfThisTurn();
      if (state.fetcher === null) state.fetcher = makeFetch(state);
      return harden(state.fetcher.fetch);
    });
    definePerRun('crypto', () => {
      const state = runOfThisTurn();
      return harden(
        api.makeCrypto((n) => {
          guardAlive(state);
          return osRandom(n);
        }),
      );
    });
    definePerRun('performance', () => harden(makePerformance(runOfThisTurn())));
    definePerRun('queueMicrotask', () => harden(makeQueueMicrotask(boundTo(runOfThisTurn()))));

    // ---- errors and logs ----------------------------------------------------------------
    function inspector(state) {
      if (state.inspector === null) state.inspector = api.makeInspector(state.where);
      return state.inspector;
    }

    function describeThrown(state, value) {
      return api.describeThrown(value, state.where, inspector(state).inspectValue);
    }

    function errorLine(state, error) {
      const described = describeThrown(state, error);
      return error instanceof ErrorCtor ? described.stack : described.message.replace(/^Uncaught /, '');
    }

    class LimitError extends ErrorCtor {}
    harden(LimitError);

    function guardAlive(state) {
      if (state.done) throw new LimitError('This invocation has already ended');
    }

    function writeLog(state, level, message) {
      state.logBytes += message.length;
      state.logLines += 1;
      if (state.logBytes > state.limits.log_bytes || state.logLines > state.limits.log_lines) {
        const text = 'Log volume exceeded its limit (' + state.limits.log_lines + ' lines or ' + state.limits.log_bytes + ' bytes per run)';
        fail(state, 'log_limit_exceeded', text);
        throw new LimitError(text);
      }
      host.emit(state.id, level, message);
    }

    // ---- the end of a run -----------------------------------------------------------------
    function end(state, outputJson, error) {
      if (state.done) return;
      if (state.instance !== null) releaseInstance(state, endedClean(state, error));
      state.done = true;
      for (const handle of state.timers.values()) hostClearTimeout(handle);
      state.timers.clear();
      for (const handle of state.internalTimers) hostClearTimeout(handle);
      state.internalTimers.clear();
      runs.delete(state.id);
      host.finish(state.id, outputJson, error === null ? null : JSON.stringify(error));
    }

    function fail(state, code, message) {
      end(state, null, { code, name: 'Error', message, stack: '' });
    }

    // A script ends when its body has settled and it returned, or nothing is pending any more.
    // A module run ends when its response has been sent and every waitUntil promise settled.
    function settleIfIdle(state) {
      if (state.done) return;
      if (state.module) {
        // A KV write not awaited still completes: nothing the function asked for is lost.
        if (state.responded && state.waiting === 0 && state.calls.size === 0) end(state, null, state.lateError);
        return;
      }
      if (!state.bodySettled) return;
      const fetching = state.fetcher === null ? 0 : state.fetcher.pending();
      if (state.returned || (state.timers.size === 0 && fetching === 0 && state.calls.size === 0)) {
        end(state, state.outputJson, null);
      }
    }

    // ---- endowments made for one run ------------------------------------------------------
    // Endowments take `live`, which answers the state of the run they act for, or throws if it
    // has ended: the run they were made for (a script), or the run whose turn it is (a warm
    // module instance, shared by the runs of one function version).
    function boundTo(state) {
      return () => {
        guardAlive(state);
        return state;
      };
    }

    function makeConsole(live) {
      const write = (level) => (...args) => {
        const state = live();
        writeLog(state, level, inspector(state).formatArgs(args));
      };
      return {
        log: write('log'),
        info: write('info'),
        warn: write('warn'),
        error: write('error'),
        debug: write('debug'),
        trace: write('debug'),
      };
    }

    function makeTimers(live) {
      function schedule(callback, ms, args, repeat) {
        const state = live();
        if (typeof callback !== 'function') {
          throw new TypeError('The "callback" argument must be of type function');
        }
        if (state.timers.size >= state.limits.timers) {
          const text = 'Too many pending timers (limit ' + state.limits.timers + ' per run)';
          fail(state, 'timer_limit_exceeded', text);
          throw new LimitError(text);
        }
        const delay = Math.min(Math.max(Number(ms) || 0, 0), 2147483647);
        const id = state.nextTimer;
        state.nextTimer += 1;
        const fire = () => {
          if (state.done || !state.timers.has(id)) return;
          if (repeat) state.timers.set(id, hostSetTimeout(fire, Math.max(delay, 1)));
          else state.timers.delete(id);
          try {
            callback(...args);
          } catch (err) {
            if (!state.done) end(state, null, describeThrown(state, err));
            return;
          }
          // Not at once: what the callback awaited or chained runs before the run may end.
          settleLater(state);
        };
        state.timers.set(id, hostSetTimeout(fire, delay));
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
        hostClearTimeout(handle);
        state.timers.delete(id);
        // Cleared from a callback (or a promise reaction), the rest of it still runs: the run
        // may end only after it.
        settleLater(state);
      }
      return {
        setTimeout: (callback, ms, ...args) => schedule(callback, ms, args, false),
        setInterval: (callback, ms, ...args) => schedule(callback, ms, args, true),
        clearTimeout: clear,
        clearInterval: clear,
      };
    }

    function makeVortex(state, env) {
      if (state.module) return { env };
      return {
        kv: env.KV,
        return(value) {
          guardAlive(state);
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

    function makeFetch(state) {
      return api.makeFetch({
        start(fid, metaJson, bodyBinary) {
          host.fetch(state.id, fid, metaJson, bodyBinary);
        },
        cancel(fid) {
          host.fetchAbort(state.id, fid);
          settleLater(state);
        },
        check() {
          guardAlive(state);
        },
      });
    }

    // After an answer arrives, a timer fires or the body returns, the promise jobs they queued
    // run first; the run may end only after. Each job is a turn of the host's loop, queued
    // first come first served: a check that finds no turn of the run since the one that
    // scheduled it knows none is left. One check per run is pending at a time.
    function settleLater(state) {
      if (state.settleCheck !== null) return;
      const mark = host.turns(state.id);
      const handle = hostSetTimeout(() => {
        state.internalTimers.delete(handle);
        state.settleCheck = null;
        if (state.done) return;
        // The turn that scheduled this check is one; any more ran in between. A script that
        // gave its return value ends now whatever it left running, and a module run ends by
        // its response and waitUntil promises, not by what is idle.
        const busy = !state.module && !state.returned && host.turns(state.id) > mark + 1;
        if (busy) settleLater(state);
        else settleIfIdle(state);
      }, 1);
      state.settleCheck = handle;
      state.internalTimers.add(handle);
    }

    function makeQueueMicrotask(live) {
      return function queueMicrotask(callback) {
        const state = live();
        if (typeof callback !== 'function') {
          throw new TypeError("Failed to execute 'queueMicrotask': parameter 1 is not of type 'Function'.");
        }
        Promise.resolve().then(() => {
          if (state.done) return;
          try {
            callback();
          } catch (err) {
            if (!state.done) end(state, null, describeThrown(state, err));
          }
        });
      };
    }

    function makePerformance(state) {
      return {
        timeOrigin: state.timeOrigin,
        now: () => elapsed(state),
        toJSON: () => ({ timeOrigin: state.timeOrigin }),
      };
    }

    function makeEnv(live, envJson, bindingsJson) {
      const env = JSON.parse(envJson);
      const out = {};
      for (const key of Object.keys(env)) out[key] = String(env[key]);
      const bindings = JSON.parse(bindingsJson);
      // The binding wins over a variable of the same name: `KV` is reserved (docs/kv.md). Not
      // enumerable: Object.keys(env) and JSON.stringify(env) show the variables only.
      if (bindings.kv) {
        Object.defineProperty(out, 'KV', { value: makeKv(live, bindings.kv), enumerable: false });
      }
      return harden(out);
    }

    // ---- bindings: calls answered by the server (see vortex/isolates/bindings.py) --------------
    function bindingError(code, message) {
      const error = new ErrorCtor(message);
      error.code = code;
      return error;
    }

    function callBinding(state, binding, op, args) {
      // Stringified before anything is registered: a BigInt or a cycle rejects right here.
      const text = JSON.stringify(args);
      return new Promise((resolve, reject) => {
        const cid = state.nextCall;
        state.nextCall += 1;
        state.calls.set(cid, { resolve, reject });
        host.call(state.id, cid, binding, op, text);
      });
    }

    function makeKv(live, describe) {
      const maxValueBytes = Number(describe.max_value_bytes) || Infinity;
      const call = (op, args) => callBinding(live(), 'kv', op, args);
      const defined = (entries) => {
        const out = {};
        for (const [key, value] of entries) if (value !== undefined) out[key] = value;
        return out;
      };
      return harden({
        get(key, options) {
          const type = typeof options === 'string' ? options : (options && options.type) || 'text';
          if (type !== 'text' && type !== 'json') {
            return Promise.reject(new TypeError('KV get type must be "text" or "json", got ' + String(type)));
          }
          return call('get', { key }).then((value) => {
            if (value === null || value === undefined) return null;
            return type === 'json' ? JSON.parse(value) : value;
          });
        },
        put(key, value, options) {
          // A UTF-16 unit is at least one byte of UTF-8: longer than the limit is too large for
          // sure, so a huge value never crosses the pipe only to be refused.
          if (typeof value === 'string' && value.length > maxValueBytes) {
            return Promise.reject(
              bindingError('kv_value_too_large', 'KV value is over the limit of ' + maxValueBytes + ' bytes'),
            );
          }
          const o = options || {};
          return call('put', defined([['key', key], ['value', value], ['expirationTtl', o.expirationTtl], ['expiration', o.expiration]])).then(() => undefined);
        },
        delete(key) {
          return call('delete', { key }).then(() => undefined);
        },
        list(options) {
          const o = options || {};
          return call('list', defined([['prefix', o.prefix], ['limit', o.limit], ['cursor', o.cursor]]));
        },
      });
    }

    function newState(id, limitsJson, filename, module) {
      const state = {
        id,
        limits: JSON.parse(limitsJson),
        filename,
        module,
        where: module ? { filename: BUNDLE_NAME, firstLineShift: 0 } : { filename, firstLineShift: WRAP_PREFIX.length },
        inspector: null,
        done: false,
        bodySettled: false,
        returned: false,
        outputJson: null,
        responded: false,
        waiting: 0,
        lateError: null,
        timers: new Map(),
        internalTimers: new Set(),
        nextTimer: 1,
        logBytes: 0,
        logLines: 0,
        fetcher: null,
        settleCheck: null,
        calls: new Map(),
        nextCall: 1,
        instance: null,
        startedAt: host.now(),
        timeOrigin: Date.now(),
      };
      runs.set(id, state);
      return state;
    }

    // Math.random of the engine is one stream per host, which every run on it draws from: a run
    // that sees enough values of it (about 130) can compute the values runs after it get. Each
    // compartment gets a Math of its own whose random() is a generator seeded from the operating
    // system on first use; the other Math functions are the frozen intrinsics, inherited.
    function makeRandom() {
      let a = 0;
      let b = 0;
      let c = 0;
      let d = 0;
      let seeded = false;
      function next() {
        // xoshiro128**: 32-bit words, so no BigInt and no float state.
        const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
        const t = b << 9;
        c ^= a;
        d ^= b;
        b ^= c;
        a ^= d;
        c ^= t;
        d = rotl(d, 11);
        return result;
      }
      return function random() {
        if (!seeded) {
          const seed = new Uint32Array(osRandom(16).buffer);
          [a, b, c, d] = seed;
          if ((a | b | c | d) === 0) a = 1;
          seeded = true;
        }
        // 53 random bits, as the engine's own: 27 high bits of one word and 26 of the next.
        return ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
      };
    }
    function rotl(x, k) {
      return (x << k) | (x >>> (32 - k));
    }
    const mathWithoutRandom = Object.create(Object.prototype, (() => {
      const descriptors = Object.getOwnPropertyDescriptors(Math);
      delete descriptors.random;
      return descriptors;
    })());
    harden(mathWithoutRandom);
    function mathForRun() {
      return harden(Object.create(mathWithoutRandom, { random: { value: makeRandom() } }));
    }

    // Date and Math are own properties: a compartment has tamed ones of its own to replace.
    function compartmentFor(globals) {
      const compartment = new Compartment({ __options__: true, globals: harden({ ...globals, Date, Math: mathForRun() }) });
      Object.setPrototypeOf(compartment.globalThis, sharedGlobal);
      // Workers code reaches the global as `self` too.
      Object.defineProperty(compartment.globalThis, 'self', {
        value: compartment.globalThis,
        writable: true,
        configurable: true,
      });
      return compartment;
    }

    // ---- a classic script: top-level code is the body of an async function --------------------
    function run(id, code, limitsJson, filename, envJson, bindingsJson) {
      const state = newState(id, limitsJson, filename, false);
      let body;
      try {
        const live = boundTo(state);
        const env = makeEnv(live, envJson, bindingsJson);
        const compartment = compartmentFor({ console: makeConsole(live), ...makeTimers(live), Vortex: makeVortex(state, env) });
        body = compartment.evaluate(WRAP_PREFIX + code + '\n})');
      } catch (err) {
        end(state, null, describeThrown(state, err));
        return;
      }
      body().then(
        () => {
          state.bodySettled = true;
          // Reactions the body queued before it returned still run, unless it gave its value.
          if (state.returned) settleIfIdle(state);
          else settleLater(state);
        },
        (err) => {
          if (!state.done) end(state, null, describeThrown(state, err));
        },
      );
    }

    // ---- a module: the built script evaluates to the entry's exports ---------------------------
    // A module instance (its compartment and evaluated exports) serves one run at a time. With
    // an `instanceKey` (the function version's id, given by the server) it is kept after a run
    // that ended clean, with nothing of it left pending, and serves a later run of that version,
    // as a Lambda execution environment does: module state persists between requests, never
    // across functions, and a promise left pending by one request is never awaited by another.
    // Its endowments act for the run that holds it.
    const idleInstances = new Map(); // key → instances, most recently used last
    const MAX_IDLE_PER_KEY = 64;
    const MAX_IDLE = 256;
    let idleCount = 0;

    function newInstance(state, instanceKey, script, envJson, bindingsJson) {
      const instance = { key: instanceKey, holder: state, env: null, exports: null };
      const live = () => {
        const holder = instance.holder;
        if (holder === null || holder.done) throw new LimitError('This invocation has already ended');
        return holder;
      };
      instance.env = makeEnv(live, envJson, bindingsJson);
      const globals = { console: makeConsole(live), ...makeTimers(live), Vortex: { env: instance.env } };
      if (instanceKey) {
        // The lazy per-run globals bind to the first run that touches them: a kept instance
        // needs its own, acting for whichever run holds it.
        Object.assign(globals, {
          queueMicrotask: makeQueueMicrotask(live),
          fetch(input, init) {
            const holder = live();
            if (holder.fetcher === null) holder.fetcher = makeFetch(holder);
            return holder.fetcher.fetch(input, init);
          },
          performance: {
            get timeOrigin() {
              return live().timeOrigin;
            },
            now: () => elapsed(live()),
            toJSON: () => ({ timeOrigin: live().timeOrigin }),
          },
          crypto: api.makeCrypto((n) => {
            live();
            return osRandom(n);
          }),
        });
      }
      instance.exports = compartmentFor(globals).evaluate(script);
      return instance;
    }

    function takeInstance(state, instanceKey, script, envJson, bindingsJson) {
      const idle = instanceKey ? idleInstances.get(instanceKey) : undefined;
      let instance;
      if (idle !== undefined) {
        instance = idle.pop();
        idleCount -= 1;
        idleInstances.delete(instanceKey);
        if (idle.length) idleInstances.set(instanceKey, idle);
        instance.holder = state;
      } else {
        instance = newInstance(state, instanceKey, script, envJson, bindingsJson);
      }
      state.instance = instance;
      return instance;
    }

    // Called as the run ends: its instance is kept only if nothing of the run is left behind.
    function releaseInstance(state, clean) {
      const instance = state.instance;
      state.instance = null;
      instance.holder = null;
      if (!clean || !instance.key) return;
      const idle = idleInstances.get(instance.key) || [];
      if (idle.length >= MAX_IDLE_PER_KEY) return;
      idle.push(instance);
      idleCount += 1;
      idleInstances.delete(instance.key);
      idleInstances.set(instance.key, idle);
      if (idleCount > MAX_IDLE) {
        const [oldestKey, oldest] = idleInstances.entries().next().value;
        oldest.shift();
        idleCount -= 1;
        if (!oldest.length) idleInstances.delete(oldestKey);
      }
    }

    function endedClean(state, error) {
      return (
        error === null &&
        state.timers.size === 0 &&
        state.calls.size === 0 &&
        state.waiting === 0 &&
        (state.fetcher === null || state.fetcher.pending() === 0)
      );
    }

    // The default export of the module, if it has `method`; otherwise the run has failed.
    function loadHandler(state, instance, method) {
      const exports = instance.exports;
      const handler = exports ? exports.default : undefined;
      if ((typeof handler !== 'object' && typeof handler !== 'function') || handler === null || typeof handler[method] !== 'function') {
        const signature = method === 'fetch' ? 'fetch(request, env, ctx)' : method + '(event, env, ctx)';
        fail(state, 'invalid_module', 'The module must export a default object with a ' + method + ' method: export default { async ' + signature + ' { ... } }');
        return undefined;
      }
      return handler;
    }

    // Frozen by hand rather than hardened: harden's bookkeeping cost ~7 µs per request, and
    // this object and its two methods are all there is to freeze (their prototypes are
    // intrinsics, frozen by lockdown; concise methods have no .prototype).
    function makeContext(state) {
      const ctx = {
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
        passThroughOnException() {},
      };
      Object.freeze(ctx.waitUntil);
      Object.freeze(ctx.passThroughOnException);
      return Object.freeze(ctx);
    }

    // An instance, or undefined once the run has failed evaluating it (nothing is kept then).
    function instanceOrFail(state, instanceKey, script, envJson, bindingsJson) {
      try {
        return takeInstance(state, instanceKey, script, envJson, bindingsJson);
      } catch (err) {
        end(state, null, describeThrown(state, err));
        return undefined;
      }
    }

    function runModule(id, script, limitsJson, filename, envJson, bindingsJson, instanceKey, requestJson, bodyBytes) {
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
    function warmModule(id, script, limitsJson, filename, envJson, bindingsJson, instanceKey) {
      const state = newState(id, limitsJson, filename, true);
      if (instanceOrFail(state, instanceKey, script, envJson, bindingsJson) === undefined) return;
      end(state, null, null);
    }

    // A cron tick: `scheduled(event, env, ctx)`; the run ends once its promise and every
    // waitUntil have settled. Its return value is not kept, as in Workers.
    function runScheduled(id, script, limitsJson, filename, envJson, bindingsJson, instanceKey, eventJson) {
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

    function respond(state, response) {
      if (state.done) return;
      let headSent = false;
      const sink = {
        head(headJson, bodyBinary, streaming) {
          if (state.done) return;
          headSent = true;
          host.respond(state.id, headJson, bodyBinary, streaming);
        },
        chunk(binary) {
          if (!state.done) host.chunk(state.id, binary);
        },
        end(errorText) {
          if (!state.done) host.bodyEnd(state.id, errorText);
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

    // ---- called by the host for frames from the supervisor ---------------------------------------
    function deliver(id, fid, resultJson, bodyBytes) {
      const state = runs.get(id);
      if (!state) return;
      if (state.fetcher !== null) state.fetcher.deliver(fid, resultJson, bodyBytes);
      settleLater(state);
    }

    function answer(id, cid, answerJson) {
      const state = runs.get(id);
      if (!state) return;
      const pending = state.calls.get(cid);
      if (pending === undefined) return;
      state.calls.delete(cid);
      const answered = JSON.parse(api.hostText(answerJson));
      if (answered.error) pending.reject(bindingError(String(answered.error.code), String(answered.error.message)));
      else pending.resolve(answered.result === undefined ? null : answered.result);
      settleLater(state);
    }

    function abort(id, code, message) {
      const state = runs.get(id);
      if (state) fail(state, code, message);
    }

    // SES refuses `eval(` at evaluation (a direct eval it cannot contain as the spec says), but
    // not the same call written with a comment or a line break before its parenthesis, inside
    // parentheses, or with escapes in the name, all still direct evals. At deploy every such
    // spelling is refused, in strings and comments too (as SES does), since telling them apart
    // would take a parser.
    const GAP = String.raw`(?:\s|/\*[\s\S]*?\*/|//[^\n\r\u2028\u2029]*)*`;
    const hex = (c) => c.charCodeAt(0).toString(16).replace(/[a-f]/g, (d) => `[${d}${d.toUpperCase()}]`);
    const letter = (c) => String.raw`(?:${c}|\\u00${hex(c)}|\\u\{0*${hex(c)}\})`;
    const EVAL_NAME = ['e', 'v', 'a', 'l'].map(letter).join('');
    // `eval (` after anything but a property dot or a part of a longer name; or `eval` inside
    // parentheses opened right before it and closed right before the call: `((eval))(src)`.
    // `(0, eval)(src)` is an indirect eval and passes.
    const DIRECT_EVAL = new RegExp(
      String.raw`(?:^|[^.\w$\\])${EVAL_NAME}${GAP}\(|\(${GAP}(?:\(${GAP})*${EVAL_NAME}${GAP}\)${GAP}(?:\)${GAP})*\(`,
    );
    function directEvalLine(code) {
      const found = DIRECT_EVAL.exec(code);
      if (found === null) return null;
      // The line of the call's first character (the match may start with the one before it).
      const start = found.index + (/^[^(\\\w$]/.test(found[0]) ? 1 : 0);
      return code.slice(0, start).split('\n').length;
    }

    // Returns null, or a JSON text {message, line, column} for the first syntax problem.
    function check(code) {
      try {
        // eslint-disable-next-line no-new
        new AsyncFunction(CHECK_PREFIX + code);
      } catch (err) {
        if (err instanceof SyntaxError) {
          const line = Math.max(1, Number(err.lineNumber) - CHECK_LINE_OFFSET);
          const rawColumn = Number(err.columnNumber) || 1;
          const column = line === 1 ? Math.max(1, rawColumn - CHECK_PREFIX.length) : rawColumn;
          return JSON.stringify({ message: String(err.message), line, column });
        }
        return JSON.stringify({ message: String(err), line: null, column: null });
      }
      try {
        // The body is known to be a well-formed function body, so this only compiles it; it
        // surfaces what SES refuses (HTML-like comments, `import(`), which the engine accepts.
        new Compartment({ __options__: true, globals: {} }).evaluate(WRAP_PREFIX + code + '\n})');
      } catch (err) {
        const message = String(err && err.message);
        // SES names the line in its message ("... rejected at <unknown>:2. (SES_...)").
        const where = /at [^\s]*:(\d+)\. \(SES_/.exec(message);
        return JSON.stringify({ message, line: where ? Number(where[1]) : null, column: null });
      }
      const evalLine = directEvalLine(code);
      if (evalLine !== null) {
        const message = `Possible direct eval expression rejected at line ${evalLine} (direct eval is not supported; call (0, eval)(src) or new Function)`;
        return JSON.stringify({ message, line: evalLine, column: null });
      }
      return null;
    }

    return harden({ run, runModule, warmModule, runScheduled, deliver, answer, abort, check, active: () => runs.size });
  };
});
