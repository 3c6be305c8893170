// cloudflare:workers, the module Workers code imports its entrypoint classes, `env` and
// `waitUntil` from. Linked into the function that imports it and evaluated in its compartment,
// per instance, like the node: built-ins (vortex/modules/nodebuiltins.py): a function that
// changes these classes changes its own copies only.
//
// Vortex has no Durable Objects or Workflows, and its RPC (service bindings' methods) passes JSON
// values, never stubs. Their classes are here so that a module
// written for them deploys (it may export a Durable Object class beside its fetch handler);
// what cannot work throws when it is used, never at the import.

// What the harness gives the compartments of module functions (instances.js): Vortex.env is the
// env object every handler gets, and this key holds ctx.waitUntil of the run whose turn it is.
const WAIT_UNTIL = Symbol.for('vortex.cloudflare:workers.waitUntil');
const platform = globalThis.Vortex;

function unsupported(what, instead) {
  return new TypeError(what + ' are not supported by Vortex' + (instead ? ': ' + instead : ''));
}

// The base class of a class default export: `export default class extends WorkerEntrypoint`.
// Vortex makes an instance per request with the run's ctx and the function's env.
export class WorkerEntrypoint {
  constructor(ctx, env) {
    this.ctx = ctx;
    this.env = env;
  }
}

// workerd refuses to make one without a real DurableObjectState, which Vortex never has.
export class DurableObject {
  constructor() {
    throw unsupported(
      'Durable Objects',
      'a class that extends DurableObject can be deployed, but there is no Durable Object namespace to make its instances (keep state in the function\'s KV, env.KV)',
    );
  }
}

export class WorkflowEntrypoint {
  constructor() {
    throw unsupported('Workflows', 'a class that extends WorkflowEntrypoint can be deployed, but no workflow ever runs it');
  }
}

// A marker class in workerd: its instances cross RPC by reference. Vortex's RPC passes JSON, so
// an instance is an ordinary object, which works as it would locally on workerd.
export class RpcTarget {}

export class RpcStub {
  constructor() {
    throw unsupported('RPC stubs', 'service bindings pass JSON values, not stubs, and there are no Durable Objects to call');
  }
}

// The same object the handlers get as `env` (and `this.env`): variables, secrets and the KV
// binding, frozen. workerd's is a proxy of the current request's env; Vortex has one env per
// function version, so the object itself is the same thing, also at the top level.
export const env = platform ? platform.env : undefined;

export function withEnv() {
  throw unsupported('withEnv() overrides of env', 'env is the function\'s own, for every request');
}

// ctx.waitUntil of the request (or cron event) being handled now.
export function waitUntil(promise) {
  const current = platform ? platform[WAIT_UNTIL] : undefined;
  if (typeof current !== 'function') {
    throw new TypeError('waitUntil() of "cloudflare:workers" is available to module functions only');
  }
  return current(promise);
}
