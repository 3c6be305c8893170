// The Body mixin of the Fetch Standard, shared by Request and Response. A body is either bytes
// (from a string, a buffer or URLSearchParams: read at once, no stream made unless `.body` is
// asked for) or a ReadableStream of Uint8Array chunks. It can be read once; clone() tees it.
import { ReadableStream } from 'web-streams-polyfill';
import { URLSearchParams } from './searchparams.js';
import { Blob, blobBytes } from './blob.js';
import { FormData, parseFormData, serializeFormData } from './formdata.js';
import { chunkBytes, concatBytes, copyBytes, isBufferSource, utf8Decode, utf8Encode } from './util.js';

export class BodyState {
  constructor(bytes, stream) {
    this.bytes = bytes; // Uint8Array or null; never changed after capture, so clones share it
    this.stream = stream; // ReadableStream or null
    this.used = false; // read (bytes), or handed over to another Request (either kind)
  }
}

export const EMPTY = new Uint8Array(0);

function isDisturbed(stream) {
  // web-streams-polyfill keeps the spec's [[disturbed]] slot as `_disturbed`.
  return stream._disturbed === true;
}

// "extract a body": returns [BodyState or null, content type or null].
export function extractBody(init, keepalive = false) {
  if (init === null || init === undefined) return [null, null];
  if (typeof init === 'string') return [new BodyState(utf8Encode(init), null), 'text/plain;charset=UTF-8'];
  if (isBufferSource(init)) return [new BodyState(copyBytes(init), null), null];
  if (init instanceof Blob) {
    // A Blob's bytes never change: shared, not copied.
    return [new BodyState(blobBytes(init), null), init.type === '' ? null : init.type];
  }
  if (init instanceof FormData) {
    const [bytes, contentType] = serializeFormData(init);
    return [new BodyState(bytes, null), contentType];
  }
  if (init instanceof URLSearchParams) {
    return [new BodyState(utf8Encode(init.toString()), null), 'application/x-www-form-urlencoded;charset=UTF-8'];
  }
  if (init instanceof ReadableStream) {
    if (keepalive) throw new TypeError('A keepalive request cannot have a stream body');
    if (isDisturbed(init) || init.locked) {
      throw new TypeError('The ReadableStream given as a body has already been read from or locked');
    }
    return [new BodyState(null, init), null];
  }
  // WebIDL turns any other value into a string (so {} becomes "[object Object]").
  return [new BodyState(utf8Encode(String(init)), null), 'text/plain;charset=UTF-8'];
}

export function bodyUsed(state) {
  if (state === null) return false;
  return state.used || (state.stream !== null && isDisturbed(state.stream));
}

// `new Request(request)` takes the body over; the source then counts as used.
export function transferBody(state) {
  const moved = new BodyState(state.bytes, state.stream);
  state.used = true;
  return moved;
}

// A stream made from bytes by the `.body` getter, to its bytes. Passed on untouched
// (`new Response(res.body, res)`, as CORS and header middlewares do), it is still those bytes:
// sent with a Content-Length, as workerd sends them, and read without a stream's turns.
const madeFromBytes = new WeakMap();

export function bytesStream(bytes) {
  const stream = new ReadableStream({
    type: 'bytes',
    start(controller) {
      if (bytes.length) controller.enqueue(bytes.slice());
      controller.close();
    },
  });
  madeFromBytes.set(stream, bytes);
  return stream;
}

// The bytes of a body whose stream nobody has read or locked, taking them (the stream is locked
// as if read); null for any other stream.
export function takeKnownBytes(state) {
  const stream = state.stream;
  if (stream === null || state.used || isDisturbed(stream) || stream.locked) return null;
  const bytes = madeFromBytes.get(stream);
  if (bytes === undefined) return null;
  stream.getReader();
  state.used = true;
  return bytes;
}

// The `.body` getter: makes the stream on first use.
export function bodyStream(state) {
  if (state === null) return null;
  if (state.stream === null) {
    state.stream = bytesStream(state.used ? EMPTY : state.bytes);
    state.bytes = null;
  }
  return state.stream;
}

const USED = 'Body has already been used. It can only be used once. Use tee() first if you need to read it twice.';

export async function readAllChunks(stream, limit = Infinity) {
  const reader = stream.getReader();
  const chunks = [];
  let total = 0;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    let bytes;
    try {
      bytes = chunkBytes(value, 'A body stream');
    } catch (error) {
      reader.cancel(error).catch(() => {});
      throw error;
    }
    total += bytes.length;
    if (total > limit) {
      const error = new RangeError(`The body is larger than ${limit} bytes`);
      reader.cancel(error).catch(() => {});
      throw error;
    }
    chunks.push(bytes);
  }
  return concatBytes(chunks, total);
}

// Reads the whole body. The bytes returned may be shared: copy before handing them out.
export async function consumeBody(state) {
  if (state === null) return EMPTY;
  if (state.used) throw new TypeError(USED);
  if (state.stream === null) {
    state.used = true;
    return state.bytes;
  }
  if (isDisturbed(state.stream) || state.stream.locked) throw new TypeError(USED);
  const known = takeKnownBytes(state);
  if (known !== null) return known;
  return readAllChunks(state.stream);
}

export function cloneBody(state) {
  if (state === null) return null;
  if (bodyUsed(state) || (state.stream !== null && state.stream.locked)) {
    throw new TypeError('Cannot clone a body that has already been used');
  }
  if (state.stream === null) return new BodyState(state.bytes, null);
  const [a, b] = state.stream.tee();
  state.stream = a;
  return new BodyState(null, b);
}

// Methods of the mixin, given functions that find an object's BodyState and its Content-Type.
export function bodyMethods(stateOf, contentTypeOf) {
  return {
    async arrayBuffer() {
      const bytes = await consumeBody(stateOf(this));
      return bytes.slice().buffer;
    },
    async bytes() {
      const bytes = await consumeBody(stateOf(this));
      return bytes.slice();
    },
    async text() {
      return utf8Decode(await consumeBody(stateOf(this)));
    },
    async json() {
      return JSON.parse(utf8Decode(await consumeBody(stateOf(this))));
    },
    async blob() {
      const contentType = contentTypeOf(this);
      const bytes = await consumeBody(stateOf(this));
      return new Blob([bytes], { type: contentType === null ? '' : contentType });
    },
    async formData() {
      const contentType = contentTypeOf(this);
      return parseFormData(await consumeBody(stateOf(this)), contentType);
    },
  };
}

export function installBodyMethods(cls, stateOf, contentTypeOf) {
  const methods = bodyMethods(stateOf, contentTypeOf);
  for (const name of Object.keys(methods)) {
    Object.defineProperty(cls.prototype, name, {
      value: methods[name],
      writable: true,
      configurable: true,
      enumerable: true,
    });
  }
  Object.defineProperty(cls.prototype, 'body', {
    get() {
      return bodyStream(stateOf(this));
    },
    configurable: true,
    enumerable: true,
  });
  Object.defineProperty(cls.prototype, 'bodyUsed', {
    get() {
      return bodyUsed(stateOf(this));
    },
    configurable: true,
    enumerable: true,
  });
}
