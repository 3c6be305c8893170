// Node's random functions over the platform's crypto.getRandomValues (the operating system's
// randomness through the host), which gives at most 65536 bytes a call.
import { invalidArgType, outOfRange } from '../nodeerrors.js';
import { bufferOf, viewOf } from './bytes.js';

const web = globalThis.crypto;
const CHUNK = 65536;
const MAX_SIZE = 2 ** 31 - 1;

function fill(bytes) {
  for (let at = 0; at < bytes.length; at += CHUNK) web.getRandomValues(bytes.subarray(at, at + CHUNK));
  return bytes;
}

function checkSize(size, name, max = MAX_SIZE) {
  if (typeof size !== 'number') throw invalidArgType(name, 'of type number', size);
  if (!Number.isInteger(size) || size < 0 || size > max) throw outOfRange(name, `>= 0 && <= ${max}`, size);
}

function checkCallback(callback) {
  if (typeof callback !== 'function') throw invalidArgType('callback', 'of type function', callback);
}

// Node calls back after the current code, never during the call.
function later(callback, ...args) {
  queueMicrotask(() => callback(...args));
}

export function randomBytes(size, callback) {
  checkSize(size, 'size');
  if (callback !== undefined) checkCallback(callback);
  const buffer = bufferOf(fill(new Uint8Array(size)));
  if (callback === undefined) return buffer;
  later(callback, null, buffer);
}

function region(buffer, offset, size) {
  const bytes = viewOf(buffer);
  if (bytes === null) {
    throw invalidArgType('buf', 'an instance of ArrayBuffer or ArrayBufferView', buffer);
  }
  // Node counts offset and size in elements of the view, as here in bytes for a Uint8Array.
  const unit = buffer.BYTES_PER_ELEMENT || 1;
  const start = offset === undefined ? 0 : offset;
  checkSize(start, 'offset', bytes.length / unit);
  const length = size === undefined ? bytes.length / unit - start : size;
  checkSize(length, 'size', bytes.length / unit - start);
  return bytes.subarray(start * unit, (start + length) * unit);
}

export function randomFillSync(buffer, offset, size) {
  fill(region(buffer, offset, size));
  return buffer;
}

export function randomFill(buffer, ...rest) {
  const callback = rest.pop();
  checkCallback(callback);
  fill(region(buffer, rest[0], rest[1]));
  later(callback, null, buffer);
}

// Node's randomInt: uniform in [min, max) by rejection over 48-bit draws.
const RAND_MAX = 2 ** 48 - 1;

export function randomInt(min, max, callback) {
  if (max === undefined || typeof max === 'function') {
    callback = max;
    max = min;
    min = 0;
  }
  if (callback !== undefined) checkCallback(callback);
  if (!Number.isSafeInteger(min)) throw invalidArgType('min', 'a safe integer', min);
  if (!Number.isSafeInteger(max)) throw invalidArgType('max', 'a safe integer', max);
  if (max <= min) throw outOfRange('max', `greater than the value of "min" (${min})`, max);
  const range = max - min;
  if (range > RAND_MAX) throw outOfRange('max - min', `<= ${RAND_MAX}`, range);
  const limit = RAND_MAX - (RAND_MAX % range);
  const draw = new Uint8Array(6);
  let value;
  do {
    fill(draw);
    value = draw.reduce((acc, byte) => acc * 256 + byte, 0);
  } while (value >= limit);
  const result = min + (value % range);
  if (callback === undefined) return result;
  later(callback, null, result);
}

export function randomUUID(options) {
  if (options !== undefined && (options === null || typeof options !== 'object')) {
    throw invalidArgType('options', 'of type object', options);
  }
  return web.randomUUID();
}

// The web API's own, bound: Node's crypto.getRandomValues is called detached from an object.
export function getRandomValues(array) {
  return web.getRandomValues(array);
}
