// Workers' non-standard byte streams: IdentityTransformStream (a TransformStream that passes
// bytes through unchanged, and nothing but bytes) and FixedLengthStream (one that must carry
// exactly the number of bytes it was told: its readable side, as a Response body, is sent with
// that Content-Length). Differences from Workers: the readable side is a default stream, not a
// byte stream, so it has no BYOB reader; each chunk is copied as it is written.
import { TransformStream } from 'web-streams-polyfill';
import { copyBytes, isBufferSource } from './util.js';

const readableGetter = Object.getOwnPropertyDescriptor(TransformStream.prototype, 'readable').get;
const readableOf = (stream) => Reflect.apply(readableGetter, stream, []);

// The readable side of each FixedLengthStream, to its length (exchange.js sends it with it).
const fixedLengths = new WeakMap();

export function fixedLengthOf(stream) {
  return fixedLengths.get(stream);
}

function bytesOf(chunk) {
  if (!isBufferSource(chunk)) {
    throw new TypeError('This TransformStream is being used as a byte stream, but received an object of non-ArrayBuffer/ArrayBufferView type on its writable side.');
  }
  return copyBytes(chunk);
}

// Queued bytes, not chunks, as Workers count them (`highWaterMark` is in bytes there too).
function readableStrategy(strategy) {
  if (strategy == null || strategy.highWaterMark === undefined) return undefined;
  const highWaterMark = Number(strategy.highWaterMark);
  return { highWaterMark, size: (chunk) => chunk.length };
}

const identity = {
  transform(chunk, controller) {
    const bytes = bytesOf(chunk);
    if (bytes.length > 0) controller.enqueue(bytes);
  },
};
// Set by FixedLengthStream around its super() call only, and taken by the constructor below
// before it reads anything user code may have given (a getter of the strategy could construct
// another stream in between).
let subclassTransformer = null;

export class IdentityTransformStream extends TransformStream {
  constructor(queuingStrategy = undefined) {
    const transformer = subclassTransformer === null ? identity : subclassTransformer;
    subclassTransformer = null;
    super(transformer, undefined, readableStrategy(queuingStrategy));
  }
}

function expectedLength(value) {
  const length = typeof value === 'bigint' ? Number(value) : value;
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || length < 0) {
    throw new TypeError("Failed to construct 'FixedLengthStream': the expected length must be a non-negative integer.");
  }
  return length;
}

function countingTransformer(expected) {
  let seen = 0;
  return {
    transform(chunk, controller) {
      const bytes = bytesOf(chunk);
      if (bytes.length > expected - seen) {
        throw new TypeError('Attempt to write too many bytes through a FixedLengthStream.');
      }
      seen += bytes.length;
      if (bytes.length > 0) controller.enqueue(bytes);
    },
    flush() {
      if (seen < expected) throw new TypeError('FixedLengthStream did not see all expected bytes before close().');
    },
  };
}

export class FixedLengthStream extends IdentityTransformStream {
  constructor(length, queuingStrategy = undefined) {
    if (arguments.length === 0) {
      throw new TypeError("Failed to construct 'FixedLengthStream': 1 argument required, but only 0 present.");
    }
    const expected = expectedLength(length);
    subclassTransformer = countingTransformer(expected);
    try {
      super(queuingStrategy);
    } finally {
      subclassTransformer = null;
    }
    fixedLengths.set(readableOf(this), expected);
  }
}
