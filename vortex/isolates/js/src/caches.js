// The Cache API as Cloudflare gives it on workers.dev: present, so code written for Workers runs
// unchanged (Hono's cache middleware, `caches.default.match(request)` before an origin fetch),
// and a no-op, so every lookup misses. A cache shared by runs would be a channel between them,
// and Vortex has no edge to cache at; what a user wants kept belongs in KV. `put` still refuses
// what Workers' cache refuses, with their TypeErrors, so code that works here works there.
import { Request } from './request.js';
import { responseInternals } from './response.js';
import { defineToStringTag } from './util.js';

const CONSTRUCT = Symbol('construct');
// Read through the class's own getter: a Proxy passes `instanceof` but has no private fields.
const methodOf = Object.getOwnPropertyDescriptor(Request.prototype, 'method').get;

// The request's method (a URL is a GET); throws on a URL that cannot parse.
function checkRequest(request, method) {
  if (request === undefined) {
    throw new TypeError(`Failed to execute '${method}' on 'Cache': 1 argument required, but only 0 present.`);
  }
  return Reflect.apply(methodOf, request instanceof Request ? request : new Request(request), []);
}

export class Cache {
  constructor(key) {
    if (key !== CONSTRUCT) throw new TypeError('Illegal constructor');
  }

  async match(request) {
    checkRequest(request, 'match');
    return undefined;
  }

  async put(request, response) {
    const method = checkRequest(request, 'put');
    if (!responseInternals.is(response)) {
      throw new TypeError("Failed to execute 'put' on 'Cache': parameter 2 is not of type 'Response'.");
    }
    if (method !== 'GET') throw new TypeError('Cannot cache response to non-GET request.');
    const { status, headers, webSocket } = responseInternals.parts(response);
    if (webSocket !== null) throw new TypeError('Cannot cache WebSocket upgrade response.');
    if (status === 206) throw new TypeError('Cannot cache response to a range request (206 Partial Content).');
    const vary = headers.get('vary');
    if (vary !== null && vary.includes('*')) throw new TypeError("Cannot cache response with 'Vary: *' header.");
    return undefined;
  }

  async delete(request) {
    checkRequest(request, 'delete');
    return false;
  }
}
defineToStringTag(Cache, 'Cache');

const cache = new Cache(CONSTRUCT);

export class CacheStorage {
  constructor(key) {
    if (key !== CONSTRUCT) throw new TypeError('Illegal constructor');
  }

  get default() {
    return cache;
  }

  async open(name) {
    if (name === undefined) {
      throw new TypeError("Failed to execute 'open' on 'CacheStorage': 1 argument required, but only 0 present.");
    }
    return cache;
  }
}
defineToStringTag(CacheStorage, 'CacheStorage');

export const caches = new CacheStorage(CONSTRUCT);
