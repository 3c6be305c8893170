// Blob and File (File API). A run's bodies are in memory anyway, so a Blob is its bytes: slicing,
// reading and sending one never waits for a stream, and every read takes no turn of the host's
// loop beyond the promise it returns.
import { ReadableStream } from 'web-streams-polyfill';
import { concatBytes, copyBytes, isBufferSource, utf8Decode, utf8Encode } from './util.js';

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

function normalizeType(type) {
  const text = String(type);
  return PRINTABLE_ASCII.test(text) ? text.toLowerCase() : '';
}

function nativeEndings(text) {
  return text.replace(/\r\n?/g, '\n');
}

function partBytes(part, endings) {
  if (isBufferSource(part)) return copyBytes(part);
  if (part instanceof Blob) return blobBytes(part);
  const text = String(part);
  return utf8Encode(endings === 'native' ? nativeEndings(text) : text);
}

function bytesOfParts(parts, endings) {
  if (parts === undefined) return new Uint8Array(0);
  if ((typeof parts !== 'object' && typeof parts !== 'function') || parts === null || typeof parts[Symbol.iterator] !== 'function') {
    throw new TypeError("Failed to construct 'Blob': The provided value cannot be converted to a sequence.");
  }
  const chunks = [];
  let total = 0;
  for (const part of parts) {
    const bytes = partBytes(part, endings);
    chunks.push(bytes);
    total += bytes.length;
  }
  return chunks.length === 0 ? new Uint8Array(0) : concatBytes(chunks, total);
}

function blobOptions(options, what) {
  if (options === undefined || options === null) return { type: '', endings: 'transparent' };
  if (typeof options !== 'object' && typeof options !== 'function') {
    throw new TypeError(`Failed to construct '${what}': The provided value is not of type '${what}PropertyBag'.`);
  }
  const type = options.type === undefined ? '' : normalizeType(options.type);
  const endings = options.endings === undefined ? 'transparent' : String(options.endings);
  if (endings !== 'transparent' && endings !== 'native') {
    throw new TypeError(`Failed to construct '${what}': The provided value '${endings}' is not a valid enum value of type EndingType.`);
  }
  return { type, endings };
}

function relativeIndex(value, size) {
  if (value === undefined) return undefined;
  const n = Math.trunc(Number(value)) || 0;
  return n < 0 ? Math.max(size + n, 0) : Math.min(n, size);
}

let blobBytes;

export class Blob {
  #bytes;
  #type;

  constructor(blobParts = undefined, options = undefined) {
    const { type, endings } = blobOptions(options, 'Blob');
    this.#bytes = bytesOfParts(blobParts, endings);
    this.#type = type;
  }

  get size() { return this.#bytes.length; }
  get type() { return this.#type; }

  slice(start = undefined, end = undefined, contentType = undefined) {
    const size = this.#bytes.length;
    const from = relativeIndex(start, size) ?? 0;
    const to = relativeIndex(end, size) ?? size;
    const blob = new Blob();
    blob.#bytes = this.#bytes.slice(from, Math.max(from, to));
    blob.#type = contentType === undefined ? '' : normalizeType(contentType);
    return blob;
  }

  async arrayBuffer() { return this.#bytes.slice().buffer; }
  async bytes() { return this.#bytes.slice(); }
  async text() { return utf8Decode(this.#bytes); }

  stream() {
    const bytes = this.#bytes;
    return new ReadableStream({
      type: 'bytes',
      start(controller) {
        if (bytes.length) controller.enqueue(bytes.slice());
        controller.close();
      },
    });
  }

  static {
    // The bytes, shared: they never change once a Blob holds them.
    blobBytes = (blob) => {
      if (typeof blob !== 'object' || blob === null || !(#bytes in blob)) throw new TypeError('Illegal invocation');
      return blob.#bytes;
    };
  }
}
Object.defineProperty(Blob.prototype, Symbol.toStringTag, { value: 'Blob', configurable: true });

export class File extends Blob {
  #name;
  #lastModified;

  constructor(fileBits, fileName, options = undefined) {
    if (arguments.length < 2) {
      throw new TypeError(`Failed to construct 'File': 2 arguments required, but only ${arguments.length} present.`);
    }
    super(fileBits, blobOptions(options, 'File'));
    this.#name = String(fileName);
    const lastModified = options && options.lastModified !== undefined ? Number(options.lastModified) : Date.now();
    this.#lastModified = Number.isFinite(lastModified) ? Math.trunc(lastModified) : 0;
  }

  get name() { return this.#name; }
  get lastModified() { return this.#lastModified; }
  get webkitRelativePath() { return ''; }
}
Object.defineProperty(File.prototype, Symbol.toStringTag, { value: 'File', configurable: true });

export { blobBytes };
