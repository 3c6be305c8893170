// Request (Fetch Standard), as server-side runtimes have it: absolute URLs only (there is no
// document to resolve against), no forbidden-header lists, and `redirect` honoured by fetch().
import { URL } from 'whatwg-url';
import { AbortSignal, abortInternals } from './abort.js';
import { bodyUsed, cloneBody, extractBody, installBodyMethods, transferBody } from './body.js';
import { Headers, headersInternals } from './headers.js';
import { defineToStringTag } from './util.js';

const headersGet = Headers.prototype.get;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const NORMALIZED = new Set(['DELETE', 'GET', 'HEAD', 'OPTIONS', 'POST', 'PUT']);
const FORBIDDEN_METHODS = new Set(['CONNECT', 'TRACE', 'TRACK']);
const REDIRECT_MODES = new Set(['follow', 'error', 'manual']);

function normalizeMethod(method) {
  const text = String(method);
  if (!TOKEN.test(text)) throw new TypeError(`'${text}' is not a valid HTTP method.`);
  const upper = text.toUpperCase();
  if (FORBIDDEN_METHODS.has(upper)) throw new TypeError(`'${text}' HTTP method is unsupported.`);
  return NORMALIZED.has(upper) ? upper : text;
}

export function parseAbsoluteURL(input) {
  try {
    return new URL(String(input));
  } catch {
    throw new TypeError(`Invalid URL: ${String(input)}`);
  }
}

const internals = {};

// A URL the host built from a request line and its Host header is mostly already what the URL
// parser would serialize it to: parsing it anyway (whatwg-url, 20–40 µs in SpiderMonkey) was a
// tenth of a hello-world request. Such a URL is taken as it is when this says the parser could
// not change it: lower-case letters in a host that is no IP address and no IDN, a port that is
// not the scheme's default, and a path and query of characters that are never percent-encoded
// nor dot segments. Anything else is parsed.
const SERIALIZED =
  /^(https?):\/\/(?:[a-z0-9-]+\.)*[a-z][a-z0-9-]*(?::([1-9][0-9]{0,4}))?\/[A-Za-z0-9\-._~!$&()*+,;=:@%/]*(?:\?[A-Za-z0-9\-._~!$&()*+,;=:@%/?]*)?$/;

function alreadySerialized(url) {
  const match = SERIALIZED.exec(url);
  if (match === null || url.includes('/.') || url.includes('xn--') || /%2e/i.test(url)) return false;
  const port = match[2];
  if (port === undefined) return true;
  const number = Number(port);
  return number <= 65535 && number !== (match[1] === 'http' ? 80 : 443);
}
let serializedURL = null; // set by internals.create around its own constructor call only

export class Request {
  #method = 'GET';
  #url = '';
  #headers;
  #redirect = 'follow';
  #signal;
  #body = null;
  // The HTTP version an incoming request came over ('' if not known; null for requests user
  // code makes), and the `cf` object made from it on first read: most requests never read it.
  #protocol = null;
  #cf = undefined;

  constructor(input, init = undefined) {
    if (arguments.length === 0) throw new TypeError("Failed to construct 'Request': 1 argument required");
    const options = init == null ? {} : init;
    if (typeof options !== 'object' && typeof options !== 'function') {
      throw new TypeError("Failed to construct 'Request': The provided value is not of type 'RequestInit'");
    }
    let source = null;
    if (typeof input === 'object' && input !== null && #url in input) {
      source = input;
      this.#url = source.#url;
      this.#method = source.#method;
      this.#redirect = source.#redirect;
      // As in Workers, a request made from an incoming one keeps its `cf`.
      this.#cf = Request.#cfOf(source);
    } else if (serializedURL !== null) {
      this.#url = serializedURL;
    } else {
      const parsed = parseAbsoluteURL(input);
      if (parsed.username || parsed.password) {
        throw new TypeError(`Request cannot be constructed from a URL that includes credentials: ${parsed.href}`);
      }
      this.#url = parsed.href;
    }
    if (options.method !== undefined) this.#method = normalizeMethod(options.method);
    if (options.redirect !== undefined) {
      const mode = String(options.redirect);
      if (!REDIRECT_MODES.has(mode)) {
        throw new TypeError(`Failed to construct 'Request': '${mode}' is not a valid value for 'redirect'`);
      }
      this.#redirect = mode;
    }
    const signal = options.signal !== undefined ? options.signal : source ? source.#signal : undefined;
    if (signal !== undefined && signal !== null && !(signal instanceof AbortSignal)) {
      throw new TypeError("Failed to construct 'Request': member signal is not of type AbortSignal.");
    }
    // The request's own signal follows the given one (AbortSignal.any with one input).
    this.#signal = signal ? AbortSignal.any([signal]) : abortInternals.create();

    this.#headers = new Headers(options.headers !== undefined ? options.headers : source ? source.#headers : undefined);
    headersInternals.setGuard(this.#headers, 'request');

    let body = null;
    if (options.body !== undefined && options.body !== null) {
      if (this.#method === 'GET' || this.#method === 'HEAD') {
        throw new TypeError('Request with GET/HEAD method cannot have body.');
      }
      const [state, contentType] = extractBody(options.body);
      body = state;
      if (contentType !== null && !this.#headers.has('content-type')) this.#headers.append('content-type', contentType);
    } else if (source !== null && source.#body !== null) {
      if (bodyUsed(source.#body)) {
        throw new TypeError('Cannot construct a Request with a Request object that has already been used.');
      }
      if (this.#method === 'GET' || this.#method === 'HEAD') {
        throw new TypeError('Request with GET/HEAD method cannot have body.');
      }
      body = transferBody(source.#body);
    }
    this.#body = body;
  }

  get method() { return this.#method; }
  get url() { return this.#url; }
  get headers() { return this.#headers; }
  get redirect() { return this.#redirect; }
  get signal() { return this.#signal; }
  get destination() { return ''; }
  get referrer() { return 'about:client'; }
  get referrerPolicy() { return ''; }
  get mode() { return 'cors'; }
  get credentials() { return 'same-origin'; }
  get cache() { return 'default'; }
  get integrity() { return ''; }
  get keepalive() { return false; }
  get duplex() { return 'half'; }

  // Workers' `request.cf`: on an incoming request, what a self-hosted server knows truthfully
  // of it (no geolocation, no TLS details, which the listener does not have); undefined on a
  // request user code made from a URL.
  get cf() {
    return Request.#cfOf(this);
  }

  static #cfOf(request) {
    if (request.#cf === undefined && request.#protocol !== null) {
      const cf = {};
      if (request.#protocol) cf.httpProtocol = request.#protocol;
      // Vortex never rewrites Accept-Encoding: the client's value is the header's.
      const acceptEncoding = Reflect.apply(headersGet, request.#headers, ['accept-encoding']);
      if (acceptEncoding !== null) cf.clientAcceptEncoding = acceptEncoding;
      request.#cf = Object.freeze(cf);
    }
    return request.#cf;
  }

  clone() {
    if (bodyUsed(this.#body)) throw new TypeError('Cannot clone a Request whose body has already been used');
    const copy = new Request(this.#url, {
      method: this.#method,
      headers: this.#headers,
      redirect: this.#redirect,
      signal: this.#signal,
    });
    copy.#body = cloneBody(this.#body);
    copy.#cf = Request.#cfOf(this);
    headersInternals.setGuard(copy.#headers, headersInternals.guard(this.#headers));
    return copy;
  }

  static {
    internals.body = (request) => {
      if (typeof request !== 'object' || request === null || !(#body in request)) throw new TypeError('Illegal invocation');
      return request.#body;
    };
    internals.headers = (request) => request.#headers;
    internals.create = ({ method, url, headers, body, signal, protocol }) => {
      serializedURL = typeof url === 'string' && alreadySerialized(url) ? url : null;
      let request;
      try {
        request = new Request(url, { method });
      } finally {
        serializedURL = null;
      }
      request.#headers = headersInternals.fromList(headers, 'immutable');
      request.#body = body;
      // A request that came in is 'manual', as on Workers: fetch(request) (or a Request made
      // from it) hands an origin's redirect back to the client instead of following it.
      request.#redirect = 'manual';
      if (signal) request.#signal = signal;
      request.#protocol = typeof protocol === 'string' ? protocol : '';
      return request;
    };
  }
}
installBodyMethods(
  Request,
  (request) => internals.body(request),
  (request) => internals.headers(request).get('content-type'),
);
defineToStringTag(Request, 'Request');

export const requestInternals = internals;
