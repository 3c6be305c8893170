// Bindings: calls a run makes that the server answers (see vortex/isolates/bindings.py), KV's.
import { ErrorCtor, JSON, api, host } from './platform.js';

export function bindingError(code, message) {
  const error = new ErrorCtor(message);
  error.code = code;
  return error;
}

// Resolves to {result, bytes}: `bytes` (a Uint8Array, or null) is what the answer carried
// beside its JSON. `body` (a Uint8Array, or undefined) crosses as bytes, never as base64.
export function callBinding(state, binding, op, args, body) {
  // Stringified before anything is registered: a BigInt or a cycle rejects right here.
  let text;
  try {
    text = JSON.stringify(args);
  } catch (error) {
    return Promise.reject(error);
  }
  const binary = body === undefined ? null : api.bytesToBinary(body);
  return new Promise((resolve, reject) => {
    const cid = state.nextCall;
    state.nextCall += 1;
    state.calls.set(cid, { resolve, reject });
    host.call(state.id, cid, binding, op, text, binary);
  });
}

const GET_TYPES = ['text', 'json', 'arrayBuffer', 'stream'];
// A bulk get (`get([...keys])`), as in Workers: up to 100 keys, as text or JSON only.
const MAX_BULK_KEYS = 100;
const BULK_TYPES = ['text', 'json'];

function typeOf(options) {
  // `cacheTtl` is accepted and ignored: reads go to the store itself, there is no edge cache.
  const type = typeof options === 'string' ? options : (options && options.type) || 'text';
  if (!GET_TYPES.includes(type)) {
    throw new TypeError('KV get type must be "text", "json", "arrayBuffer" or "stream", got ' + String(type));
  }
  return type;
}

function valueOf(type, answer) {
  if (type === 'text') return answer.result.value;
  if (type === 'json') return JSON.parse(answer.result.value);
  if (type === 'arrayBuffer') return answer.bytes.buffer;
  return api.bytesStream(answer.bytes);
}

export function makeKv(live, describe) {
  const maxValueBytes = Number(describe.max_value_bytes) || Infinity;
  const maxMetadataBytes = Number(describe.max_metadata_bytes) || Infinity;
  const call = (op, args, body) => callBinding(live(), 'kv', op, args, body);
  const defined = (entries) => {
    const out = {};
    for (const [key, value] of entries) if (value !== undefined) out[key] = value;
    return out;
  };
  const tooLarge = () => bindingError('kv_value_too_large', 'KV value is over the limit of ' + maxValueBytes + ' bytes');
  const bytesOf = (body) => {
    if (body.length > maxValueBytes) throw tooLarge();
    return { body };
  };
  // What crosses for a value: {value} for text (and for anything else, which the server refuses
  // with its code), {body} for bytes, copied now so that later writes to the caller's buffer
  // change nothing; a promise of it for a stream, read whole (and cut off past the limit).
  const payload = (value) => {
    if (typeof value === 'string') {
      // A UTF-16 unit is at least one byte of UTF-8: longer than the limit is too large for
      // sure, so a huge value never crosses the pipe only to be refused.
      if (value.length > maxValueBytes) throw tooLarge();
      return { value };
    }
    if (api.isBufferSource(value)) return bytesOf(api.copyBytes(value));
    if (value instanceof api.ReadableStream) {
      return api.readAllChunks(value, maxValueBytes).then(bytesOf, (error) => {
        throw error instanceof RangeError ? tooLarge() : error;
      });
    }
    return { value };
  };
  const checkMetadata = (metadata) => {
    if (metadata === undefined || metadata === null) return;
    const text = JSON.stringify(metadata);
    if (text === undefined) throw bindingError('kv_invalid_metadata', 'KV metadata must be a JSON-serializable value');
    // As for values: UTF-16 units never outnumber the bytes of UTF-8; the server counts exactly.
    if (text.length > maxMetadataBytes) {
      throw bindingError('kv_metadata_too_large', 'KV metadata is over the limit of ' + maxMetadataBytes + ' bytes of JSON');
    }
  };
  // No promise hop before the call: each one costs a turn of the host's loop.
  const read = (key, options, shape) => {
    let type;
    try {
      type = typeOf(options);
    } catch (error) {
      return Promise.reject(error);
    }
    const bytes = type === 'arrayBuffer' || type === 'stream';
    return call('get', { key, as: bytes ? 'bytes' : 'text' }).then((answer) => shape(type, answer));
  };
  // A bulk get: one call for every key (one operation, as in Workers), answered a list in the
  // keys' order; resolves to a Map of key → shape(value, metadata), null for an absent key.
  const readMany = (keys, options, shape) => {
    let type;
    let list;
    try {
      type = typeOf(options);
      if (!BULK_TYPES.includes(type)) {
        throw new TypeError('KV get of several keys takes type "text" or "json", got "' + type + '"');
      }
      list = Array.from(keys);
      if (list.length === 0 || list.length > MAX_BULK_KEYS) {
        throw new TypeError('KV get takes 1 to ' + MAX_BULK_KEYS + ' keys at once, got ' + list.length);
      }
    } catch (error) {
      return Promise.reject(error);
    }
    return call('getMany', { keys: list }).then((answer) => {
      const found = new Map();
      list.forEach((key, at) => {
        const entry = answer.result[at];
        if (entry === null) {
          found.set(key, null);
          return;
        }
        const value = type === 'json' ? JSON.parse(entry.value) : entry.value;
        found.set(key, shape(value, entry.metadata === undefined ? null : entry.metadata));
      });
      return found;
    });
  };
  return harden({
    get(key, options) {
      if (Array.isArray(key)) return readMany(key, options, (value) => value);
      return read(key, options, (type, answer) => (answer.result === null ? null : valueOf(type, answer)));
    },
    getWithMetadata(key, options) {
      if (Array.isArray(key)) return readMany(key, options, (value, metadata) => ({ value, metadata }));
      return read(key, options, (type, answer) => {
        if (answer.result === null) return { value: null, metadata: null };
        const metadata = answer.result.metadata === undefined ? null : answer.result.metadata;
        return { value: valueOf(type, answer), metadata };
      });
    },
    put(key, value, options) {
      const o = options || {};
      const send = ({ value: text, body }) => {
        const args = defined([
          ['key', key],
          ['value', text],
          ['metadata', o.metadata === null ? undefined : o.metadata],
          ['expirationTtl', o.expirationTtl],
          ['expiration', o.expiration],
        ]);
        return call('put', args, body).then(() => undefined);
      };
      try {
        checkMetadata(o.metadata);
        const sent = payload(value);
        return sent instanceof Promise ? sent.then(send) : send(sent);
      } catch (error) {
        return Promise.reject(error);
      }
    },
    delete(key) {
      return call('delete', { key }).then(() => undefined);
    },
    list(options) {
      const o = options || {};
      return call('list', defined([['prefix', o.prefix], ['limit', o.limit], ['cursor', o.cursor]])).then((answer) => answer.result);
    },
  });
}
