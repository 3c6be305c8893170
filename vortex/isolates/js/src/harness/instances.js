// Module instances: evaluated once per version and kept between the runs of that version.
import { LimitError, api, host, runs } from './platform.js';
import { moduleWhere } from './stacks.js';
import { describeThrown, makeConsole } from './logs.js';
import { end } from './ending.js';
import { boundTo, compartmentFor, lastingEndowments, makeEnv, makeTimers } from './endowments.js';
import { WAIT_UNTIL, moduleWaitUntil } from './waituntil.js';
import { ASYNC_CONTEXT, makeAsyncContext } from './asynccontext.js';

// A module instance (its evaluated exports) serves one run at a time. With an `instanceKey`
// (the function version's id, given by the server) it is kept after a run that ended clean,
// with nothing of it left pending, and serves a later run of that version, as a Lambda
// execution environment does: module state persists between requests, never across
// functions, and a promise left pending by one request is never awaited by another.
//
// The instances of one version share a *version*: one Compartment, its endowments, and the
// script compiled once into a factory whose every call evaluates the module afresh (the built
// script is one expression: the linker's function, called). A burst of concurrent requests
// needs an instance each, and a Compartment plus SES's checks and compilation of the script
// cost ~0.8 ms of host CPU per instance, four times a whole hello request; a factory call
// costs what the module's top level does. The endowments act for the run whose turn it is.
const versions = new Map(); // key → version, most recently used last
const MAX_VERSIONS = 256;
const idleInstances = new Map(); // key → instances, most recently used last
const MAX_IDLE_PER_KEY = 64;
const MAX_IDLE = 256;
let idleCount = 0;

function runOfTurn() {
  const state = runs.get(host.current());
  if (state === undefined || state.done) throw new LimitError('This invocation has already ended');
  return state;
}

function versionFor(instanceKey, script, envJson, bindingsJson) {
  const known = versions.get(instanceKey);
  if (known !== undefined) {
    versions.delete(instanceKey);
    versions.set(instanceKey, known);
    return known;
  }
  const env = makeEnv(runOfTurn, envJson, bindingsJson);
  const context = asyncContextFor(script);
  const compartment = compartmentFor({
    console: makeConsole(runOfTurn),
    ...makeTimers(runOfTurn, context),
    Vortex: moduleVortex(env, context),
    ...lastingEndowments(runOfTurn, context),
    ...(context === null ? {} : { Promise: context.Promise }),
  });
  // On one line with the script's first: positions in it keep their line numbers.
  const factory = compartment.evaluate('(() => (' + script + '\n))');
  const version = { env, factory, where: moduleWhere(script) };
  versions.set(instanceKey, version);
  if (versions.size > MAX_VERSIONS) versions.delete(versions.keys().next().value);
  return version;
}

// node:crypto's synchronous keys and signatures on the host (webcrypto/nodekeys.js): one
// object for every function, hardened, so that no function can change it for another.
const NODE_KEYS = Symbol.for('vortex.node:crypto.keys');
let nodeKeys = null;

// A module's `Vortex`: its env, and the waitUntil of cloudflare:workers under a symbol, not
// enumerable: console.log(Vortex) shows what it showed; node:async_hooks' context and
// node:crypto's keys likewise.
function moduleVortex(env, context) {
  const vortex = { env };
  if (nodeKeys === null) nodeKeys = harden(api.nodeKeys);
  Object.defineProperty(vortex, WAIT_UNTIL, { value: moduleWaitUntil });
  Object.defineProperty(vortex, NODE_KEYS, { value: nodeKeys });
  if (context !== null) Object.defineProperty(vortex, ASYNC_CONTEXT, { value: context.api });
  return vortex;
}

// The linker's line that starts node:async_hooks in a built script (vortex/modules/linker.py):
// only the functions that import it get an async context, and their own Promise with it.
const ASYNC_HOOKS_MODULE = '\n  "node:async_hooks": [function (exports, require, module) {\n';

function asyncContextFor(script) {
  return script.includes(ASYNC_HOOKS_MODULE) ? makeAsyncContext() : null;
}

// The module's top level runs in no request, whichever run made the instance: what it may not
// do there (cloudflare:workers' waitUntil) asks `state.evaluating`.
function evaluated(state, evaluate) {
  state.evaluating = true;
  try {
    return evaluate();
  } finally {
    state.evaluating = false;
  }
}

function newInstance(state, instanceKey, script, envJson, bindingsJson) {
  if (instanceKey) {
    const version = versionFor(instanceKey, script, envJson, bindingsJson);
    // Before the module's top level runs, so that an error it throws has its stack right.
    state.where = version.where;
    return { key: instanceKey, env: version.env, where: version.where, exports: evaluated(state, version.factory) };
  }
  // No key (warm instances turned off): everything afresh, bound to this one run.
  const live = boundTo(state);
  const env = makeEnv(live, envJson, bindingsJson);
  const context = asyncContextFor(script);
  const globals = {
    console: makeConsole(live),
    ...makeTimers(live, context),
    Vortex: moduleVortex(env, context),
    ...(context === null ? {} : { Promise: context.Promise, ...lastingEndowments(live, context) }),
  };
  const compartment = compartmentFor(globals);
  const where = moduleWhere(script);
  state.where = where;
  return { key: instanceKey, env, where, exports: evaluated(state, () => compartment.evaluate(script)) };
}

// An idle instance kept under `instanceKey`, taken out of the pool, or undefined.
// The export a run serves: the default one, or a service binding's named entrypoint, the
// module's own export of that name (`export class Admin extends WorkerEntrypoint`), as workerd
// looks one up; never an inherited property. undefined when there is none. May run the
// function's code (a getter, a Proxy): the caller catches what it throws.
export function entryExport(instance, entrypoint) {
  const exports = instance.exports;
  if (!exports) return undefined;
  if (entrypoint == null) return exports.default;
  return Object.prototype.hasOwnProperty.call(exports, entrypoint) ? exports[entrypoint] : undefined;
}

export function takeIdle(instanceKey) {
  const idle = instanceKey ? idleInstances.get(instanceKey) : undefined;
  if (idle === undefined) return undefined;
  const instance = idle.pop();
  idleCount -= 1;
  idleInstances.delete(instanceKey);
  if (idle.length) idleInstances.set(instanceKey, idle);
  return instance;
}

function takeInstance(state, instanceKey, script, envJson, bindingsJson) {
  let instance = takeIdle(instanceKey);
  if (instance === undefined) {
    instance = newInstance(state, instanceKey, script, envJson, bindingsJson);
    state.topLevelJobs = host.hasJobs();
  }
  state.where = instance.where;
  state.instance = instance;
  return instance;
}

// Called as the run ends: its instance is kept only if nothing of the run is left behind.
export function releaseInstance(state, clean) {
  const instance = state.instance;
  state.instance = null;
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

export function endedClean(state, error) {
  return (
    error === null &&
    state.timers.size === 0 &&
    state.calls.size === 0 &&
    state.waiting === 0 &&
    (state.fetcher === null || state.fetcher.pending() === 0)
  );
}

// Calls `serve` once the promise jobs a new instance's top level queued (an init chain, a
// bundled import()) have run, as workerd runs its microtask checkpoint after evaluating a
// module and before the first event: a handler that answered at once saw that work undone,
// and its run's end dropped the rest, leaving the kept instance a promise that never settles.
// A timer of the run fires only once none of its jobs is left (Host._fire_timer). An idle
// instance, or a top level that queued nothing, is served at once.
export function afterTopLevel(state, serve) {
  if (!state.topLevelJobs) {
    serve();
    return;
  }
  const handle = host.setTimer(() => {
    state.internalTimers.delete(handle);
    if (!state.done) serve();
  }, 0);
  state.internalTimers.add(handle);
}

// An instance, or undefined once the run has failed evaluating it (nothing is kept then).
export function instanceOrFail(state, instanceKey, script, envJson, bindingsJson) {
  try {
    return takeInstance(state, instanceKey, script, envJson, bindingsJson);
  } catch (err) {
    end(state, null, describeThrown(state, err));
    return undefined;
  }
}
