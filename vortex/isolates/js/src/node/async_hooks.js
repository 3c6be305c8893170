// node:async_hooks as workerd's nodejs_compat has it: AsyncLocalStorage and AsyncResource,
// and the rest of the module as inert stand-ins (workerd runs no hooks either). The async
// context itself is the harness's (harness/asynccontext.js): a function that imports this
// module gets it, with a Promise of its own that carries it across `then` and the awaits its
// code was lowered to at deploy; this module only names stores in it.
const CONTEXT = Symbol.for('vortex.node:async_hooks.context');
const platform = globalThis.Vortex;
const context = platform !== undefined ? platform[CONTEXT] : undefined;
if (context === undefined) {
  throw new Error('node:async_hooks needs the async context Vortex gives the module functions that import it');
}

function checkFunction(fn, name) {
  if (typeof fn !== 'function') {
    const error = new TypeError('The "' + name + '" argument must be of type function. Received ' + typeof fn);
    error.code = 'ERR_INVALID_ARG_TYPE';
    throw error;
  }
}

class AsyncLocalStorage {
  #enabled = false;

  // A function that runs `fn` in the context of now, whenever it is called.
  static bind(fn) {
    checkFunction(fn, 'fn');
    return context.bind(fn);
  }

  // A function that runs its first argument (with the rest) in the context of now.
  static snapshot() {
    return context.snapshot();
  }

  disable() {
    this.#enabled = false;
    context.leave(this);
  }

  getStore() {
    return this.#enabled ? context.get(this) : undefined;
  }

  enterWith(store) {
    this.#enabled = true;
    context.enter(this, store);
  }

  run(store, fn, ...args) {
    this.#enabled = true;
    return context.run(this, store, fn, args);
  }

  exit(fn, ...args) {
    return context.exit(this, fn, args);
  }
}

// Ids count nothing here, as in workerd: there is no hook to tell them to.
let lastAsyncId = 0;

class AsyncResource {
  #runInScope;
  #asyncId;
  #triggerAsyncId;

  constructor(type, options) {
    if (typeof type !== 'string') {
      const error = new TypeError('The "type" argument must be of type string. Received ' + typeof type);
      error.code = 'ERR_INVALID_ARG_TYPE';
      throw error;
    }
    this.#runInScope = context.snapshot();
    lastAsyncId += 1;
    this.#asyncId = lastAsyncId;
    const trigger = typeof options === 'number' ? options : options && options.triggerAsyncId;
    this.#triggerAsyncId = typeof trigger === 'number' ? trigger : 0;
  }

  static bind(fn, type, thisArg) {
    return new AsyncResource(type || fn.name || 'bound-anonymous-fn').bind(fn, thisArg);
  }

  runInAsyncScope(fn, thisArg, ...args) {
    return this.#runInScope(() => Reflect.apply(fn, thisArg, args));
  }

  bind(fn, thisArg) {
    checkFunction(fn, 'fn');
    const resource = this;
    const bound = function (...args) {
      return resource.runInAsyncScope(fn, thisArg === undefined ? this : thisArg, ...args);
    };
    Object.defineProperties(bound, {
      length: { value: fn.length, configurable: true },
      asyncResource: { value: this, configurable: true, enumerable: true, writable: true },
    });
    return bound;
  }

  emitDestroy() {
    return this;
  }

  asyncId() {
    return this.#asyncId;
  }

  triggerAsyncId() {
    return this.#triggerAsyncId;
  }
}

function createHook() {
  const hook = {
    enable: () => hook,
    disable: () => hook,
  };
  return hook;
}

const executionAsyncId = () => 0;
const triggerAsyncId = () => 0;
const executionAsyncResource = () => ({});

module.exports = {
  AsyncLocalStorage,
  AsyncResource,
  createHook,
  executionAsyncId,
  triggerAsyncId,
  executionAsyncResource,
  asyncWrapProviders: Object.freeze({ __proto__: null }),
};
