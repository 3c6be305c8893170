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

// One stack's state, of either kind: its resources (each a value and its dispose method), in
// the order they were added, and whether it was disposed. The two classes differ only in how
// they dispose of them; this record is never handed out.
class Resources {
  entries = [];
  disposed = false;

  // The entries to add to, or a ReferenceError once disposed.
  open(what) {
    if (this.disposed) throw alreadyDisposed(what);
    return this.entries;
  }

  // The entries, for disposing of (or moving): the stack is disposed from now on.
  take() {
    this.disposed = true;
    const entries = this.entries;
    this.entries = [];
    return entries;
  }

  moved(what) {
    this.open(what);
    const next = new Resources();
    next.entries = this.take();
    return next;
  }
}

function adopted(value, onDispose) {
  callable(onDispose, 'onDispose');
  return [undefined, () => onDispose(value)];
}

export class DisposableStack {
  #stack = new Resources();

  get disposed() {
    return this.#stack.disposed;
  }

  use(value) {
    const entries = this.#stack.open('DisposableStack');
    const method = disposeMethod(value, false);
    if (method !== undefined) entries.push([value, method]);
    return value;
  }

  adopt(value, onDispose) {
    this.#stack.open('DisposableStack').push(adopted(value, onDispose));
    return value;
  }

  defer(onDispose) {
    this.#stack.open('DisposableStack').push([undefined, callable(onDispose, 'onDispose')]);
  }

  move() {
    const moved = new DisposableStack();
    moved.#stack = this.#stack.moved('DisposableStack');
    return moved;
  }

  dispose() {
    if (this.#stack.disposed) return undefined;
    const resources = this.#stack.take();
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
  #stack = new Resources();

  get disposed() {
    return this.#stack.disposed;
  }

  use(value) {
    const entries = this.#stack.open('AsyncDisposableStack');
    const method = disposeMethod(value, true);
    if (method !== undefined) entries.push([value, method]);
    return value;
  }

  adopt(value, onDispose) {
    this.#stack.open('AsyncDisposableStack').push(adopted(value, onDispose));
    return value;
  }

  defer(onDispose) {
    this.#stack.open('AsyncDisposableStack').push([undefined, callable(onDispose, 'onDispose')]);
  }

  move() {
    const moved = new AsyncDisposableStack();
    moved.#stack = this.#stack.moved('AsyncDisposableStack');
    return moved;
  }

  async disposeAsync() {
    if (!(#stack in this)) throw new TypeError('disposeAsync() called on something other than an AsyncDisposableStack');
    if (this.#stack.disposed) return undefined;
    const resources = this.#stack.take();
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
