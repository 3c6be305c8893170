// Byte helpers shared by the web APIs. Everything here runs in the host's start compartment,
// before lockdown, and is reached by user code only through the hardened classes built on it.
import { TextDecoder, TextEncoder } from '@exodus/bytes/encoding.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { ignoreBOM: false });

export function utf8Encode(text) {
  return encoder.encode(String(text));
}

export function utf8Decode(bytes) {
  return decoder.decode(bytes);
}

// What the host answers for a per-run handle (vortex/isolates/runhandles.py): bytes whose first
// byte says what follows, DONE or MORE and the result, or FAILED and the message of the
// TypeError to throw. A call that throws, or answers nothing, throws `failure` as a TypeError:
// no Python text or object reaches user code.
export const DONE = 0;
export const MORE = 1;

export function taggedAnswer(call, failure) {
  let answer;
  try {
    answer = new Uint8Array(call());
  } catch {
    throw new TypeError(failure);
  }
  if (answer.length === 0) throw new TypeError(failure);
  const body = new Uint8Array(answer.subarray(1));
  if (answer[0] !== DONE && answer[0] !== MORE) throw new TypeError(utf8Decode(body));
  return { more: answer[0] === MORE, bytes: body };
}

// "UTF-8 decode without BOM", as the urlencoded parser does: a leading U+FEFF is kept.
const keepingBOM = new TextDecoder('utf-8', { ignoreBOM: true });

export function utf8DecodeKeepingBOM(bytes) {
  return keepingBOM.decode(bytes);
}

const { isView } = ArrayBuffer;

// The engine's own accessors, read from the prototypes before user code runs: they look at the
// internal slots of a real typed array or DataView and throw for anything else. `instanceof` and
// `value.length` do not: a Proxy of a Uint8Array passes `instanceof`, and a real one may have an
// own `length`, `buffer` or `byteOffset` that lies.
function intrinsicGetter(proto, name) {
  const { get } = Object.getOwnPropertyDescriptor(proto, name);
  return (value) => Reflect.apply(get, value, []);
}
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype);
const typedArrayName = intrinsicGetter(TypedArrayPrototype, Symbol.toStringTag);
const typedArrayBuffer = intrinsicGetter(TypedArrayPrototype, 'buffer');
const typedArrayOffset = intrinsicGetter(TypedArrayPrototype, 'byteOffset');
const typedArrayLength = intrinsicGetter(TypedArrayPrototype, 'byteLength');
const dataViewBuffer = intrinsicGetter(DataView.prototype, 'buffer');
const dataViewOffset = intrinsicGetter(DataView.prototype, 'byteOffset');
const dataViewLength = intrinsicGetter(DataView.prototype, 'byteLength');
const bufferSlice = ArrayBuffer.prototype.slice;
const bufferLength = intrinsicGetter(ArrayBuffer.prototype, 'byteLength');

function isArrayBuffer(value) {
  try {
    bufferLength(value);
    return true;
  } catch {
    return false;
  }
}

export function isUint8Array(value) {
  return typedArrayName(value) === 'Uint8Array';
}

// A fresh Uint8Array over the bytes of a real view (its buffer, offset and length read from its
// internal slots), or null if `value` is no view.
function viewOf(value) {
  if (!isView(value)) return null;
  if (typedArrayName(value) === undefined) {
    return new Uint8Array(dataViewBuffer(value), dataViewOffset(value), dataViewLength(value));
  }
  return new Uint8Array(typedArrayBuffer(value), typedArrayOffset(value), typedArrayLength(value));
}

export function isBufferSource(value) {
  return isArrayBuffer(value) || isView(value);
}

// A copy of the bytes of an ArrayBuffer or a view, as the fetch and crypto specs require:
// the caller may change its buffer afterwards without changing what was captured.
export function copyBytes(source) {
  if (isArrayBuffer(source)) return new Uint8Array(Reflect.apply(bufferSlice, source, [0]));
  const view = viewOf(source);
  if (view !== null) return new Uint8Array(view);
  throw new TypeError('Expected an ArrayBuffer or an ArrayBufferView');
}

// A view on the bytes, without copying (for reading them at once).
export function viewBytes(source) {
  if (isArrayBuffer(source)) return new Uint8Array(source);
  const view = viewOf(source);
  if (view !== null) return view;
  throw new TypeError('Expected an ArrayBuffer or an ArrayBufferView');
}

// A chunk of a body stream, as the platform keeps and sends it: a copy made by the engine from a
// real Uint8Array (so nothing user code controls, no Proxy and no lying `length`, ever reaches
// the host, and later writes to its buffer change nothing), or a TypeError.
export function chunkBytes(value, what) {
  if (typeof value !== 'object' || value === null || !isUint8Array(value)) {
    throw new TypeError(`${what} must produce Uint8Array chunks`);
  }
  return new Uint8Array(viewOf(value));
}

// Bytes cross to Python as "binary strings" (one char per byte, 0-255): strings are the only
// thing besides numbers that crosses, and Python turns them into bytes with latin-1 at C speed.
const CHUNK = 0x2000;

export function bytesToBinary(bytes) {
  if (bytes.length <= CHUNK) return String.fromCharCode.apply(null, bytes);
  let out = '';
  for (let i = 0; i < bytes.length; i += CHUNK) {
    out += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK));
  }
  return out;
}

// Bytes from the host arrive as a Uint8Array over a Python bytearray's memory: they are copied at
// once, so nothing user code can reach ever points into Python's memory. Bytes, not strings: every
// Python string handed to JavaScript stays in a table that pythonmonkey's GC scans once per string
// it frees (a collection cost the square of the strings), and a copy is native where decoding a
// binary string took a loop over its characters.
export function hostBytes(view) {
  return view === null || view === undefined ? null : new Uint8Array(view);
}

export function hostText(view) {
  return utf8Decode(new Uint8Array(view));
}

export function concatBytes(chunks, total) {
  if (chunks.length === 1) return chunks[0];
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

export function defineToStringTag(cls, name) {
  Object.defineProperty(cls.prototype, Symbol.toStringTag, { value: name, configurable: true });
}
