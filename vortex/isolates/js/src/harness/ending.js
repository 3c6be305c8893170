// The end of a run: when it may end, and what ending does.
import { JSON, host, runs } from './platform.js';
import { endedClean, releaseInstance } from './instances.js';

export function end(state, outputJson, error) {
  if (state.done) return;
  if (state.instance !== null) releaseInstance(state, endedClean(state, error));
  state.done = true;
  for (const handle of state.timers.values()) host.clearTimer(handle);
  state.timers.clear();
  for (const handle of state.internalTimers) host.clearTimer(handle);
  state.internalTimers.clear();
  runs.delete(state.id);
  host.finish(state.id, outputJson, error === null ? null : JSON.stringify(error));
}

export function fail(state, code, message) {
  end(state, null, { code, name: 'Error', message, stack: '' });
}

// A handler threw or rejected. With waitUntil work (or a binding call) still going, the run
// goes on until that settles, as in workerd, and is recorded as failed: Sentry's withSentry
// reports the error it rethrows from a waitUntil, and ending the run here dropped the report.
// `answer`: whoever waits for the run's response gets the failure now (Host.fail_early: the
// listener's client, or the caller through the supervisor). A tick has nobody waiting, and an
// RPC call was answered with the error already.
export function handlerFailed(state, error, answer) {
  if (state.done) return;
  if (state.waiting === 0 && state.calls.size === 0) {
    end(state, null, error);
    return;
  }
  state.lateError = error;
  state.responded = true;
  if (answer) host.failEarly(state.id, JSON.stringify(error));
  settleIfIdle(state);
}

// A script ends when its body has settled and it returned, or nothing is pending any more.
// A module run ends when its response has been sent and every waitUntil promise settled.
export function settleIfIdle(state) {
  if (state.done) return;
  if (state.module) {
    // A KV write not awaited still completes: nothing the function asked for is lost.
    if (state.responded && state.waiting === 0 && state.calls.size === 0 && !state.socketOpen) end(state, null, state.lateError);
    return;
  }
  if (!state.bodySettled) return;
  const fetching = state.fetcher === null ? 0 : state.fetcher.pending();
  if (state.returned || (state.timers.size === 0 && fetching === 0 && state.calls.size === 0)) {
    end(state, state.outputJson, null);
  }
}

// After an answer arrives, a timer fires or the body returns, the promise jobs they queued
// run first; the run may end only after. Each job is a turn of the host's loop, queued
// first come first served: a check that finds no turn of the run since the one that
// scheduled it knows none is left. One check per run is pending at a time.
export function settleLater(state) {
  if (state.settleCheck !== null) return;
  const mark = host.turns(state.id);
  const handle = host.setTimer(() => {
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
