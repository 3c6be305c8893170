// node:timers: Node's timer functions over the run's own, as workerd's nodejs_compat has them
// (unenv's preset for Cloudflare, which Nitro's cloudflare-module output is built with,
// imports setTimeout and the rest from here). A timer is a Timeout object, as in Node: ref(),
// unref() and hasRef() (a function's timers keep its run going whatever they say), refresh(),
// close(), and its id as a primitive, which the global clearTimeout takes too. setImmediate is
// a timer of 0 ms: a function has no I/O phase for it to come after.
const platform = {
  setTimeout: (...args) => globalThis.setTimeout(...args),
  clearTimeout: (id) => globalThis.clearTimeout(id),
  setInterval: (...args) => globalThis.setInterval(...args),
  clearInterval: (id) => globalThis.clearInterval(id),
};

function checkCallback(callback) {
  if (typeof callback !== 'function') {
    const error = new TypeError('The "callback" argument must be of type function. Received ' + typeof callback);
    error.code = 'ERR_INVALID_ARG_TYPE';
    throw error;
  }
}

class Timeout {
  #start;
  #clear;
  #id;
  constructor(start, clear) {
    this.#start = start;
    this.#clear = clear;
    this.#id = start();
  }
  ref() {
    return this;
  }
  unref() {
    return this;
  }
  hasRef() {
    return true;
  }
  refresh() {
    this.#clear(this.#id);
    this.#id = this.#start();
    return this;
  }
  close() {
    this.#clear(this.#id);
    return this;
  }
  [Symbol.toPrimitive]() {
    return this.#id;
  }
}

class Immediate extends Timeout {}

function setTimeout(callback, ms, ...args) {
  checkCallback(callback);
  return new Timeout(() => platform.setTimeout(callback, ms, ...args), platform.clearTimeout);
}

function setInterval(callback, ms, ...args) {
  checkCallback(callback);
  return new Timeout(() => platform.setInterval(callback, ms, ...args), platform.clearInterval);
}

function setImmediate(callback, ...args) {
  checkCallback(callback);
  return new Immediate(() => platform.setTimeout(callback, 0, ...args), platform.clearTimeout);
}

function clear(timer) {
  if (timer instanceof Timeout) timer.close();
  else if (timer !== undefined && timer !== null) platform.clearTimeout(timer);
}

function abortError(signal) {
  const error = new Error('The operation was aborted', { cause: signal.reason });
  error.name = 'AbortError';
  error.code = 'ABORT_ERR';
  return error;
}

// timers/promises
function delay(ms, value, options = {}) {
  const { signal } = options;
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) {
      reject(abortError(signal));
      return;
    }
    const onAbort = () => {
      platform.clearTimeout(id);
      reject(abortError(signal));
    };
    const id = platform.setTimeout(() => {
      if (signal) signal.removeEventListener('abort', onAbort);
      resolve(value);
    }, ms);
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
  });
}

async function* every(ms, value, options = {}) {
  for (;;) yield await delay(ms, value, options);
}

const promises = {
  setTimeout: delay,
  setImmediate: (value, options) => delay(0, value, options),
  setInterval: every,
  scheduler: {
    wait: (ms, options) => delay(ms, undefined, options),
    yield: () => delay(0),
  },
};

module.exports = {
  setTimeout,
  clearTimeout: clear,
  setInterval,
  clearInterval: clear,
  setImmediate,
  clearImmediate: clear,
  promises,
};
