// node:util, the subset that needs no Node internals: promisify, callbackify, inherits, format,
// inspect (the console's formatting), types, deprecate, TextEncoder/TextDecoder and
// isDeepStrictEqual. Not here: debuglog's output, parseArgs, styleText, MIMEType, aborted,
// transferableAbortSignal, the util.is* functions Node removed.
import { makeInspector } from '../inspect.js';
import { isDeepStrictEqual } from './deepequal.js';
import { types } from './types.js';

const inspector = makeInspector({ filename: 'worker', firstLineShift: 0 });
const customPromisify = Symbol.for('nodejs.util.promisify.custom');

export function format(...args) {
  return inspector.formatArgs(args);
}

export function formatWithOptions(options, ...args) {
  return inspector.formatArgs(args);
}

export function inspect(value) {
  return inspector.inspectValue(value);
}
inspect.custom = Symbol.for('nodejs.util.inspect.custom');

export function promisify(original) {
  if (typeof original !== 'function') throw new TypeError('The "original" argument must be of type function');
  if (typeof original[customPromisify] === 'function') return original[customPromisify];
  function promisified(...args) {
    return new Promise((resolve, reject) => {
      original.call(this, ...args, (err, value) => (err ? reject(err) : resolve(value)));
    });
  }
  Object.setPrototypeOf(promisified, Object.getPrototypeOf(original));
  Object.defineProperty(promisified, customPromisify, { value: promisified });
  return Object.defineProperties(promisified, Object.getOwnPropertyDescriptors(original));
}
promisify.custom = customPromisify;

export function callbackify(original) {
  if (typeof original !== 'function') throw new TypeError('The "original" argument must be of type function');
  return function callbackified(...args) {
    const callback = args.pop();
    if (typeof callback !== 'function') throw new TypeError('The last argument must be of type function');
    original.apply(this, args).then(
      (value) => queueMicrotask(() => callback(null, value)),
      (reason) => {
        // Node's: a falsy rejection reason becomes an Error that holds it.
        let err = reason;
        if (!reason) {
          err = new Error('Promise was rejected with a falsy value');
          err.reason = reason;
        }
        queueMicrotask(() => callback(err));
      },
    );
  };
}

export function inherits(ctor, superCtor) {
  if (typeof ctor !== 'function' || typeof superCtor !== 'function' || superCtor.prototype === undefined) {
    throw new TypeError('util.inherits needs two constructors, the second with a prototype');
  }
  Object.defineProperty(ctor, 'super_', { value: superCtor, writable: true, configurable: true });
  Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
}

export function deprecate(fn, message) {
  let warned = false;
  return function deprecated(...args) {
    if (!warned) {
      warned = true;
      console.warn('DeprecationWarning: ' + message);
    }
    return new.target ? Reflect.construct(fn, args, new.target) : fn.apply(this, args);
  };
}

export function debuglog() {
  const log = () => {};
  log.enabled = false;
  return log;
}

export const TextEncoder = globalThis.TextEncoder;
export const TextDecoder = globalThis.TextDecoder;
export { isDeepStrictEqual, types };
export const isArray = Array.isArray;

export default {
  format,
  formatWithOptions,
  inspect,
  promisify,
  callbackify,
  inherits,
  deprecate,
  debuglog,
  debug: debuglog,
  types,
  isDeepStrictEqual,
  isArray,
  TextEncoder,
  TextDecoder,
};
