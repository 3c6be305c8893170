// WebSocketPair, WebSocket and CloseEvent (MessageEvent is events.js's), as Workers have them. A function
// accepts a WebSocket by making a pair, keeping one end (accept(), send(), close(), events) and
// returning the other in `new Response(null, { status: 101, webSocket })`. The harness then
// attaches the returned end to the client's connection (`attach`): what the kept end sends goes
// to the client, and what the client sends arrives as the kept end's events. Only the host makes
// frames (vortex/isolates/wsconn.py); outbound WebSockets (`new WebSocket(url)`) are refused.
import { DOMException } from './domexception.js';
import { Event, EventTarget, MessageEvent, eventTargetInternals } from './events.js';
import { bytesToBinary, copyBytes, defineToStringTag, isBufferSource, utf8Decode, utf8Encode } from './util.js';

const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;
const NO_STATUS = 1005;
// Workers' limit on a message, both ways; the host closes with 1009 past it.
export const MAX_MESSAGE_BYTES = 1 << 20;
const MAX_REASON_BYTES = 123;
// Codes a close frame may not carry (RFC 6455 7.4.1): they describe what never was a frame.
const RESERVED_CODES = new Set([1004, 1005, 1006, 1015]);
// Only this module makes a WebSocket: user code gets them from a WebSocketPair.
const PAIR_END = Object.freeze({});
const OUTBOUND =
  'Outbound WebSockets are not supported by Vortex: new WebSocket(url) cannot connect anywhere. ' +
  'A function accepts WebSockets with new WebSocketPair() and new Response(null, { status: 101, webSocket })';

export class CloseEvent extends Event {
  #code;
  #reason;
  #wasClean;

  constructor(type, init = undefined) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'CloseEvent': 1 argument required");
    super(type, init);
    const options = init == null ? {} : init;
    this.#code = options.code === undefined ? 0 : Number(options.code) & 0xffff;
    this.#reason = options.reason === undefined ? '' : String(options.reason);
    this.#wasClean = Boolean(options.wasClean);
  }

  get code() { return this.#code; }
  get reason() { return this.#reason; }
  get wasClean() { return this.#wasClean; }
}
defineToStringTag(CloseEvent, 'CloseEvent');

function closeCode(code) {
  const number = Number(code);
  if (!Number.isInteger(number) || number < 1000 || number > 4999 || RESERVED_CODES.has(number)) {
    throw new TypeError(`Invalid WebSocket close code: ${code} (1000-4999, not 1004, 1005, 1006 or 1015)`);
  }
  return number;
}

const internals = {};

export class WebSocket extends EventTarget {
  #peer = null;
  #state = OPEN;
  #accepted = false;
  // On the end attached to the client: {send(text, binary), close(code, reasonBinary), failed(error)}.
  #wire = null;
  // On an end not attached yet: what its peer sent meanwhile, sent once it is.
  #queue = [];
  // On the kept end before accept(): the events that arrived, dispatched by accept().
  #inbox = [];
  #closeSent = false;

  constructor(url = undefined, protocols = undefined) {
    if (url !== PAIR_END) throw new TypeError(OUTBOUND);
    super();
  }

  get readyState() { return this.#state; }
  get url() { return null; }
  get protocol() { return ''; }
  get extensions() { return ''; }

  accept() {
    if (this.#wire !== null) {
      throw new TypeError('This end of the pair was returned in a Response: call accept() on the other end');
    }
    if (this.#accepted) return;
    this.#accepted = true;
    const arrived = this.#inbox;
    this.#inbox = [];
    if (arrived.length) Promise.resolve().then(() => arrived.forEach((event) => WebSocket.#deliver(this, event)));
  }

  send(message) {
    if (!this.#accepted) {
      throw new DOMException('You must call accept() on this WebSocket before sending messages.', 'InvalidStateError');
    }
    if (this.#state !== OPEN || this.#closeSent) {
      throw new DOMException("Can't call WebSocket send() after close()", 'InvalidStateError');
    }
    let text;
    let bytes;
    if (typeof message === 'string') {
      text = true;
      bytes = utf8Encode(message);
    } else if (isBufferSource(message)) {
      text = false;
      bytes = copyBytes(message);
    } else {
      throw new TypeError('WebSocket send() takes a string, an ArrayBuffer or an ArrayBufferView');
    }
    if (bytes.length > MAX_MESSAGE_BYTES) {
      throw new RangeError(`A WebSocket message may be at most ${MAX_MESSAGE_BYTES} bytes (1 MiB); this one has ${bytes.length}`);
    }
    WebSocket.#transmit(this.#peer, ['message', text, bytes]);
  }

  close(code = undefined, reason = undefined) {
    if (!this.#accepted) {
      throw new DOMException('You must call accept() on this WebSocket before closing it.', 'InvalidStateError');
    }
    const number = code === undefined ? NO_STATUS : closeCode(code);
    const reasonBytes = reason === undefined ? new Uint8Array(0) : utf8Encode(String(reason));
    if (reasonBytes.length > MAX_REASON_BYTES) {
      throw new DOMException(`The close reason must be at most ${MAX_REASON_BYTES} bytes of UTF-8`, 'SyntaxError');
    }
    if (reasonBytes.length && code === undefined) {
      throw new DOMException('A close reason needs a close code', 'InvalidAccessError');
    }
    if (this.#closeSent || this.#state === CLOSED) return;
    this.#closeSent = true;
    this.#state = CLOSING;
    WebSocket.#transmit(this.#peer, ['close', number, reasonBytes]);
  }

  static #transmit(end, item) {
    const wire = end.#wire;
    if (wire === null) {
      end.#queue.push(item);
    } else if (item[0] === 'message') {
      wire.send(item[1], bytesToBinary(item[2]));
    } else {
      wire.close(item[1], bytesToBinary(item[2]));
    }
  }

  static #deliver(end, event) {
    if (!end.#accepted) {
      end.#inbox.push(event);
      return;
    }
    const wire = end.#peer.#wire;
    eventTargetInternals.dispatch(end, event, (error) => wire.failed(error));
  }

  static {
    internals.is = (value) => typeof value === 'object' && value !== null && #wire in value;
    internals.pair = () => {
      const first = new WebSocket(PAIR_END);
      const second = new WebSocket(PAIR_END);
      first.#peer = second;
      second.#peer = first;
      return [first, second];
    };
    // Why `end` cannot be a Response's webSocket, or null.
    internals.attachable = (end) => {
      if (end.#accepted) return 'The webSocket of a Response must be the end of the pair that was not accept()ed: return the other end';
      if (end.#wire !== null) return 'This WebSocket was returned in a Response already';
      return null;
    };
    internals.attach = (end, wire) => {
      end.#wire = wire;
      const queued = end.#queue;
      end.#queue = [];
      for (const item of queued) WebSocket.#transmit(end, item);
    };
    // A message from the client: an event of the kept end.
    internals.received = (end, text, bytes) => {
      const kept = end.#peer;
      if (kept.#state === CLOSED) return;
      const data = text ? utf8Decode(bytes) : bytes.buffer;
      WebSocket.#deliver(kept, new MessageEvent('message', { data }));
    };
    // The client began the closing handshake: the kept end's close event, and its answer (the
    // same code, unless a listener called close() itself).
    internals.closing = (end, code, reason) => {
      const kept = end.#peer;
      if (kept.#state === CLOSED) return;
      kept.#state = CLOSING;
      WebSocket.#deliver(kept, new CloseEvent('close', { code, reason, wasClean: true }));
      if (!kept.#closeSent) {
        kept.#closeSent = true;
        end.#wire.close(code, '');
      }
      kept.#state = CLOSED;
    };
    // The connection is over (the handshake ended, the client left, the host closed it).
    internals.closed = (end, code, reason, wasClean) => {
      const kept = end.#peer;
      if (kept.#state === CLOSED) return;
      kept.#state = CLOSED;
      kept.#closeSent = true;
      if (!wasClean) WebSocket.#deliver(kept, new Event('error'));
      WebSocket.#deliver(kept, new CloseEvent('close', { code, reason, wasClean }));
    };
    // The platform closes on the kept end's behalf (a listener threw: 1011).
    internals.fail = (end, code, reason) => {
      const kept = end.#peer;
      if (kept.#closeSent || kept.#state === CLOSED) return;
      kept.#closeSent = true;
      kept.#state = CLOSING;
      end.#wire.close(code, bytesToBinary(utf8Encode(reason)));
    };
  }
}
for (const [name, value] of [['CONNECTING', 0], ['OPEN', 1], ['CLOSING', 2], ['CLOSED', 3]]) {
  Object.defineProperty(WebSocket, name, { value, enumerable: true });
  Object.defineProperty(WebSocket.prototype, name, { value, enumerable: true });
}
defineToStringTag(WebSocket, 'WebSocket');

// `Object.values(new WebSocketPair())` is the two ends, as in Workers: own properties 0 and 1,
// read-only. Not frozen: the pair and its ends are the run's own objects, not shared ones.
export class WebSocketPair {
  constructor() {
    const [first, second] = internals.pair();
    Object.defineProperty(this, 0, { value: first, enumerable: true });
    Object.defineProperty(this, 1, { value: second, enumerable: true });
  }
}
defineToStringTag(WebSocketPair, 'WebSocketPair');

export const socketInternals = internals;
