// Event and EventTarget (DOM Standard), enough for AbortSignal and for user code that builds its
// own targets: listeners with `once`, `signal` and `handleEvent` objects, removal during dispatch.
// There is no tree, so there is no capture or bubbling phase.
import { DOMException } from './domexception.js';
import { hooks } from './hooks.js';
import { defineToStringTag } from './util.js';

const NONE = 0;
const AT_TARGET = 2;
// Filled by Event's static block: EventTarget needs to drive an event's private state.
const internals = {};
// Filled by EventTarget's static block, for the platform's own dispatches (never user code's).
export const eventTargetInternals = {};

export class Event {
  #type;
  #bubbles;
  #cancelable;
  #composed;
  #target = null;
  #currentTarget = null;
  #phase = NONE;
  #canceled = false;
  #stop = false;
  #stopImmediate = false;
  #dispatching = false;
  #timeStamp;

  constructor(type, init = undefined) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'Event': 1 argument required");
    this.#type = String(type);
    const options = init == null ? {} : init;
    this.#bubbles = Boolean(options.bubbles);
    this.#cancelable = Boolean(options.cancelable);
    this.#composed = Boolean(options.composed);
    this.#timeStamp = hooks.now();
  }

  get type() { return this.#type; }
  get target() { return this.#target; }
  get srcElement() { return this.#target; }
  get currentTarget() { return this.#currentTarget; }
  get eventPhase() { return this.#phase; }
  get bubbles() { return this.#bubbles; }
  get cancelable() { return this.#cancelable; }
  get composed() { return this.#composed; }
  get defaultPrevented() { return this.#canceled; }
  get isTrusted() { return false; }
  get timeStamp() { return this.#timeStamp; }
  get cancelBubble() { return this.#stop; }
  set cancelBubble(value) { if (value) this.#stop = true; }
  get returnValue() { return !this.#canceled; }
  set returnValue(value) { if (!value && this.#cancelable) this.#canceled = true; }

  composedPath() {
    return this.#currentTarget ? [this.#currentTarget] : [];
  }

  stopPropagation() { this.#stop = true; }

  stopImmediatePropagation() {
    this.#stop = true;
    this.#stopImmediate = true;
  }

  preventDefault() {
    if (this.#cancelable) this.#canceled = true;
  }

  // Used by EventTarget#dispatchEvent only (a static block keeps these out of user reach).
  static #begin(event, target) {
    if (event.#dispatching) throw new DOMException('The event is already being dispatched', 'InvalidStateError');
    event.#dispatching = true;
    event.#target = target;
    event.#currentTarget = target;
    event.#phase = AT_TARGET;
  }

  static #end(event) {
    event.#dispatching = false;
    event.#currentTarget = null;
    event.#phase = NONE;
    event.#stop = false;
    event.#stopImmediate = false;
  }

  static #stopped(event) {
    return event.#stopImmediate;
  }

  static {
    internals.begin = (event, target) => Event.#begin(event, target);
    internals.end = (event) => Event.#end(event);
    internals.stoppedImmediately = (event) => Event.#stopped(event);
    internals.isEvent = (value) => {
      try {
        return typeof value === 'object' && value !== null && #type in value;
      } catch {
        return false;
      }
    };
  }
}
for (const [name, value] of [['NONE', 0], ['CAPTURING_PHASE', 1], ['AT_TARGET', 2], ['BUBBLING_PHASE', 3]]) {
  Object.defineProperty(Event, name, { value, enumerable: true });
  Object.defineProperty(Event.prototype, name, { value, enumerable: true });
}
defineToStringTag(Event, 'Event');

function flattenOptions(options) {
  if (typeof options === 'boolean') return { capture: options, once: false, signal: undefined };
  if (options == null) return { capture: false, once: false, signal: undefined };
  return { capture: Boolean(options.capture), once: Boolean(options.once), signal: options.signal };
}

export class EventTarget {
  #listeners = new Map();

  addEventListener(type, callback, options = undefined) {
    if (callback == null) return;
    if (typeof callback !== 'function' && typeof callback !== 'object') {
      throw new TypeError("Failed to execute 'addEventListener': parameter 2 is not of type 'Object'");
    }
    const { capture, once, signal } = flattenOptions(options);
    if (signal !== undefined && signalAborted(signal)) return;
    const key = String(type);
    let list = this.#listeners.get(key);
    if (!list) {
      list = [];
      this.#listeners.set(key, list);
    }
    if (list.some((l) => l.callback === callback && l.capture === capture)) return;
    const listener = { callback, capture, once, removed: false };
    list.push(listener);
    if (signal !== undefined) {
      signal.addEventListener('abort', () => this.removeEventListener(key, callback, { capture }));
    }
  }

  removeEventListener(type, callback, options = undefined) {
    const list = this.#listeners.get(String(type));
    if (!list) return;
    const { capture } = flattenOptions(options);
    const index = list.findIndex((l) => l.callback === callback && l.capture === capture);
    if (index === -1) return;
    list[index].removed = true;
    list.splice(index, 1);
  }

  dispatchEvent(event) {
    if (!internals.isEvent(event)) {
      throw new TypeError("Failed to execute 'dispatchEvent': parameter 1 is not of type 'Event'");
    }
    return this.#dispatch(event, hooks.reportError);
  }

  // `onError` gets what a listener threw (the next listeners still run): a WebSocket's message
  // handler that throws closes its socket (websocket.js), where dispatchEvent only reports it.
  #dispatch(event, onError) {
    internals.begin(event, this);
    try {
      const list = this.#listeners.get(event.type);
      if (list) {
        for (const listener of list.slice()) {
          if (listener.removed) continue;
          if (listener.once) this.removeEventListener(event.type, listener.callback, { capture: listener.capture });
          try {
            if (typeof listener.callback === 'function') listener.callback.call(this, event);
            else if (typeof listener.callback.handleEvent === 'function') listener.callback.handleEvent(event);
          } catch (error) {
            onError(error);
          }
          if (internals.stoppedImmediately(event)) break;
        }
      }
    } finally {
      internals.end(event);
    }
    return !event.defaultPrevented;
  }

  static {
    eventTargetInternals.dispatch = (target, event, onError) => target.#dispatch(event, onError);
  }
}
defineToStringTag(EventTarget, 'EventTarget');

// AbortSignal registers itself here so that addEventListener can honour `signal` without
// importing it (abort.js imports this module).
let signalAborted = (signal) => Boolean(signal.aborted);
export function setSignalCheck(check) {
  signalAborted = check;
}

// The Event subclasses of the DOM and HTML Standards that Workers have: each adds read-only
// fields taken from its init dictionary, converted as WebIDL converts them.
function initOf(init) {
  return init == null ? {} : init;
}

export class CustomEvent extends Event {
  #detail;

  constructor(type, init = undefined) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'CustomEvent': 1 argument required");
    super(type, init);
    const detail = initOf(init).detail;
    this.#detail = detail === undefined ? null : detail;
  }

  get detail() { return this.#detail; }
}
defineToStringTag(CustomEvent, 'CustomEvent');

export class ErrorEvent extends Event {
  #message;
  #filename;
  #lineno;
  #colno;
  #error;

  constructor(type, init = undefined) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'ErrorEvent': 1 argument required");
    super(type, init);
    const options = initOf(init);
    // WebIDL reads a dictionary's members in the order of their names.
    const { colno, error, filename, lineno, message } = options;
    this.#colno = colno === undefined ? 0 : Number(colno) >>> 0;
    this.#error = error;
    this.#filename = filename === undefined ? '' : String(filename);
    this.#lineno = lineno === undefined ? 0 : Number(lineno) >>> 0;
    this.#message = message === undefined ? '' : String(message);
  }

  get message() { return this.#message; }
  get filename() { return this.#filename; }
  get lineno() { return this.#lineno; }
  get colno() { return this.#colno; }
  get error() { return this.#error; }
}
defineToStringTag(ErrorEvent, 'ErrorEvent');

export class PromiseRejectionEvent extends Event {
  #promise;
  #reason;

  constructor(type, init) {
    if (arguments.length < 2) {
      throw new TypeError(`Failed to construct 'PromiseRejectionEvent': 2 arguments required, but only ${arguments.length} present.`);
    }
    super(type, init);
    const options = initOf(init);
    const { promise, reason } = options;
    if ((typeof promise !== 'object' && typeof promise !== 'function') || promise === null) {
      throw new TypeError("Failed to construct 'PromiseRejectionEvent': required member promise is undefined or not an object.");
    }
    this.#promise = promise;
    this.#reason = reason;
  }

  get promise() { return this.#promise; }
  get reason() { return this.#reason; }
}
defineToStringTag(PromiseRejectionEvent, 'PromiseRejectionEvent');

export class MessageEvent extends Event {
  #data;
  #origin;
  #lastEventId;
  #source;
  #ports;

  constructor(type, init = undefined) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'MessageEvent': 1 argument required");
    super(type, init);
    const { data, lastEventId, origin, ports, source } = initOf(init);
    this.#data = data === undefined ? null : data;
    this.#lastEventId = lastEventId === undefined ? '' : String(lastEventId);
    this.#origin = origin === undefined ? '' : String(origin);
    if (source !== undefined && source !== null) {
      throw new TypeError("Failed to construct 'MessageEvent': member source is not of type MessageEventSource.");
    }
    this.#source = null;
    const list = ports === undefined ? [] : Array.from(ports);
    if (!list.every((port) => isPort(port))) {
      throw new TypeError("Failed to construct 'MessageEvent': member ports is not of type sequence<MessagePort>.");
    }
    this.#ports = Object.freeze(list);
  }

  get data() { return this.#data; }
  get origin() { return this.#origin; }
  get lastEventId() { return this.#lastEventId; }
  get source() { return this.#source; }
  get ports() { return this.#ports; }
}
defineToStringTag(MessageEvent, 'MessageEvent');

// MessagePort registers itself here (messaging.js imports this module).
let isPort = () => false;
export function setPortCheck(check) {
  isPort = check;
}

// reportError (HTML Standard): the error is reported as an uncaught one would be (to the run's
// log), and the caller goes on. There is no global `error` event to cancel the report.
export function reportError(error) {
  if (arguments.length === 0) {
    throw new TypeError("Failed to execute 'reportError': 1 argument required, but only 0 present.");
  }
  hooks.reportError(error);
}
