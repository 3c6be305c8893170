// CompressionStream and DecompressionStream (the Compression Standard): TransformStreams of
// bytes over zlib in the host (vortex/isolates/codecs.py), which knows exactly where a stream
// ends, so input cut short or followed by junk is a TypeError, as the standard requires. Bytes
// go to the host as binary strings, at most CHUNK at a time (so a run's turn can be stopped
// between two pieces); what comes back is a tagged bytearray, copied at once. Anything going
// wrong on the way is a TypeError of ours: no Python text or object reaches user code.
import { TransformStream } from 'web-streams-polyfill';
import { bytesToBinary, copyBytes, defineToStringTag, isBufferSource, taggedAnswer, utf8Decode } from './util.js';

const FORMATS = ['gzip', 'deflate', 'deflate-raw'];
const CHUNK = 1 << 20;
let hostCodec = null;

export function setCodecHost(call) {
  hostCodec = call;
}

function call(op, handle, data) {
  return taggedAnswer(() => hostCodec(op, handle, data), 'The compression stream failed');
}

function formatOf(args, className) {
  if (args.length < 1) {
    throw new TypeError(`Failed to construct '${className}': 1 argument required, but only 0 present.`);
  }
  const format = String(args[0]);
  if (!FORMATS.includes(format)) {
    throw new TypeError(
      `Failed to construct '${className}': The provided value '${format}' is not a valid enum value of type CompressionFormat.`,
    );
  }
  return format;
}

function codecStream(op, format) {
  const handle = Number(utf8Decode(call(op, 0, format).bytes));
  const emit = (controller, answer) => {
    let out = answer;
    for (;;) {
      if (out.bytes.length > 0) controller.enqueue(out.bytes);
      if (!out.more) return;
      out = call('more', handle, null);
    }
  };
  return new TransformStream({
    transform(chunk, controller) {
      if (!isBufferSource(chunk)) {
        throw new TypeError('The chunk is not of type (ArrayBuffer or ArrayBufferView)');
      }
      const bytes = copyBytes(chunk);
      for (let at = 0; at < bytes.length; at += CHUNK) {
        emit(controller, call('push', handle, bytesToBinary(bytes.subarray(at, at + CHUNK))));
      }
    },
    flush(controller) {
      emit(controller, call('finish', handle, null));
    },
  });
}

// The two classes differ only in their direction: each keeps its TransformStream where user
// code cannot reach it, and gives out its two sides, as GenericTransformStream says.
function codecClass(name, op) {
  const streams = new WeakMap();
  const codec = class {
    constructor(format) {
      streams.set(this, codecStream(op, formatOf(arguments, name)));
    }

    get readable() {
      return streams.get(this).readable;
    }

    get writable() {
      return streams.get(this).writable;
    }
  };
  Object.defineProperty(codec, 'name', { value: name });
  defineToStringTag(codec, name);
  return codec;
}

export const CompressionStream = codecClass('CompressionStream', 'compress');
export const DecompressionStream = codecClass('DecompressionStream', 'decompress');
