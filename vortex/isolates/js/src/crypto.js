// Web Crypto: crypto.getRandomValues, crypto.randomUUID and crypto.subtle. SubtleCrypto and
// CryptoKey are in webcrypto/: the SHA digests and HMAC in JavaScript (@noble/hashes), AES, RSA,
// ECDSA, ECDH, EdDSA, X25519/X448, HKDF and PBKDF2 on OpenSSL in the host (webcrypto/host.js).
// Random bytes come from the operating system through the host, never from Math.random.
import { DOMException } from './domexception.js';
import { defineToStringTag } from './util.js';
import { CryptoKey } from './webcrypto/key.js';
import { DigestStream, setDigestHost } from './webcrypto/digeststream.js';
import { setCryptoHost } from './webcrypto/host.js';
import { setRandomSource } from './webcrypto/random.js';
import { SubtleCrypto, subtle } from './webcrypto/subtle.js';

const CONSTRUCT = Symbol('construct');
const INTEGER_ARRAYS = [Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array, BigInt64Array, BigUint64Array];
const typedArrayTag = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag).get;
const cryptoInternals = {};

export class Crypto {
  #random;

  constructor(key, random) {
    if (key !== CONSTRUCT) throw new TypeError('Illegal constructor');
    this.#random = random;
  }

  get subtle() {
    return subtle;
  }

  getRandomValues(array) {
    const random = this.#random;
    const tag = ArrayBuffer.isView(array) ? typedArrayTag.call(array) : undefined;
    if (!INTEGER_ARRAYS.some((cls) => cls.name === tag)) {
      throw new DOMException("Failed to execute 'getRandomValues' on 'Crypto': The provided ArrayBufferView is not an integer array type.", 'TypeMismatchError');
    }
    if (array.byteLength > 65536) {
      throw new DOMException(`Failed to execute 'getRandomValues' on 'Crypto': The ArrayBufferView's byte length (${array.byteLength}) exceeds the number of bytes of entropy available via this API (65536).`, 'QuotaExceededError');
    }
    new Uint8Array(array.buffer, array.byteOffset, array.byteLength).set(random(array.byteLength));
    return array;
  }

  randomUUID() {
    const b = this.#random(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex = '';
    for (let i = 0; i < 16; i += 1) hex += (b[i] + 0x100).toString(16).slice(1);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  static {
    cryptoInternals.make = (random) => new Crypto(CONSTRUCT, random);
  }
}
defineToStringTag(Crypto, 'Crypto');
// Workers give the class as a property of `crypto` (`new crypto.DigestStream('SHA-256')`).
Object.defineProperty(Crypto.prototype, 'DigestStream', { value: DigestStream, writable: true, configurable: true });

// `random(n)` returns n fresh bytes; generateKey (shared by all runs) uses the host-wide source.
export function makeCrypto(random) {
  return cryptoInternals.make(random);
}

export { setRandomSource, setCryptoHost, setDigestHost, CryptoKey, DigestStream, SubtleCrypto };
