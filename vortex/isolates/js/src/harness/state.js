// A run's state: made when it starts (newState), found again by its id or by the turn being its.
import { BUNDLE_NAME, Date, ErrorCtor, JSON, LimitError, Math, WRAP_PREFIX, host, runs } from './platform.js';

export function currentState() {
  return runs.get(host.current());
}

export function elapsed(state) {
  // Coarsened to 0.1 ms, as browsers do without cross-origin isolation.
  return Math.round((host.now() - state.startedAt) * 10) / 10;
}

export function runOfThisTurn() {
  const state = currentState();
  if (!state || state.done) throw new ErrorCtor('This invocation has already ended');
  return state;
}

export function guardAlive(state) {
  if (state.done) throw new LimitError('This invocation has already ended');
}

export function newState(id, limitsJson, filename, module) {
  const state = {
    id,
    limits: JSON.parse(limitsJson),
    filename,
    module,
    where: module ? { filename: BUNDLE_NAME, firstLineShift: 0 } : { filename, firstLineShift: WRAP_PREFIX.length },
    inspector: null,
    console: null, // counters, timers and group depth of console (logs.js)
    timings: null, // performance's marks and measures (endowments.js)
    done: false,
    bodySettled: false,
    returned: false,
    outputJson: null,
    responded: false,
    waiting: 0,
    lateError: null,
    timers: new Map(),
    drain: null, // resolves once the client's connection takes more of the body
    socket: null, // the end of a WebSocketPair given to the client (handlers.js)
    socketOpen: false, // the run goes on while it is
    internalTimers: new Set(),
    deliveries: 0, // MessagePort messages posted and not yet delivered (checkTimerRoom)
    nextTimer: 1,
    logBytes: 0,
    logLines: 0,
    fetcher: null,
    props: null, // the ctx.props a service binding gives its target's run (context.js)
    settleCheck: null,
    calls: new Map(),
    nextCall: 1,
    instance: null,
    evaluating: false, // the module's top level is running (instances.js)
    topLevelJobs: false, // the top level of the run's new instance queued promise jobs (instances.js)
    startedAt: host.now(),
    timeOrigin: Date.now(),
  };
  runs.set(id, state);
  return state;
}
