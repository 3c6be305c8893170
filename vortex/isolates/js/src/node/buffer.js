// node:buffer, as workerd's nodejs_compat gives it: feross's `buffer` (the Buffer browserify
// and bundlers' polyfills ship), with what Node's module adds around the class. Linked into the
// function that imports it and evaluated in its own compartment, per instance: Buffer.poolSize,
// Buffer.prototype and the rest are that function's alone.
const buffer = require('buffer/index.js');

// Node's base64url, which the package lacks: its base64 decoder already takes the URL-safe
// alphabet and no padding, so an input in base64url is read as base64; only output is turned.
const { Buffer } = buffer;
const isUrl = (encoding) => typeof encoding === 'string' && encoding.toLowerCase() === 'base64url';
function readingBase64url(owner, method, from) {
  const original = owner[method];
  owner[method] = function (...args) {
    for (let i = from; i < args.length; i += 1) if (isUrl(args[i])) args[i] = 'base64';
    return original.apply(this, args);
  };
}
readingBase64url(Buffer, 'from', 1);
readingBase64url(Buffer, 'byteLength', 1);
readingBase64url(Buffer, 'alloc', 2);
for (const method of ['write', 'fill', 'indexOf', 'lastIndexOf', 'includes']) readingBase64url(Buffer.prototype, method, 1);
const isEncoding = Buffer.isEncoding;
Buffer.isEncoding = (encoding) => isUrl(encoding) || isEncoding(encoding);
const toString = Buffer.prototype.toString;
Buffer.prototype.toString = function (encoding, ...range) {
  if (!isUrl(encoding)) return toString.call(this, encoding, ...range);
  return toString.call(this, 'base64', ...range).replace(/[+/=]/g, (c) => (c === '+' ? '-' : c === '/' ? '_' : ''));
};
Buffer.prototype.toLocaleString = Buffer.prototype.toString;

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

function bytesOf(input) {
  if (input instanceof ArrayBuffer) return new Uint8Array(input);
  if (ArrayBuffer.isView(input)) return new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
  throw new TypeError('The "input" argument must be an instance of ArrayBuffer, Buffer, TypedArray or DataView');
}

function isUtf8(input) {
  try {
    strictUtf8.decode(bytesOf(input));
    return true;
  } catch (err) {
    if (err instanceof TypeError && !(input instanceof ArrayBuffer || ArrayBuffer.isView(input))) throw err;
    return false;
  }
}

function isAscii(input) {
  return bytesOf(input).every((byte) => byte < 0x80);
}

module.exports = {
  Buffer: buffer.Buffer,
  SlowBuffer: buffer.SlowBuffer,
  INSPECT_MAX_BYTES: buffer.INSPECT_MAX_BYTES,
  kMaxLength: buffer.kMaxLength,
  kStringMaxLength: buffer.kStringMaxLength,
  constants: { MAX_LENGTH: buffer.kMaxLength, MAX_STRING_LENGTH: buffer.kStringMaxLength },
  atob: globalThis.atob,
  btoa: globalThis.btoa,
  Blob: globalThis.Blob,
  File: globalThis.File,
  isUtf8,
  isAscii,
};
