// What a host calls (host.py, bridge.py): made once per host by `makeRuntime`, with the `host`
// bridge, after the web classes are hardened. The runtime's parts are the modules beside this
// one: state.js (a run's state), logs.js, ending.js (how a run ends), endowments.js (what a
// run's compartment gets), bindings.js (KV), random.js, script.js (a classic script),
// serviceworker.js (a script in Workers' service-worker syntax), instances.js, handlers.js
// and waituntil.js (a module function), frames.js (answers from the supervisor), sockets.js
// (a run's WebSocket), check.js (syntax at deploy).
import { ErrorCtor, Math, api, bindHost, host, runs } from './platform.js';
import { guardHost } from './hostbridge.js';
import { definePerRun } from './sharedglobal.js';
import { currentState, elapsed, guardAlive, runOfThisTurn } from './state.js';
import { errorLine, writeLog } from './logs.js';
import { settleLater } from './ending.js';
import { boundTo, checkTimerRoom, fetcherOf, makePerformance, makeQueueMicrotask } from './endowments.js';
import { osRandom, prepareMath } from './random.js';
import { run } from './script.js';
import { runWorker, warmWorker } from './serviceworker.js';
import { runModule, runScheduled, warmModule } from './handlers.js';
import { runRpc } from './rpc.js';
import { abort, answer, deliver, drained, fetchChunk, fetchEnd } from './frames.js';
import { check } from './check.js';
import { wsClosed, wsClosing, wsMessage } from './sockets.js';
import { entry, jobTrampoline } from './asynccontext.js';

export function makeRuntime(pythonHost) {
  bindHost(guardHost(pythonHost));
  prepareMath();

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
      const handle = host.setTimer(() => {
        state.internalTimers.delete(handle);
        if (!state.done) callback();
      }, delay);
      state.internalTimers.add(handle);
    },
    keepAliveTimer(callback, ms) {
      const state = runOfThisTurn();
      checkTimerRoom(state);
      const delay = Math.min(Math.max(Number(ms) || 0, 0), 2147483647);
      // A key no number is: user code's clearTimeout(n) cannot cancel the platform's timer.
      const key = {};
      const settle = () => {
        if (!state.module) settleLater(state);
      };
      state.timers.set(
        key,
        host.setTimer(() => {
          if (state.done || !state.timers.delete(key)) return;
          callback();
          settle();
        }, delay),
      );
      return () => {
        const handle = state.timers.get(key);
        if (handle === undefined) return;
        host.clearTimer(handle);
        state.timers.delete(key);
        settle();
      };
    },
    fetch(input, init) {
      return fetcherOf(runOfThisTurn()).fetch(input, init);
    },
    holdDelivery() {
      const state = currentState();
      if (!state || state.done) return () => {};
      checkTimerRoom(state);
      state.deliveries += 1;
      let held = true;
      return () => {
        if (!held) return;
        held = false;
        state.deliveries -= 1;
      };
    },
    currentRun() {
      const state = currentState();
      return state && !state.done ? state.id : null;
    },
    now() {
      const state = currentState();
      return state ? elapsed(state) : 0;
    },
    randomBytes: osRandom,
  });

  definePerRun('fetch', () => {
    return harden(fetcherOf(runOfThisTurn()).fetch);
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

  // Every call from Python starts a new async-context epoch (asynccontext.js); so does every
  // promise job, run through `jobTrampoline` by the job loop (jobloop.py).
  const entries = { run, runWorker, warmWorker, runModule, warmModule, runScheduled, runRpc, deliver, fetchChunk, fetchEnd, answer, abort, drained, wsMessage, wsClosing, wsClosed, check };
  const runtime = { jobTrampoline, active: () => runs.size };
  for (const [name, fn] of Object.entries(entries)) runtime[name] = entry(fn);
  return harden(runtime);
}
