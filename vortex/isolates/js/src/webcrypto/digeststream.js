// crypto.DigestStream (Cloudflare's extension): a WritableStream of bytes whose `digest` promise
// resolves to the hash of everything written, once the stream is closed. The hash is taken as
// the chunks come, by hashlib in the host (vortex/isolates/digests.py), so nothing written is
// kept: memory stays one block of the hash whatever the stream's length. MD5 too, as in Workers.
// Each chunk goes to the host as a fresh copy, at most CHUNK at a time (so a run's turn can be
// stopped between two pieces), which the host reads at once and does not keep: user code never
// holds what Python reads. The handle is opened at the first write or the close, so a stream
// made and never used costs the host nothing (the web APIs make one before any run, at boot).
import { WritableStream } from 'web-streams-polyfill';
import { DOMException } from '../domexception.js';
import { isBufferSource, taggedAnswer, utf8Decode, viewBytes } from '../util.js';

const ALGORITHMS = ['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512', 'MD5'];
const CHUNK = 1 << 20;
let hostDigest = null;

export function setDigestHost(call) {
  hostDigest = call;
}

function call(op, handle, data) {
  return taggedAnswer(() => hostDigest(op, handle, data), 'The digest stream failed').bytes;
}

function algorithmOf(algorithm) {
  const name = typeof algorithm === 'object' && algorithm !== null ? algorithm.name : algorithm;
  if (name === undefined) throw new TypeError("Failed to construct 'DigestStream': the algorithm has no name.");
  const upper = String(name).toUpperCase();
  if (!ALGORITHMS.includes(upper)) throw new DOMException(`Unrecognized or unsupported digest algorithm: ${String(name)}`, 'NotSupportedError');
  return upper;
}

export class DigestStream extends WritableStream {
  #digest;
  #progress;

  constructor(algorithm) {
    if (arguments.length === 0) {
      throw new TypeError("Failed to construct 'DigestStream': 1 argument required, but only 0 present.");
    }
    const name = algorithmOf(algorithm);
    const progress = { bytes: 0 };
    let handle = 0;
    const opened = () => {
      if (handle === 0) handle = Number(utf8Decode(call('open', 0, name)));
      return handle;
    };
    let settle;
    const digest = new Promise((resolve, reject) => {
      settle = { resolve, reject };
    });
    // Nobody may be waiting for it when the stream fails; whoever is still gets the rejection.
    digest.catch(() => {});
    super({
      write(chunk) {
        try {
          if (!isBufferSource(chunk)) throw new TypeError('DigestStream takes ArrayBuffer or ArrayBufferView chunks');
          const bytes = viewBytes(chunk);
          const length = bytes.length;
          const at = opened();
          for (let from = 0; from < length; from += CHUNK) {
            call('update', at, new Uint8Array(bytes.subarray(from, from + CHUNK)));
          }
          progress.bytes += length;
        } catch (error) {
          settle.reject(error);
          throw error;
        }
      },
      close() {
        try {
          settle.resolve(call('finish', opened(), null).buffer);
        } catch (error) {
          settle.reject(error);
          throw error;
        }
      },
      abort(reason) {
        settle.reject(reason);
      },
    });
    this.#digest = digest;
    this.#progress = progress;
  }

  get digest() {
    return this.#digest;
  }

  get bytesWritten() {
    return this.#progress.bytes;
  }
}
Object.defineProperty(DigestStream.prototype, Symbol.toStringTag, { value: 'DigestStream', configurable: true });
