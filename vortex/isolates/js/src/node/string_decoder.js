// node:string_decoder: Node's own StringDecoder, from the `string_decoder` package; its Buffer
// is node:buffer's (build.mjs links the package's `buffer` import to it). Node accepts any
// ArrayBufferView where the package wants a Buffer: such views are wrapped, not copied.
const { Buffer } = require('node:buffer');
const { StringDecoder } = require('string_decoder/lib/string_decoder.js');

function asBuffer(chunk) {
  if (chunk === undefined || typeof chunk === 'string' || Buffer.isBuffer(chunk)) return chunk;
  if (ArrayBuffer.isView(chunk)) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError('The "buf" argument must be an instance of Buffer, TypedArray, or DataView');
}

const write = StringDecoder.prototype.write;
const end = StringDecoder.prototype.end;
StringDecoder.prototype.write = function (chunk) {
  return write.call(this, asBuffer(chunk));
};
StringDecoder.prototype.end = function (chunk) {
  return end.call(this, asBuffer(chunk));
};

module.exports = { StringDecoder };
