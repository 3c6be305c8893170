// AbortController and AbortSignal (DOM Standard), with AbortSignal.abort, .timeout and .any.
// A timeout runs on the current run's own timers, so it never fires after that run has ended.
import { DOMException } from './domexception.js';
import { Event, EventTarget, setSignalCheck } from './events.js';
import { hooks } from './hooks.js';
import { defineToStringTag } from './util.js';

const CONSTRUCT = Symbol('construct');
const internals = {};

export class AbortSignal extends EventTarget {
  #aborted = false;
  #reason = undefined;
  #onabort = null;
  #dependents = [];

  constructor(key) {
    if (key !== CONSTRUCT) throw new TypeError('Illegal constructor');
    super();
  }

  get aborted() {
    return this.#aborted;
  }

  get reason() {
    return this.#reason;
  }

  throwIfAborted() {
    if (this.#aborted) throw this.#reason;
  }

  get onabort() {
    return this.#onabort;
  }

  set onabort(handler) {
    if (this.#onabort) this.removeEventListener('abort', this.#onabort);
    this.#onabort = typeof handler === 'function' ? handler : null;
    if (this.#onabort) this.addEventListener('abort', this.#onabort);
  }

  static abort(reason = undefined) {
    const signal = new AbortSignal(CONSTRUCT);
    signal.#aborted = true;
    signal.#reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    return signal;
  }

  static timeout(milliseconds) {
    const ms = Number(milliseconds);
    if (!Number.isFinite(ms) || ms < 0) {
      throw new TypeError("Failed to execute 'timeout' on 'AbortSignal': The provided value is not a valid timeout");
    }
    const signal = new AbortSignal(CONSTRUCT);
    hooks.runTimer(() => {
      AbortSignal.#signalAbort(signal, new DOMException('The operation timed out.', 'TimeoutError'));
    }, ms);
    return signal;
  }

  static any(signals) {
    const result = new AbortSignal(CONSTRUCT);
    const list = Array.from(signals);
    for (const signal of list) {
      if (!(signal instanceof AbortSignal)) throw new TypeError("Failed to execute 'any': not an AbortSignal");
      if (signal.#aborted) {
        result.#aborted = true;
        result.#reason = signal.#reason;
        return result;
      }
    }
    for (const signal of list) signal.#dependents.push(result);
    return result;
  }

  static #signalAbort(signal, reason) {
    if (signal.#aborted) return;
    signal.#aborted = true;
    signal.#reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    const dependents = signal.#dependents;
    signal.#dependents = [];
    signal.dispatchEvent(new Event('abort'));
    for (const dependent of dependents) AbortSignal.#signalAbort(dependent, signal.#reason);
  }

  static {
    internals.create = () => new AbortSignal(CONSTRUCT);
    internals.abort = (signal, reason) => AbortSignal.#signalAbort(signal, reason);
    internals.reason = (signal) => signal.#reason;
    internals.is = (value) => typeof value === 'object' && value !== null && #aborted in value;
    internals.isAborted = (signal) => {
      try {
        return signal.#aborted;
      } catch {
        return Boolean(signal && signal.aborted);
      }
    };
  }
}
defineToStringTag(AbortSignal, 'AbortSignal');
setSignalCheck((signal) => internals.isAborted(signal));

export class AbortController {
  #signal = internals.create();

  get signal() {
    return this.#signal;
  }

  abort(reason = undefined) {
    internals.abort(this.#signal, reason);
  }
}
defineToStringTag(AbortController, 'AbortController');

export const abortInternals = internals;
