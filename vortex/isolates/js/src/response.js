// Response (Fetch Standard): status 200-599 (RangeError otherwise), no body for 101/204/205/304,
// Response.error(), Response.redirect() with absolute URLs and redirect statuses, Response.json().
import { BodyState, bodyUsed, cloneBody, extractBody, installBodyMethods } from './body.js';
import { Headers, headersInternals } from './headers.js';
import { parseAbsoluteURL } from './request.js';
import { defineToStringTag, utf8Encode } from './util.js';
import { socketInternals } from './websocket.js';

const NULL_BODY_STATUS = new Set([101, 103, 204, 205, 304]);
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);
const REASON_PHRASE = /^[\t\x20-\x7e\x80-\xff]*$/;

const internals = {};

function initialize(response, init, body) {
  const options = init == null ? {} : init;
  if (typeof options !== 'object' && typeof options !== 'function') {
    throw new TypeError("Failed to construct 'Response': The provided value is not of type 'ResponseInit'");
  }
  const status = options.status === undefined ? 200 : Number(options.status);
  // Workers' extension: status 101 with the end of a WebSocketPair to hand to the client.
  const webSocket = options.webSocket == null ? null : options.webSocket;
  if (webSocket !== null && !socketInternals.is(webSocket)) {
    throw new TypeError("Failed to construct 'Response': webSocket must be a WebSocket (an end of a WebSocketPair)");
  }
  if (webSocket !== null && status !== 101) {
    throw new RangeError(`Failed to construct 'Response': a Response with a webSocket must have status 101, not ${options.status}`);
  }
  if (webSocket === null && (!Number.isInteger(status) || status < 200 || status > 599)) {
    const more = status === 101 ? ' (101 only with a webSocket: new Response(null, { status: 101, webSocket }))' : '';
    throw new RangeError(`Failed to construct 'Response': The status provided (${options.status}) is outside the range [200, 599].${more}`);
  }
  const statusText = options.statusText === undefined ? '' : String(options.statusText);
  if (!REASON_PHRASE.test(statusText)) throw new TypeError('Failed to construct \'Response\': Invalid statusText');
  // Workers' extension: 'manual' says the body is already in its Content-Encoding; with
  // 'automatic' the listener encodes it (gzip, deflate, br), as workerd does.
  const encodeBody = options.encodeBody === undefined ? 'automatic' : String(options.encodeBody);
  if (encodeBody !== 'automatic' && encodeBody !== 'manual') {
    throw new TypeError(`Failed to construct 'Response': encodeBody must be "automatic" or "manual", not "${encodeBody}"`);
  }
  const headers = new Headers(options.headers);
  headersInternals.setGuard(headers, 'response');
  let state = null;
  if (body !== null && body !== undefined) {
    if (NULL_BODY_STATUS.has(status)) {
      throw new TypeError(`Response with null body status (${status}) cannot have body`);
    }
    const [extracted, contentType] = extractBody(body);
    state = extracted;
    if (contentType !== null && !headers.has('content-type')) headers.append('content-type', contentType);
  }
  internals.set(response, { status, statusText, headers, body: state, webSocket, encodeBody });
}

export class Response {
  #type = 'default';
  #status = 200;
  #statusText = '';
  #headers;
  #body = null;
  #url = '';
  #redirected = false;
  #webSocket = null;
  #encodeBody = 'automatic';

  constructor(body = null, init = undefined) {
    initialize(this, init, body);
  }

  get type() { return this.#type; }
  get url() { return this.#url; }
  get redirected() { return this.#redirected; }
  get status() { return this.#status; }
  get ok() { return this.#status >= 200 && this.#status <= 299; }
  get statusText() { return this.#statusText; }
  get headers() { return this.#headers; }
  get webSocket() { return this.#webSocket; }

  clone() {
    if (this.#webSocket !== null) throw new TypeError('A Response with a webSocket cannot be cloned');
    if (bodyUsed(this.#body)) throw new TypeError('Cannot clone a Response whose body has already been used');
    const copy = new Response(null, { status: this.#status === 0 ? 200 : this.#status });
    copy.#type = this.#type;
    copy.#status = this.#status;
    copy.#statusText = this.#statusText;
    copy.#headers = new Headers(this.#headers);
    headersInternals.setGuard(copy.#headers, headersInternals.guard(this.#headers));
    copy.#url = this.#url;
    copy.#redirected = this.#redirected;
    copy.#encodeBody = this.#encodeBody;
    copy.#body = cloneBody(this.#body);
    return copy;
  }

  static error() {
    const response = new Response(null);
    response.#type = 'error';
    response.#status = 0;
    headersInternals.setGuard(response.#headers, 'immutable');
    return response;
  }

  static redirect(url, status = 302) {
    const parsed = parseAbsoluteURL(url);
    const code = Number(status);
    if (!REDIRECT_STATUS.has(code)) {
      throw new RangeError(`Failed to execute 'redirect' on 'Response': Invalid status code ${status}`);
    }
    const response = new Response(null, { status: code });
    response.#headers.set('location', parsed.href);
    headersInternals.setGuard(response.#headers, 'immutable');
    return response;
  }

  static json(data, init = undefined) {
    const text = JSON.stringify(data);
    if (text === undefined) throw new TypeError('The data given to Response.json() cannot be serialised to JSON');
    const response = new Response(null, init);
    if (NULL_BODY_STATUS.has(response.#status)) {
      throw new TypeError(`Response with null body status (${response.#status}) cannot have body`);
    }
    response.#body = new BodyState(utf8Encode(text), null);
    if (!response.#headers.has('content-type')) response.#headers.append('content-type', 'application/json');
    return response;
  }

  static {
    internals.set = (response, { status, statusText, headers, body, webSocket, encodeBody }) => {
      // Callers that make no WebSocket (htmlrewriter.js) leave it out, and the encoding too.
      response.#webSocket = webSocket ?? null;
      response.#encodeBody = encodeBody ?? 'automatic';
      response.#status = status;
      response.#statusText = statusText;
      response.#headers = headers;
      response.#body = body;
    };
    internals.is = (value) => typeof value === 'object' && value !== null && #body in value;
    internals.parts = (response) => ({
      status: response.#status,
      statusText: response.#statusText,
      headers: response.#headers,
      body: response.#body,
      webSocket: response.#webSocket,
      encodeBody: response.#encodeBody,
    });
    internals.body = (response) => {
      if (!internals.is(response)) throw new TypeError('Illegal invocation');
      return response.#body;
    };
    internals.fetched = ({ status, statusText, headers, body, url, redirected }) => {
      const response = new Response(null);
      response.#status = status;
      response.#statusText = statusText;
      response.#headers = headersInternals.fromList(headers, 'immutable');
      response.#body = NULL_BODY_STATUS.has(status) ? null : body;
      response.#url = url;
      response.#redirected = redirected;
      return response;
    };
  }
}
installBodyMethods(
  Response,
  (response) => internals.body(response),
  (response) => internals.parts(response).headers.get('content-type'),
);
defineToStringTag(Response, 'Response');

export const responseInternals = internals;
