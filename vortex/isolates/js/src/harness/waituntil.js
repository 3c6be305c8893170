// `ctx.waitUntil` of a module run, `event.waitUntil` of a service worker's, and the
// `waitUntil` that cloudflare:workers exports: the run goes on until the promise settles; a
// rejection is logged and fails the run, not its response.
import { host, runs } from './platform.js';
import { describeThrown, errorLine, writeLog } from './logs.js';
import { settleIfIdle } from './ending.js';
import { guardAlive } from './state.js';

export function addWaitUntil(state, promise) {
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
}

export function makeWaitUntil(state) {
  // A concise method: no .prototype object to freeze.
  return {
    waitUntil(promise) {
      addWaitUntil(state, promise);
    },
  }.waitUntil;
}

// The key under which the compartments of module functions hold `moduleWaitUntil` on their
// `Vortex`, for cloudflare:workers (src/cloudflare/workers.js) to find: a symbol, so that it
// is no name of Vortex's API. It can do nothing the run's own ctx.waitUntil cannot.
export const WAIT_UNTIL = Symbol.for('vortex.cloudflare:workers.waitUntil');

// One for every module instance: it acts for the run whose turn it is, as workerd's acts for
// the request of the current IoContext, and like workerd's it refuses the module's top level
// (global scope, which a warm-up evaluates outside any request) and a turn of no run.
export const moduleWaitUntil = {
  waitUntil(promise) {
    const state = runs.get(host.current());
    if (state === undefined || state.done) {
      throw new TypeError('waitUntil() of "cloudflare:workers" was called with no request going: call it while a fetch or scheduled handler runs');
    }
    if (state.evaluating) {
      throw new TypeError('waitUntil() of "cloudflare:workers" cannot be called at the top level of a module, outside of a request: call it in a fetch or scheduled handler');
    }
    addWaitUntil(state, promise);
  },
}.waitUntil;
