// structuredClone (HTML Standard's StructuredSerialize/Deserialize in one pass): primitives,
// boxed primitives, Date, RegExp, ArrayBuffer and views (sharing a buffer stays shared), Map,
// Set, Error (standard names only), DOMException, arrays and plain objects, cycles and shared
// references kept. Functions, symbols, promises, weak collections and platform objects throw
// DataCloneError. Constructors come from a fixed table, never looked up by a name the value
// chooses: the host's global holds things no user may construct.
import { DOMException } from './domexception.js';

const TYPED_ARRAYS = new Map(
  [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
    Float32Array, Float64Array, BigInt64Array, BigUint64Array]
    .concat(typeof Float16Array === 'function' ? [Float16Array] : [])
    .map((cls) => [cls.name, cls]),
);
const ERRORS = new Map(
  [Error, EvalError, RangeError, ReferenceError, SyntaxError, TypeError, URIError].map((cls) => [cls.name, cls]),
);
const typedArrayTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag).get;
const regexpSource = Object.getOwnPropertyDescriptor(RegExp.prototype, 'source').get;
const regexpFlags = Object.getOwnPropertyDescriptor(RegExp.prototype, 'flags').get;
const bufferByteLength = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength').get;
const mapSize = Object.getOwnPropertyDescriptor(Map.prototype, 'size').get;
const setSize = Object.getOwnPropertyDescriptor(Set.prototype, 'size').get;

// Platform classes (Request, URL, streams...) register here: they hold state no copy can carry.
const platformPrototypes = [];
export function registerPlatformClasses(classes) {
  for (const cls of classes) platformPrototypes.push(cls.prototype);
}

function branded(check, value) {
  try {
    check(value);
    return true;
  } catch {
    return false;
  }
}

function dataCloneError(what) {
  return new DOMException(`${what} could not be cloned.`, 'DataCloneError');
}

function describe(value) {
  if (typeof value === 'function') return `${value.name ? 'function ' + value.name : 'An anonymous function'}`;
  if (typeof value === 'symbol') return String(value);
  return `#<${Object.prototype.toString.call(value).slice(8, -1)}>`;
}

function isPlatformObject(value) {
  for (const proto of platformPrototypes) {
    if (Object.prototype.isPrototypeOf.call(proto, value)) return true;
  }
  return false;
}

function copyProperties(source, target, memory) {
  for (const key of Object.keys(source)) {
    if (!Object.prototype.hasOwnProperty.call(source, key)) continue;
    // defineProperty, not assignment: a "__proto__" key is data, not a prototype to set.
    Object.defineProperty(target, key, {
      value: cloneValue(source[key], memory),
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
}

function cloneValue(value, memory) {
  const type = typeof value;
  if (type === 'symbol') throw dataCloneError(describe(value));
  if (type === 'function') throw dataCloneError(describe(value));
  if (type !== 'object' || value === null) return value;
  if (memory.has(value)) return memory.get(value);

  let out;
  if (branded((v) => Boolean.prototype.valueOf.call(v), value)) out = Object(Boolean.prototype.valueOf.call(value));
  else if (branded((v) => Number.prototype.valueOf.call(v), value)) out = Object(Number.prototype.valueOf.call(value));
  else if (branded((v) => BigInt.prototype.valueOf.call(v), value)) out = Object(BigInt.prototype.valueOf.call(value));
  else if (branded((v) => String.prototype.valueOf.call(v), value)) out = Object(String.prototype.valueOf.call(value));
  else if (branded((v) => Symbol.prototype.valueOf.call(v), value)) throw dataCloneError('Symbol object');
  else if (branded((v) => Date.prototype.getTime.call(v), value)) out = new Date(Date.prototype.getTime.call(value));
  else if (branded((v) => regexpSource.call(v), value) && value !== RegExp.prototype) {
    out = new RegExp(regexpSource.call(value), regexpFlags.call(value));
  } else if (branded((v) => bufferByteLength.call(v), value)) {
    out = ArrayBuffer.prototype.slice.call(value, 0);
  } else if (ArrayBuffer.isView(value)) {
    const buffer = cloneValue(value.buffer, memory);
    const tag = typedArrayTag.call(value);
    if (tag === undefined) {
      out = new DataView(buffer, value.byteOffset, value.byteLength);
    } else {
      const cls = TYPED_ARRAYS.get(tag);
      if (!cls) throw dataCloneError(tag);
      out = new cls(buffer, value.byteOffset, value.length);
    }
  } else if (branded((v) => mapSize.call(v), value)) {
    out = new Map();
    memory.set(value, out);
    const entries = [...Map.prototype.entries.call(value)];
    for (const [k, v] of entries) out.set(cloneValue(k, memory), cloneValue(v, memory));
    return out;
  } else if (branded((v) => setSize.call(v), value)) {
    out = new Set();
    memory.set(value, out);
    const items = [...Set.prototype.values.call(value)];
    for (const item of items) out.add(cloneValue(item, memory));
    return out;
  } else if (value instanceof DOMException) {
    out = new DOMException(value.message, value.name);
  } else if (value instanceof Error) {
    const name = String(value.name);
    const cls = ERRORS.get(name) || Error;
    const hasMessage = Object.prototype.hasOwnProperty.call(value, 'message');
    out = hasMessage ? new cls(String(value.message)) : new cls();
    if (Object.prototype.hasOwnProperty.call(value, 'cause')) {
      memory.set(value, out);
      out.cause = cloneValue(value.cause, memory);
    }
  } else if (
    branded((v) => WeakMap.prototype.has.call(v, {}), value) ||
    branded((v) => WeakSet.prototype.has.call(v, {}), value) ||
    (typeof WeakRef === 'function' && branded((v) => WeakRef.prototype.deref.call(v), value)) ||
    value instanceof Promise ||
    isPlatformObject(value)
  ) {
    throw dataCloneError(describe(value));
  } else if (Array.isArray(value)) {
    out = new Array(value.length);
    memory.set(value, out);
    copyProperties(value, out, memory);
    return out;
  } else {
    out = {};
    memory.set(value, out);
    copyProperties(value, out, memory);
    return out;
  }
  memory.set(value, out);
  return out;
}

export function structuredClone(value, options = undefined) {
  if (arguments.length === 0) {
    throw new TypeError("Failed to execute 'structuredClone': 1 argument required, but only 0 present.");
  }
  if (options != null && options.transfer !== undefined && Array.from(options.transfer).length > 0) {
    throw new DOMException('Transferring objects is not supported by structuredClone here', 'DataCloneError');
  }
  return cloneValue(value, new Map());
}
