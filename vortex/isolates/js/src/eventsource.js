// EventSource (HTML Standard, server-sent events), as workerd has it: `new EventSource(url)`
// reads an event stream over the run's own fetch() and reconnects when it ends, and workerd's
// `EventSource.from(readable)` reads one from a ReadableStream of bytes, once. A fetched body
// streams (docs/http-functions.md, Outbound fetch): events arrive as the origin sends them, and
// a stream stays open while the origin keeps sending (the fetch timeout is its longest silence).
import { ReadableStream } from 'web-streams-polyfill';
import { TextDecoder } from '@exodus/bytes/encoding.js';
import { URL } from 'whatwg-url';
import { AbortController } from './abort.js';
import { DOMException } from './domexception.js';
import { ErrorEvent, Event, EventTarget, MessageEvent, eventTargetInternals } from './events.js';
import { Headers } from './headers.js';
import { hooks } from './hooks.js';
import { defineToStringTag, isUint8Array, viewBytes } from './util.js';

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;
// workerd's reconnection time and its bounds: each reconnection is a subrequest of the run,
// counted against its limit, so a stream cannot ask for one every millisecond.
const DEFAULT_RETRY_MS = 2000;
const MIN_RETRY_MS = 1000;
const MAX_RETRY_MS = 10000;
const LF = 10;
const SPACE = 32;
const DIGITS = /^[0-9]+$/;
const STREAMING = Object.freeze({ stream: true });
const { addEventListener, removeEventListener } = EventTarget.prototype;

function dispatch(target, event) {
  eventTargetInternals.dispatch(target, event, hooks.reportError);
}

function requireRun() {
  if (hooks.currentRun() === null) {
    throw new DOMException('An EventSource can only be created while a run of the function is going on', 'NotSupportedError');
  }
}

// The "event stream interpretation" of one connection: its decoder (which drops a leading BOM
// and keeps a character cut between chunks), the text of a line not ended yet, and the event
// being built. One per connection, and only strings per event.
class StreamParser {
  constructor(source, origin) {
    this.source = source;
    this.origin = origin;
    this.decoder = new TextDecoder('utf-8');
    this.partial = '';
    // The stream's last chunk ended in CR: an LF that begins the next one belongs to it.
    this.afterCR = false;
    this.data = '';
    this.dataLines = 0;
    this.type = '';
    // Carried over from the previous connection, as Chromium and workerd do: an event of the
    // new stream without an id keeps the id the reconnection asked from.
    this.id = source.lastEventId;
  }

  // Parses `bytes`; false once the source closed (a listener called close()). What is left
  // when the stream ends, a line or an event not ended, is dropped, as the standard says.
  feed(bytes) {
    const text = this.decoder.decode(bytes, STREAMING);
    const n = text.length;
    let start = 0;
    if (this.afterCR && n > 0) {
      this.afterCR = false;
      if (text.charCodeAt(0) === LF) start = 1;
    }
    let cr = text.indexOf('\r', start);
    let lf = text.indexOf('\n', start);
    while (cr !== -1 || lf !== -1) {
      const end = cr === -1 ? lf : lf === -1 ? cr : Math.min(cr, lf);
      let line = text.slice(start, end);
      if (this.partial !== '') {
        line = this.partial + line;
        this.partial = '';
      }
      start = end + 1;
      if (end === cr) {
        if (start === n) this.afterCR = true;
        else if (text.charCodeAt(start) === LF) start += 1;
      }
      if (!this.line(line)) return false;
      if (cr !== -1 && cr < start) cr = text.indexOf('\r', start);
      if (lf !== -1 && lf < start) lf = text.indexOf('\n', start);
    }
    if (start < n) this.partial += start === 0 ? text : text.slice(start);
    return true;
  }

  line(line) {
    if (line === '') return this.dispatch();
    const colon = line.indexOf(':');
    if (colon === 0) return true;
    let field = line;
    let value = '';
    if (colon !== -1) {
      field = line.slice(0, colon);
      value = line.slice(line.charCodeAt(colon + 1) === SPACE ? colon + 2 : colon + 1);
    }
    switch (field) {
      case 'data':
        this.data = this.dataLines === 0 ? value : this.data + '\n' + value;
        this.dataLines += 1;
        break;
      case 'event':
        this.type = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.id = value;
        break;
      case 'retry':
        if (DIGITS.test(value)) this.source.retry = Number(value);
        break;
      default:
        break;
    }
    return true;
  }

  dispatch() {
    const { source } = this;
    source.lastEventId = this.id;
    const { data, dataLines } = this;
    const type = this.type === '' ? 'message' : this.type;
    this.data = '';
    this.dataLines = 0;
    this.type = '';
    // `data:` alone is an event whose data is "": only an event without any data line is none.
    if (dataLines === 0) return true;
    return source.message(new MessageEvent(type, { data, lastEventId: this.id, origin: this.origin }));
  }
}

// What the parser reaches of its EventSource (never user code's: the class's fields are private).
class SourceLink {
  constructor(owner) {
    this.owner = owner;
    this.lastEventId = '';
    this.retryMs = DEFAULT_RETRY_MS;
  }

  set retry(ms) {
    this.retryMs = Math.min(Math.max(ms, MIN_RETRY_MS), MAX_RETRY_MS);
  }

  message(event) {
    return internals.deliver(this.owner, event);
  }
}

const FROM_STREAM = Symbol('from');
const internals = {};

export class EventSource extends EventTarget {
  #url = '';
  #fetcher = null;
  #reconnects = true;
  #state = CONNECTING;
  #link = new SourceLink(this);
  // The connection under way: {controller, reader}; a stale one (closed, or replaced by a
  // reconnection) finds out by comparing itself to this.
  #connection = null;
  #cancelRetry = null;
  // The last connection opened, so a fetch that fails after it is worth one more try.
  #wasOpen = false;
  #onopen = null;
  #onmessage = null;
  #onerror = null;

  // workerd's constructor has length 0.
  constructor(url = undefined, init = undefined) {
    if (url === FROM_STREAM) {
      super();
      this.#reconnects = false;
      return;
    }
    if (arguments.length === 0) {
      throw new TypeError("Failed to construct 'EventSource': 1 argument required, but only 0 present.");
    }
    const text = String(url);
    // Read as WebIDL reads a dictionary, its members in the order of their names.
    const { fetcher, withCredentials } = init == null ? {} : init;
    if (withCredentials) {
      throw new DOMException('The init.withCredentials option is not supported: a function has no credentials to send', 'NotSupportedError');
    }
    if (fetcher != null && (typeof fetcher !== 'object' || typeof fetcher.fetch !== 'function')) {
      throw new TypeError("Failed to construct 'EventSource': init.fetcher must have a fetch() method (a service binding)");
    }
    let parsed;
    try {
      parsed = new URL(text);
    } catch {
      // A function has no document, so no base URL: a relative URL cannot be parsed.
      throw new DOMException(`Cannot open an EventSource to '${text}': the URL is invalid (it must be absolute)`, 'SyntaxError');
    }
    requireRun();
    super();
    this.#url = parsed.href;
    this.#fetcher = fetcher == null ? null : fetcher;
    this.#connect();
  }

  get url() {
    return this.#url;
  }

  get withCredentials() {
    return false;
  }

  get readyState() {
    return this.#state;
  }

  get onopen() {
    return this.#onopen;
  }

  set onopen(handler) {
    this.#onopen = this.#replaceHandler('open', this.#onopen, handler);
  }

  get onmessage() {
    return this.#onmessage;
  }

  set onmessage(handler) {
    this.#onmessage = this.#replaceHandler('message', this.#onmessage, handler);
  }

  get onerror() {
    return this.#onerror;
  }

  set onerror(handler) {
    this.#onerror = this.#replaceHandler('error', this.#onerror, handler);
  }

  close() {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    this.#stop();
  }

  static from(readable) {
    if (!(readable instanceof ReadableStream)) {
      throw new TypeError("Failed to execute 'from' on 'EventSource': parameter 1 is not of type 'ReadableStream'.");
    }
    if (readable.locked) throw new TypeError('This ReadableStream is locked.');
    // web-streams-polyfill keeps the spec's [[disturbed]] slot as `_disturbed`.
    if (readable._disturbed === true) throw new TypeError('This ReadableStream has already been read from.');
    requireRun();
    const source = new EventSource(FROM_STREAM);
    const connection = { controller: null, reader: readable.getReader() };
    source.#connection = connection;
    source.#read(connection, '');
    return source;
  }

  #replaceHandler(type, old, handler) {
    if (old !== null) Reflect.apply(removeEventListener, this, [type, old]);
    const next = typeof handler === 'function' ? handler : null;
    if (next !== null) Reflect.apply(addEventListener, this, [type, next]);
    return next;
  }

  // Ends what is under way: the fetch, the reading of its body, a reconnection waiting.
  #stop() {
    const connection = this.#connection;
    this.#connection = null;
    if (connection !== null) {
      if (connection.controller !== null) connection.controller.abort();
      if (connection.reader !== null) connection.reader.cancel().catch(() => {});
    }
    if (this.#cancelRetry !== null) {
      const cancel = this.#cancelRetry;
      this.#cancelRetry = null;
      cancel();
    }
  }

  #connect() {
    const controller = new AbortController();
    const connection = { controller, reader: null };
    this.#connection = connection;
    const headers = new Headers([
      ['accept', 'text/event-stream'],
      // What a request of cache mode "no-store" carries, as the HTML Standard asks.
      ['cache-control', 'no-cache'],
    ]);
    const { lastEventId } = this.#link;
    if (lastEventId !== '') headers.set('last-event-id', lastEventId);
    const init = { headers, signal: controller.signal };
    let pending;
    try {
      const fetcher = this.#fetcher;
      pending = Promise.resolve(fetcher === null ? hooks.fetch(this.#url, init) : Reflect.apply(fetcher.fetch, fetcher, [this.#url, init]));
    } catch (error) {
      pending = Promise.reject(error);
    }
    pending.then(
      (response) => this.#responded(connection, response),
      (error) => this.#fetchFailed(connection, error),
    );
  }

  #current(connection) {
    return this.#connection === connection && this.#state !== CLOSED;
  }

  #responded(connection, response) {
    if (!this.#current(connection)) {
      cancelBody(response);
      return;
    }
    try {
      this.#check(connection, response);
    } catch (error) {
      // What a fetcher answered was no Response, or its body was taken already.
      this.#fail(error);
    }
  }

  #check(connection, response) {
    const status = response.status;
    if (status !== 200) {
      cancelBody(response);
      this.#fail(new DOMException(`The EventSource response status was ${status}, not 200`, 'NetworkError'));
      return;
    }
    const contentType = response.headers.get('content-type');
    if (contentType === null || essence(contentType) !== 'text/event-stream') {
      cancelBody(response);
      const said = contentType === null ? 'no Content-Type' : `Content-Type '${contentType}'`;
      this.#fail(new DOMException(`The EventSource response has ${said}, not text/event-stream`, 'NetworkError'));
      return;
    }
    let origin;
    try {
      origin = new URL(response.url || this.#url).origin;
    } catch {
      origin = new URL(this.#url).origin;
    }
    const body = response.body;
    connection.reader = body === null ? null : body.getReader();
    this.#read(connection, origin);
  }

  #fetchFailed(connection, error) {
    if (!this.#current(connection)) return;
    // A refused host, a timeout, the subrequest limit: Vortex cannot tell the futile from the
    // passing, so a fetch that fails is tried again only right after a connection that opened.
    const again = this.#wasOpen;
    this.#wasOpen = false;
    if (again) this.#reestablish(error);
    else this.#fail(error);
  }

  async #read(connection, origin) {
    // An event of its own, after the constructor or from() returned: listeners added in the
    // same turn hear it.
    await null;
    if (!this.#current(connection)) return;
    this.#state = OPEN;
    this.#wasOpen = true;
    dispatch(this, new Event('open'));
    const { reader } = connection;
    if (reader === null) {
      this.#ended(connection, null);
      return;
    }
    const parser = new StreamParser(this.#link, origin);
    for (;;) {
      if (!this.#current(connection)) {
        reader.cancel().catch(() => {});
        return;
      }
      let chunk;
      try {
        chunk = await reader.read();
      } catch (error) {
        this.#ended(connection, error);
        return;
      }
      if (!this.#current(connection)) return;
      if (chunk.done) {
        this.#ended(connection, null);
        return;
      }
      if (!isUint8Array(chunk.value)) {
        reader.cancel().catch(() => {});
        this.#fail(new TypeError('The stream of an EventSource must produce Uint8Array chunks'));
        return;
      }
      if (!parser.feed(viewBytes(chunk.value))) return;
    }
  }

  // The stream ended (`error` null) or broke: a fetched one is connected again, a given one is over.
  #ended(connection, error) {
    if (!this.#current(connection)) return;
    const reason = error === null ? new TypeError('The event stream ended') : error;
    if (this.#reconnects) this.#reestablish(reason);
    else this.#fail(reason);
  }

  #reestablish(error) {
    this.#connection = null;
    this.#state = CONNECTING;
    dispatch(this, errorEvent(error));
    if (this.#state !== CONNECTING || this.#connection !== null) return;
    try {
      this.#cancelRetry = hooks.keepAliveTimer(() => {
        this.#cancelRetry = null;
        if (this.#state === CONNECTING && this.#connection === null) this.#connect();
      }, this.#link.retryMs);
    } catch {
      // The run's timer limit: it has ended with that error, and so has this source.
      this.#state = CLOSED;
    }
  }

  #fail(error) {
    if (this.#state === CLOSED) return;
    this.#state = CLOSED;
    this.#stop();
    dispatch(this, errorEvent(error));
  }

  static {
    internals.deliver = (source, event) => {
      if (source.#state === CLOSED) return false;
      dispatch(source, event);
      return source.#state !== CLOSED;
    };
  }
}
for (const [name, value] of [['CONNECTING', CONNECTING], ['OPEN', OPEN], ['CLOSED', CLOSED]]) {
  Object.defineProperty(EventSource, name, { value, enumerable: true });
  Object.defineProperty(EventSource.prototype, name, { value, enumerable: true });
}
if (typeof Symbol.dispose === 'symbol') {
  // As in workerd: `using source = new EventSource(url)` closes it at the end of the block.
  Object.defineProperty(EventSource.prototype, Symbol.dispose, {
    value: function dispose() {
      this.close();
    },
    writable: true,
    configurable: true,
  });
}
defineToStringTag(EventSource, 'EventSource');

function errorEvent(error) {
  let message = '';
  try {
    message = error !== null && typeof error === 'object' ? String(error.message) : String(error);
  } catch {
    // A stream errored with something whose message cannot be read: the event still carries it.
  }
  return new ErrorEvent('error', { message, error });
}

function cancelBody(response) {
  try {
    const body = response.body;
    if (body !== null && !body.locked) body.cancel().catch(() => {});
  } catch {
    // Not a Response (a fetcher's answer): nothing of ours to let go.
  }
}

// The MIME type's essence: type/subtype without parameters, in lower case.
function essence(contentType) {
  const semicolon = contentType.indexOf(';');
  const bare = semicolon === -1 ? contentType : contentType.slice(0, semicolon);
  return bare.trim().toLowerCase();
}
