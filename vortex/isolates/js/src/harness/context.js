// The `ctx` of a module run (a fetch, a cron tick, an RPC call), shaped as workerd's: an
// ExecutionContext whose methods are on its prototype, with `props`, the props its caller gave
// (a service binding's `props`, parsed for this run; otherwise an empty object of the run's
// own). Its run is held in a private field, so the methods must be called on the ctx, as in
// workerd (`ctx.waitUntil(p)`, or bound).
import { addWaitUntil } from './waituntil.js';
import { markPlatform } from './boot.js';

// Only the harness makes one: a ctx made by user code (`new ctx.constructor(...)`) would hand
// the harness a run state of the user's making.
const MAKING = Symbol('ExecutionContext');

// The run of a ctx, or a TypeError naming `method`: set in the class's static block, where its
// private field can be read, without the class naming itself (esbuild would rename it).
let stateOf;

class ExecutionContext {
  #state;

  constructor(making, state) {
    if (making !== MAKING) throw new TypeError('Illegal constructor: Vortex makes the ctx of each run');
    this.#state = state;
    this.props = state.props === null ? {} : state.props;
  }

  static {
    stateOf = (ctx, method) => {
      if (typeof ctx === 'object' && ctx !== null && #state in ctx) return ctx.#state;
      throw new TypeError(
        'Illegal invocation: ' + method + '() was called on something other than the ctx: call it as ctx.' + method + '(...), or bind it: ctx.' + method + '.bind(ctx)',
      );
    };
  }

  waitUntil(promise) {
    addWaitUntil(stateOf(this, 'waitUntil'), promise);
  }

  // Does nothing: there is no origin behind a function to pass the request through to.
  passThroughOnException() {
    stateOf(this, 'passThroughOnException');
  }
}

export function makeContext(state) {
  return new ExecutionContext(MAKING, state);
}

// The class is shared by every run of the host: frozen once, after lockdown (harden exists
// from then on), before any run.
export function hardenContexts() {
  harden(ExecutionContext);
  markPlatform([ExecutionContext]);
}
