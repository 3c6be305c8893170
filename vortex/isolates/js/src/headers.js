// Headers (Fetch Standard): case-insensitive names, values combined with ", " when read,
// Set-Cookie kept apart (getSetCookie), iteration sorted by name, and the "immutable" guard of
// the headers of a request the platform received or a response it fetched.
import { defineToStringTag } from './util.js';

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const EDGE_WHITESPACE = /^[\t\n\r ]+|[\t\n\r ]+$/g;
const FORBIDDEN_IN_VALUE = /[\0\r\n]/;
const NOT_BYTE = /[^\0-\u00ff]/;
const SURROGATE = /[\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

function byteString(value, what) {
  const text = String(value);
  if (NOT_BYTE.test(text)) throw new TypeError(`${what} contains a character outside the range 0-255`);
  return text;
}

export function normalizeName(name) {
  const text = byteString(name, 'Header name');
  if (!TOKEN.test(text)) throw new TypeError(`Invalid header name: "${text}"`);
  return text.toLowerCase();
}

// A value may hold any character, as in workerd: it goes on the wire as UTF-8 (a filename in
// Content-Disposition, a user's name). The Fetch Standard's ByteString would refuse '€' and
// send 'é' as the byte E9, which browsers read as UTF-8 and show mangled.
export function normalizeValue(value) {
  let text = String(value).replace(EDGE_WHITESPACE, '');
  // UTF-8 has no lone surrogate: U+FFFD, as TextEncoder writes one.
  if (SURROGATE.test(text)) text = text.replace(LONE_SURROGATE, '\uFFFD');
  if (FORBIDDEN_IN_VALUE.test(text)) throw new TypeError(`Invalid header value: "${text}"`);
  return text;
}

const IteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]()));
const internals = {};

export class Headers {
  #list = [];
  #guard = 'none';
  // The sorted and combined pairs, kept until the list changes: iteration asks for them at each
  // step, and computing them anew each time made a loop over a request's headers quadratic (a
  // 40 KB head of 5,000 headers spent a run's whole second of CPU).
  #sortedCache = null;

  constructor(init = undefined) {
    if (init === undefined) return;
    // HeadersInit is a sequence or a record, neither nullable: null throws, as in workerd.
    if ((typeof init !== 'object' && typeof init !== 'function') || init === null) {
      throw new TypeError("Failed to construct 'Headers': The provided value is not of type 'HeadersInit'");
    }
    // Another Headers is copied as it is held, unless an iterator of its own was given to it:
    // the WebIDL conversion reads a sequence through @@iterator.
    if (#list in init && init[Symbol.iterator] === entriesOfHeaders) {
      this.#list = init.#list.map((pair) => pair.slice());
      return;
    }
    if (typeof init[Symbol.iterator] === 'function') {
      for (const pair of init) {
        if (typeof pair !== 'object' || pair === null || typeof pair[Symbol.iterator] !== 'function') {
          throw new TypeError("Failed to construct 'Headers': The provided value cannot be converted to a sequence.");
        }
        const items = Array.from(pair);
        if (items.length !== 2) {
          throw new TypeError("Failed to construct 'Headers': Invalid value (each header must be a [name, value] pair)");
        }
        this.append(items[0], items[1]);
      }
      return;
    }
    for (const key of Reflect.ownKeys(init)) {
      const desc = Reflect.getOwnPropertyDescriptor(init, key);
      if (!desc || !desc.enumerable) continue;
      if (typeof key === 'symbol') throw new TypeError("Failed to construct 'Headers': symbol keys are not allowed");
      this.append(key, init[key]);
    }
  }

  #checkMutable() {
    if (this.#guard === 'immutable') throw new TypeError("Can't modify immutable headers.");
  }

  append(name, value) {
    const key = normalizeName(name);
    const text = normalizeValue(value);
    this.#checkMutable();
    this.#list.push([key, text]);
    this.#sortedCache = null;
  }

  delete(name) {
    const key = normalizeName(name);
    this.#checkMutable();
    this.#list = this.#list.filter((pair) => pair[0] !== key);
    this.#sortedCache = null;
  }

  get(name) {
    const key = normalizeName(name);
    const values = [];
    for (const [k, v] of this.#list) if (k === key) values.push(v);
    return values.length ? values.join(', ') : null;
  }

  // workerd's, from before getSetCookie: Set-Cookie only, whose values cannot be joined.
  getAll(name) {
    if (normalizeName(name) !== 'set-cookie') {
      throw new TypeError('getAll() can only be used with the header name "Set-Cookie".');
    }
    return this.getSetCookie();
  }

  getSetCookie() {
    const values = [];
    for (const [k, v] of this.#list) if (k === 'set-cookie') values.push(v);
    return values;
  }

  has(name) {
    const key = normalizeName(name);
    return this.#list.some((pair) => pair[0] === key);
  }

  set(name, value) {
    const key = normalizeName(name);
    const text = normalizeValue(value);
    this.#checkMutable();
    this.#sortedCache = null;
    const index = this.#list.findIndex((pair) => pair[0] === key);
    if (index === -1) {
      this.#list.push([key, text]);
      return;
    }
    this.#list[index] = [key, text];
    this.#list = this.#list.filter((pair, i) => i <= index || pair[0] !== key);
  }

  // "sort and combine": one entry per name, sorted, except Set-Cookie's values one by one.
  #sorted() {
    if (this.#sortedCache !== null) return this.#sortedCache;
    const combined = new Map();
    const cookies = [];
    for (const [name, value] of this.#list) {
      if (name === 'set-cookie') {
        cookies.push(value);
        continue;
      }
      const before = combined.get(name);
      combined.set(name, before === undefined ? value : before + ', ' + value);
    }
    const names = [...combined.keys()];
    if (cookies.length) names.push('set-cookie');
    names.sort();
    const out = [];
    for (const name of names) {
      if (name === 'set-cookie') {
        for (const value of cookies) out.push([name, value]);
      } else {
        out.push([name, combined.get(name)]);
      }
    }
    this.#sortedCache = out;
    return out;
  }

  forEach(callback, thisArg = undefined) {
    if (typeof callback !== 'function') {
      throw new TypeError("Failed to execute 'forEach' on 'Headers': parameter 1 is not of type 'Function'.");
    }
    const pairs = this.#sorted();
    for (let i = 0; i < pairs.length; i += 1) callback.call(thisArg, pairs[i][1], pairs[i][0], this);
  }

  keys() {
    return makeIterator(this, 'key');
  }

  values() {
    return makeIterator(this, 'value');
  }

  entries() {
    return makeIterator(this, 'key+value');
  }

  static {
    internals.sorted = (headers) => headers.#sorted();
    internals.list = (headers) => headers.#list;
    internals.guard = (headers) => headers.#guard;
    internals.setGuard = (headers, guard) => {
      headers.#guard = guard;
    };
    internals.fromList = (pairs, guard) => {
      const headers = new Headers();
      for (const [name, value] of pairs) headers.#list.push([normalizeName(name), normalizeValue(value)]);
      headers.#guard = guard;
      return headers;
    };
    internals.is = (value) => typeof value === 'object' && value !== null && #list in value;
  }
}
const entriesOfHeaders = Headers.prototype.entries;
Object.defineProperty(Headers.prototype, Symbol.iterator, {
  value: entriesOfHeaders,
  writable: true,
  configurable: true,
});
defineToStringTag(Headers, 'Headers');

const HeadersIteratorPrototype = Object.create(IteratorPrototype, {
  next: {
    value: function next() {
      const state = iteratorStates.get(this);
      if (!state) throw new TypeError('next method called on an incompatible receiver');
      const pairs = internals.sorted(state.target);
      if (state.index >= pairs.length) return { value: undefined, done: true };
      const pair = pairs[state.index];
      state.index += 1;
      if (state.kind === 'key') return { value: pair[0], done: false };
      if (state.kind === 'value') return { value: pair[1], done: false };
      return { value: [pair[0], pair[1]], done: false };
    },
    writable: true,
    configurable: true,
    enumerable: true,
  },
  [Symbol.toStringTag]: { value: 'Headers Iterator', configurable: true },
});
const iteratorStates = new WeakMap();

function makeIterator(target, kind) {
  if (!internals.is(target)) throw new TypeError('Illegal invocation');
  const iterator = Object.create(HeadersIteratorPrototype);
  iteratorStates.set(iterator, { target, kind, index: 0 });
  return iterator;
}

export const headersInternals = internals;
