// The byte inputs node:crypto takes, as Node takes them: a string in an encoding (UTF-8 unless
// told), or any ArrayBuffer, Buffer, TypedArray or DataView, seen in place rather than copied.
import { Buffer } from 'node:buffer';
import { codedError, invalidArgType } from '../nodeerrors.js';

// Taken when the module is evaluated, before the function's code runs, so that code replacing
// Buffer.from or Buffer.prototype.toString for its own ends does not break hashing (Node's own
// modules hold on to their primordials the same way).
const from = Buffer.from;
const toString = Buffer.prototype.toString;

export function viewOf(value) {
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return null;
}

// `data` of update() and hash(): a string or a view (an ArrayBuffer is refused there by Node).
export function dataBytes(data, encoding, name = 'data') {
  if (typeof data === 'string') return viewOf(from.call(Buffer, data, encoding || 'utf8'));
  if (ArrayBuffer.isView(data)) return viewOf(data);
  throw invalidArgType(name, 'of type string or an instance of Buffer, TypedArray, or DataView', data);
}

// Keys, passwords and salts: a string, an ArrayBuffer or a view.
export function keyBytes(key, encoding, name = 'key') {
  if (typeof key === 'string') return viewOf(from.call(Buffer, key, encoding || 'utf8'));
  const view = viewOf(key);
  if (view !== null) return view;
  throw invalidArgType(name, 'of type string or an instance of ArrayBuffer, Buffer, TypedArray, or DataView', key);
}

// A Buffer of this function's node:buffer over `bytes`, without a copy.
export function bufferOf(bytes) {
  return from.call(Buffer, bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function encoded(buffer, encoding) {
  return encoding === undefined || encoding === 'buffer' ? buffer : toString.call(buffer, encoding);
}

export function timingSafeEqual(a, b) {
  const x = viewOf(a);
  const y = viewOf(b);
  if (x === null) throw invalidArgType('buf1', 'an instance of ArrayBuffer, Buffer, TypedArray, or DataView', a);
  if (y === null) throw invalidArgType('buf2', 'an instance of ArrayBuffer, Buffer, TypedArray, or DataView', b);
  if (x.length !== y.length) {
    throw codedError(RangeError, 'ERR_CRYPTO_TIMING_SAFE_EQUAL_LENGTH', 'Input buffers must have the same byte length');
  }
  // Every byte is looked at whatever differs, so the time says nothing of where.
  let diff = 0;
  for (let i = 0; i < x.length; i += 1) diff |= x[i] ^ y[i];
  return diff === 0;
}
