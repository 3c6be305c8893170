// MessageChannel and MessagePort (HTML Standard), within one run: what one port posts is
// structured-cloned at once (so a DataCloneError is thrown to the sender) and dispatched at the
// other port as a `message` event in a task of its own, on the run's internal timers (cleared
// when the run ends, as Workers drop what a finished request left). A port delivers once it
// is started (`start()`, or setting `onmessage`); `close()` disentangles both ports, and a
// closed port neither sends nor delivers. A message waiting for delivery counts against the
// timer limit of the run that posted it, as a timer would (VORTEX_MAX_TIMERS). No transfer
// list: ports cannot be sent to another worker (there is none), and buffers are copied.
import { structuredClone } from './clone.js';
import { DOMException } from './domexception.js';
import { EventTarget, MessageEvent, setPortCheck } from './events.js';
import { hooks } from './hooks.js';
import { defineToStringTag } from './util.js';

const CONSTRUCT = Symbol('construct');
const { addEventListener, removeEventListener, dispatchEvent } = EventTarget.prototype;
const internals = {};

function transferList(options) {
  if (options == null) return [];
  if (typeof options === 'object' && typeof options[Symbol.iterator] !== 'function') {
    return options.transfer === undefined ? [] : Array.from(options.transfer);
  }
  return Array.from(options);
}

export class MessagePort extends EventTarget {
  #other = null;
  #queue = [];
  #started = false;
  #closed = false;
  // The run whose timer will deliver the next message: a run that ended took its timer with
  // it, and the next one to post or start schedules again.
  #scheduledIn = null;
  #onmessage = null;
  #onmessageerror = null;

  constructor(key) {
    if (key !== CONSTRUCT) throw new TypeError('Illegal constructor');
    super();
  }

  postMessage(message, options = undefined) {
    if (arguments.length === 0) {
      throw new TypeError("Failed to execute 'postMessage' on 'MessagePort': 1 argument required, but only 0 present.");
    }
    if (transferList(options).length > 0) {
      throw new DOMException('Transferring objects is not supported by postMessage here', 'DataCloneError');
    }
    const data = structuredClone(message);
    const target = this.#other;
    if (target === null || this.#closed) return;
    target.#queue.push({ data, release: hooks.holdDelivery() });
    target.#schedule();
  }

  start() {
    if (this.#started) return;
    this.#started = true;
    this.#schedule();
  }

  close() {
    this.#closed = true;
    for (const queued of this.#queue) queued.release();
    this.#queue = [];
    const other = this.#other;
    this.#other = null;
    if (other !== null) other.#other = null;
  }

  get onmessage() {
    return this.#onmessage;
  }

  set onmessage(handler) {
    this.#onmessage = this.#replaceHandler('message', this.#onmessage, handler);
    this.start();
  }

  get onmessageerror() {
    return this.#onmessageerror;
  }

  set onmessageerror(handler) {
    this.#onmessageerror = this.#replaceHandler('messageerror', this.#onmessageerror, handler);
  }

  #replaceHandler(type, old, handler) {
    if (old !== null) Reflect.apply(removeEventListener, this, [type, old]);
    const next = typeof handler === 'function' ? handler : null;
    if (next !== null) Reflect.apply(addEventListener, this, [type, next]);
    return next;
  }

  #schedule() {
    if (!this.#started || this.#closed || this.#queue.length === 0) return;
    const run = hooks.currentRun();
    if (run === null || this.#scheduledIn === run) return;
    this.#scheduledIn = run;
    hooks.runTimer(() => this.#deliver(), 0);
  }

  #deliver() {
    this.#scheduledIn = null;
    if (this.#closed || this.#queue.length === 0) return;
    const { data, release } = this.#queue.shift();
    release();
    // One message per task, as each is its own task in a browser: the next waits its turn.
    this.#schedule();
    Reflect.apply(dispatchEvent, this, [new MessageEvent('message', { data })]);
  }

  static {
    internals.pair = () => {
      const one = new MessagePort(CONSTRUCT);
      const two = new MessagePort(CONSTRUCT);
      one.#other = two;
      two.#other = one;
      return [one, two];
    };
    internals.is = (value) => typeof value === 'object' && value !== null && #queue in value;
  }
}
defineToStringTag(MessagePort, 'MessagePort');
setPortCheck((value) => internals.is(value));

export class MessageChannel {
  #port1;
  #port2;

  constructor() {
    [this.#port1, this.#port2] = internals.pair();
  }

  get port1() {
    return this.#port1;
  }

  get port2() {
    return this.#port2;
  }
}
defineToStringTag(MessageChannel, 'MessageChannel');
