// crypto.DigestStream (Cloudflare's extension): a WritableStream of bytes whose `digest` promise
// resolves to the hash of everything written, once the stream is closed. The hash is taken as
// the chunks come, by the @noble/hashes functions subtle.digest uses, so nothing written is
// kept: memory stays one block of the hash whatever the stream's length. MD5 too, as in Workers.
import { md5, sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { WritableStream } from 'web-streams-polyfill';
import { DOMException } from '../domexception.js';
import { isBufferSource, viewBytes } from '../util.js';

const HASHES = new Map([
  ['SHA-1', sha1],
  ['SHA-256', sha256],
  ['SHA-384', sha384],
  ['SHA-512', sha512],
  ['MD5', md5],
]);

function hashFor(algorithm) {
  const name = typeof algorithm === 'object' && algorithm !== null ? algorithm.name : algorithm;
  if (name === undefined) throw new TypeError("Failed to construct 'DigestStream': the algorithm has no name.");
  const hash = HASHES.get(String(name).toUpperCase());
  if (hash === undefined) throw new DOMException(`Unrecognized or unsupported digest algorithm: ${String(name)}`, 'NotSupportedError');
  return hash;
}

export class DigestStream extends WritableStream {
  #digest;
  #progress;

  constructor(algorithm) {
    if (arguments.length === 0) {
      throw new TypeError("Failed to construct 'DigestStream': 1 argument required, but only 0 present.");
    }
    const state = hashFor(algorithm).create();
    const progress = { bytes: 0 };
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
          state.update(bytes);
          progress.bytes += bytes.length;
        } catch (error) {
          settle.reject(error);
          throw error;
        }
      },
      close() {
        const out = state.digest();
        settle.resolve(out.slice().buffer);
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
