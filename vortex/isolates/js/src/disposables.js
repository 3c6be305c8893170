// Explicit resource management (ECMAScript 2026): Symbol.dispose, Symbol.asyncDispose,
// DisposableStack, AsyncDisposableStack and SuppressedError. workerd's V8 has them and this
// SpiderMonkey does not; code written for workerd uses them (the MCP SDK's stacks, TypeScript's
// `using` as tsc lowers it), or polyfills the symbols with `Symbol.dispose ??= Symbol()` (tRPC, at
// the top of its module), which lockdown's frozen Symbol refuses: such a module failed to load.

// Defined as the engine would, when this bundle is evaluated: before lockdown (SES permits
// both), and before the classes below name them.
for (const name of ['dispose', 'asyncDispose']) {
  if (typeof Symbol[name] !== 'symbol') Object.defineProperty(Symbol, name, { value: Symbol('Symbol.' + name) });
}

function defineHidden(object, key, value) {
  Object.defineProperty(object, key, { value, writable: true, configurable: true, enumerable: false });
}

export class SuppressedError extends Error {
  constructor(error, suppressed, message) {
    super(message === undefined ? undefined : String(message));
    defineHidden(this, 'error', error);
    defineHidden(this, 'suppressed', suppressed);
  }
}
defineHidden(SuppressedError.prototype, 'name', 'SuppressedError');
defineHidden(SuppressedError.prototype, 'message', '');

function alreadyDisposed(what) {
  return new ReferenceError(what + ' has already been disposed');
}

function callable(value, what) {
  if (typeof value !== 'function') throw new TypeError(what + ' is not a function');
  return value;
}

// The dispose method of `value` for `use()`: none for null or undefined, a TypeError for what has
// none. `async` looks for Symbol.asyncDispose first, then Symbol.dispose (its result ignored).
function disposeMethod(value, async) {
  if (value === null || value === undefined) return undefined;
  if (typeof value !== 'object' && typeof value !== 'function') throw new TypeError('use() takes an object with a dispose method, null or undefined');
  if (async) {
    const method = value[Symbol.asyncDispose];
    if (method !== undefined && method !== null) return callable(method, 'its [Symbol.asyncDispose]');
  }
  const method = value[Symbol.dispose];
  if (method === undefined || method === null) {
    throw new TypeError(async ? 'the value has neither [Symbol.asyncDispose] nor [Symbol.dispose]' : 'the value has no [Symbol.dispose] method');
  }
  callable(method, 'its [Symbol.dispose]');
  return async ? function () { method.call(this); } : method;
}

// Each resource's error, the latest wrapping those before it, as `using` declarations do.
function withError(previous, hasPrevious, error) {
  return hasPrevious ? new SuppressedError(error, previous) : error;
}

export class DisposableStack {
  #resources = [];
  #disposed = false;

  get disposed() {
    return this.#disposed;
  }

  use(value) {
    if (this.#disposed) throw alreadyDisposed('DisposableStack');
    const method = disposeMethod(value, false);
    if (method !== undefined) this.#resources.push([value, method]);
    return value;
  }

  adopt(value, onDispose) {
    if (this.#disposed) throw alreadyDisposed('DisposableStack');
    callable(onDispose, 'onDispose');
    this.#resources.push([undefined, () => onDispose(value)]);
    return value;
  }

  defer(onDispose) {
    if (this.#disposed) throw alreadyDisposed('DisposableStack');
    this.#resources.push([undefined, callable(onDispose, 'onDispose')]);
  }

  move() {
    if (this.#disposed) throw alreadyDisposed('DisposableStack');
    const moved = new DisposableStack();
    moved.#resources = this.#resources;
    this.#resources = [];
    this.#disposed = true;
    return moved;
  }

  dispose() {
    if (this.#disposed) return undefined;
    this.#disposed = true;
    const resources = this.#resources;
    this.#resources = [];
    let error;
    let failed = false;
    for (let i = resources.length - 1; i >= 0; i--) {
      const [value, method] = resources[i];
      try {
        method.call(value);
      } catch (err) {
        error = withError(error, failed, err);
        failed = true;
      }
    }
    if (failed) throw error;
    return undefined;
  }
}

export class AsyncDisposableStack {
  #resources = [];
  #disposed = false;

  get disposed() {
    return this.#disposed;
  }

  use(value) {
    if (this.#disposed) throw alreadyDisposed('AsyncDisposableStack');
    const method = disposeMethod(value, true);
    if (method !== undefined) this.#resources.push([value, method]);
    return value;
  }

  adopt(value, onDispose) {
    if (this.#disposed) throw alreadyDisposed('AsyncDisposableStack');
    callable(onDispose, 'onDispose');
    this.#resources.push([undefined, () => onDispose(value)]);
    return value;
  }

  defer(onDispose) {
    if (this.#disposed) throw alreadyDisposed('AsyncDisposableStack');
    this.#resources.push([undefined, callable(onDispose, 'onDispose')]);
  }

  move() {
    if (this.#disposed) throw alreadyDisposed('AsyncDisposableStack');
    const moved = new AsyncDisposableStack();
    moved.#resources = this.#resources;
    this.#resources = [];
    this.#disposed = true;
    return moved;
  }

  async disposeAsync() {
    if (!(#disposed in this)) throw new TypeError('disposeAsync() called on something other than an AsyncDisposableStack');
    if (this.#disposed) return undefined;
    this.#disposed = true;
    const resources = this.#resources;
    this.#resources = [];
    let error;
    let failed = false;
    for (let i = resources.length - 1; i >= 0; i--) {
      const [value, method] = resources[i];
      try {
        await method.call(value);
      } catch (err) {
        error = withError(error, failed, err);
        failed = true;
      }
    }
    if (failed) throw error;
    return undefined;
  }
}

// As the standard has them: the symbol-keyed methods are the same functions as the named ones.
defineHidden(DisposableStack.prototype, Symbol.dispose, DisposableStack.prototype.dispose);
defineHidden(AsyncDisposableStack.prototype, Symbol.asyncDispose, AsyncDisposableStack.prototype.disposeAsync);
Object.defineProperty(DisposableStack.prototype, Symbol.toStringTag, { value: 'DisposableStack', configurable: true });
Object.defineProperty(AsyncDisposableStack.prototype, Symbol.toStringTag, { value: 'AsyncDisposableStack', configurable: true });
