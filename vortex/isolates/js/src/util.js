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

// "UTF-8 decode without BOM", as the urlencoded parser does: a leading U+FEFF is kept.
const keepingBOM = new TextDecoder('utf-8', { ignoreBOM: true });

export function utf8DecodeKeepingBOM(bytes) {
  return keepingBOM.decode(bytes);
}

const { isView } = ArrayBuffer;

export function isBufferSource(value) {
  return value instanceof ArrayBuffer || isView(value);
}

// A copy of the bytes of an ArrayBuffer or a view, as the fetch and crypto specs require:
// the caller may change its buffer afterwards without changing what was captured.
export function copyBytes(source) {
  if (source instanceof ArrayBuffer) return new Uint8Array(source.slice(0));
  if (isView(source)) {
    return new Uint8Array(source.buffer.slice(source.byteOffset, source.byteOffset + source.byteLength));
  }
  throw new TypeError('Expected an ArrayBuffer or an ArrayBufferView');
}

// A view on the bytes, without copying (for reading them at once).
export function viewBytes(source) {
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  throw new TypeError('Expected an ArrayBuffer or an ArrayBufferView');
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
