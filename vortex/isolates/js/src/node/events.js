// node:events: the `events` package (Node's EventEmitter for browsers), with `on`, which it
// lacks. Evaluated per instance of the importing function: defaultMaxListeners, the prototype
// and captured state are never another function's.
const EventEmitter = require('events/events.js');

// Node's events.on: an async iterator of the arguments of each `event`, ended by `error`.
function on(emitter, event, options) {
  const signal = options && options.signal;
  const queued = [];
  const waiting = [];
  let failure = null;
  let finished = false;
  const push = (...args) => {
    const next = waiting.shift();
    if (next) next.resolve({ value: args, done: false });
    else queued.push(args);
  };
  const fail = (err) => {
    finished = true;
    const next = waiting.shift();
    if (next) next.reject(err);
    else failure = err;
    stop();
  };
  const abort = () => fail(signal.reason !== undefined ? signal.reason : new Error('The operation was aborted'));
  function stop() {
    finished = true;
    emitter.removeListener(event, push);
    if (event !== 'error') emitter.removeListener('error', fail);
    if (signal) signal.removeEventListener('abort', abort);
    for (const next of waiting.splice(0)) next.resolve({ value: undefined, done: true });
  }
  if (signal && signal.aborted) abort();
  else {
    emitter.on(event, push);
    if (event !== 'error') emitter.on('error', fail);
    if (signal) signal.addEventListener('abort', abort, { once: true });
  }
  return {
    next() {
      if (queued.length) return Promise.resolve({ value: queued.shift(), done: false });
      if (failure !== null) {
        const err = failure;
        failure = null;
        return Promise.reject(err);
      }
      if (finished) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve, reject) => waiting.push({ resolve, reject }));
    },
    return() {
      stop();
      return Promise.resolve({ value: undefined, done: true });
    },
    throw(err) {
      fail(err);
      return Promise.reject(err);
    },
    [Symbol.asyncIterator]() {
      return this;
    },
  };
}

EventEmitter.on = on;
EventEmitter.EventTarget = globalThis.EventTarget;
EventEmitter.Event = globalThis.Event;
module.exports = EventEmitter;
