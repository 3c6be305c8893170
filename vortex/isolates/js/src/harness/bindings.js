// Bindings: calls a run makes that the server answers (see vortex/isolates/bindings.py), KV's.
import { ErrorCtor, JSON, host } from './platform.js';

export function bindingError(code, message) {
  const error = new ErrorCtor(message);
  error.code = code;
  return error;
}

function callBinding(state, binding, op, args) {
  // Stringified before anything is registered: a BigInt or a cycle rejects right here.
  const text = JSON.stringify(args);
  return new Promise((resolve, reject) => {
    const cid = state.nextCall;
    state.nextCall += 1;
    state.calls.set(cid, { resolve, reject });
    host.call(state.id, cid, binding, op, text);
  });
}

export function makeKv(live, describe) {
  const maxValueBytes = Number(describe.max_value_bytes) || Infinity;
  const call = (op, args) => callBinding(live(), 'kv', op, args);
  const defined = (entries) => {
    const out = {};
    for (const [key, value] of entries) if (value !== undefined) out[key] = value;
    return out;
  };
  return harden({
    get(key, options) {
      const type = typeof options === 'string' ? options : (options && options.type) || 'text';
      if (type !== 'text' && type !== 'json') {
        return Promise.reject(new TypeError('KV get type must be "text" or "json", got ' + String(type)));
      }
      return call('get', { key }).then((value) => {
        if (value === null || value === undefined) return null;
        return type === 'json' ? JSON.parse(value) : value;
      });
    },
    put(key, value, options) {
      // A UTF-16 unit is at least one byte of UTF-8: longer than the limit is too large for
      // sure, so a huge value never crosses the pipe only to be refused.
      if (typeof value === 'string' && value.length > maxValueBytes) {
        return Promise.reject(
          bindingError('kv_value_too_large', 'KV value is over the limit of ' + maxValueBytes + ' bytes'),
        );
      }
      const o = options || {};
      return call('put', defined([['key', key], ['value', value], ['expirationTtl', o.expirationTtl], ['expiration', o.expiration]])).then(() => undefined);
    },
    delete(key) {
      return call('delete', { key }).then(() => undefined);
    },
    list(options) {
      const o = options || {};
      return call('list', defined([['prefix', o.prefix], ['limit', o.limit], ['cursor', o.cursor]]));
    },
  });
}
