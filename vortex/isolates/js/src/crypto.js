// Web Crypto, the part functions use most: crypto.getRandomValues, crypto.randomUUID, and
// crypto.subtle.digest (SHA-1/256/384/512) with HMAC keys (importKey raw/jwk, generateKey,
// exportKey, sign, verify). The hashes are @noble/hashes (audited, pure JS). Random bytes come
// from the operating system through the host (os.urandom), never from Math.random.
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { DOMException } from './domexception.js';
import { copyBytes, defineToStringTag, isBufferSource } from './util.js';

const HASHES = {
  'SHA-1': { fn: sha1, blockBits: 512 },
  'SHA-256': { fn: sha256, blockBits: 512 },
  'SHA-384': { fn: sha384, blockBits: 1024 },
  'SHA-512': { fn: sha512, blockBits: 1024 },
};
const CANONICAL = new Map(['SHA-1', 'SHA-256', 'SHA-384', 'SHA-512', 'HMAC'].map((n) => [n.toLowerCase(), n]));

const notSupported = (what) => new DOMException(`Unrecognized or unsupported algorithm: ${what}`, 'NotSupportedError');

function algorithmName(algorithm) {
  if (typeof algorithm === 'string') return algorithm;
  if (typeof algorithm === 'object' && algorithm !== null) {
    if (algorithm.name === undefined) throw new TypeError("Algorithm: member name is required");
    return String(algorithm.name);
  }
  throw new TypeError('Algorithm must be a string or an object with a name');
}

function canonicalName(algorithm) {
  const name = algorithmName(algorithm);
  const canonical = CANONICAL.get(name.toLowerCase());
  if (!canonical) throw notSupported(name);
  return canonical;
}

function hashName(hash) {
  if (hash === undefined) throw new TypeError('HmacImportParams: member hash is required');
  const name = canonicalName(hash);
  if (!HASHES[name]) throw notSupported(name);
  return name;
}

function bufferSource(value, what) {
  if (!isBufferSource(value)) throw new TypeError(`${what} is not of type (ArrayBuffer or ArrayBufferView)`);
  return copyBytes(value);
}

const keyInternals = {};
const CONSTRUCT = Symbol('construct');
const USAGES = ['encrypt', 'decrypt', 'sign', 'verify', 'deriveKey', 'deriveBits', 'wrapKey', 'unwrapKey'];

export class CryptoKey {
  #algorithm;
  #extractable;
  #usages;
  #material;

  constructor(key, algorithm, extractable, usages, material) {
    if (key !== CONSTRUCT) throw new TypeError('Illegal constructor');
    this.#algorithm = Object.freeze({ name: 'HMAC', hash: Object.freeze({ name: algorithm.hash }), length: algorithm.length });
    this.#extractable = extractable;
    this.#usages = Object.freeze(usages.slice());
    this.#material = material;
  }

  get type() { return 'secret'; }
  get extractable() { return this.#extractable; }
  get algorithm() { return this.#algorithm; }
  get usages() { return this.#usages; }

  static {
    keyInternals.material = (key) => {
      if (typeof key !== 'object' || key === null || !(#material in key)) {
        throw new TypeError('parameter key is not of type CryptoKey');
      }
      return key.#material;
    };
  }
}
defineToStringTag(CryptoKey, 'CryptoKey');

function checkUsages(usages, allowed) {
  const list = Array.from(usages, String);
  for (const usage of list) {
    if (!USAGES.includes(usage)) throw new TypeError(`'${usage}' is not a valid KeyUsage`);
    if (!allowed.includes(usage)) throw new DOMException(`Cannot create a key using the specified key usages.`, 'SyntaxError');
  }
  if (list.length === 0) throw new DOMException('Usages cannot be empty when creating a key.', 'SyntaxError');
  return [...new Set(list)];
}

function base64urlDecode(text) {
  const normal = String(text).replace(/-/g, '+').replace(/_/g, '/');
  if (/[^A-Za-z0-9+/]/.test(normal) || normal.length % 4 === 1) throw new DOMException('Invalid JWK "k"', 'DataError');
  const binary = atobLoose(normal);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) out[i] = binary.charCodeAt(i);
  return out;
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function atobLoose(text) {
  let bits = 0;
  let count = 0;
  let out = '';
  for (const ch of text) {
    bits = (bits << 6) | ALPHABET.indexOf(ch);
    count += 6;
    if (count >= 8) {
      count -= 8;
      out += String.fromCharCode((bits >> count) & 0xff);
    }
  }
  return out;
}

function base64urlEncode(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] || 0) << 8) | (bytes[i + 2] || 0);
    out += ALPHABET[(n >> 18) & 63] + ALPHABET[(n >> 12) & 63];
    if (i + 1 < bytes.length) out += ALPHABET[(n >> 6) & 63];
    if (i + 2 < bytes.length) out += ALPHABET[n & 63];
  }
  return out.replace(/\+/g, '-').replace(/\//g, '_');
}

function hmacKeyLength(params, dataBits) {
  if (params.length === undefined) return dataBits;
  const length = Number(params.length);
  if (!Number.isInteger(length) || length <= 0) throw new DOMException('Invalid key length', 'DataError');
  if (length > dataBits || length <= dataBits - 8) throw new DOMException('Invalid key length', 'DataError');
  return length;
}

function toArrayBuffer(bytes) {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes.buffer;
  return bytes.slice().buffer;
}

// Constant time for equal lengths, so a signature cannot be guessed byte by byte.
function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i += 1) diff |= a[i] ^ b[i];
  return diff === 0;
}

let randomSourceOf = () => {
  throw new Error('no random source');
};

export class SubtleCrypto {
  constructor(key) {
    if (key !== CONSTRUCT) throw new TypeError('Illegal constructor');
  }

  async digest(algorithm, data) {
    const name = canonicalName(algorithm);
    const hash = HASHES[name];
    if (!hash) throw notSupported(name);
    return toArrayBuffer(hash.fn(bufferSource(data, 'data')));
  }

  async importKey(format, keyData, algorithm, extractable, keyUsages) {
    const name = canonicalName(algorithm);
    if (name !== 'HMAC') throw notSupported(name);
    const hash = hashName(algorithm.hash);
    const usages = checkUsages(keyUsages, ['sign', 'verify']);
    let material;
    if (format === 'raw') {
      material = bufferSource(keyData, 'keyData');
    } else if (format === 'jwk') {
      if (typeof keyData !== 'object' || keyData === null || isBufferSource(keyData)) {
        throw new TypeError('keyData must be a JsonWebKey for the "jwk" format');
      }
      if (keyData.kty !== 'oct') throw new DOMException('The JWK "kty" member was not "oct"', 'DataError');
      if (keyData.k === undefined) throw new DOMException('The JWK "k" member is missing', 'DataError');
      material = base64urlDecode(keyData.k);
      const expected = 'HS' + hash.slice(4);
      if (keyData.alg !== undefined && keyData.alg !== (hash === 'SHA-1' ? 'HS1' : expected)) {
        throw new DOMException('The JWK "alg" member does not match the hash', 'DataError');
      }
      if (keyData.ext === false && extractable) throw new DOMException('The JWK is not extractable', 'DataError');
    } else {
      throw new DOMException(`Unsupported key format: ${String(format)}`, 'NotSupportedError');
    }
    if (material.length === 0) throw new DOMException('HMAC key data must not be empty', 'DataError');
    const length = hmacKeyLength(algorithm, material.length * 8);
    return new CryptoKey(CONSTRUCT, { hash, length }, Boolean(extractable), usages, material);
  }

  async generateKey(algorithm, extractable, keyUsages) {
    const name = canonicalName(algorithm);
    if (name !== 'HMAC') throw notSupported(name);
    const hash = hashName(algorithm.hash);
    const usages = checkUsages(keyUsages, ['sign', 'verify']);
    const length = algorithm.length === undefined ? HASHES[hash].blockBits : Number(algorithm.length);
    if (!Number.isInteger(length) || length <= 0) throw new DOMException('Invalid key length', 'OperationError');
    const material = randomSourceOf()(Math.ceil(length / 8));
    return new CryptoKey(CONSTRUCT, { hash, length }, Boolean(extractable), usages, material);
  }

  async exportKey(format, key) {
    const material = keyInternals.material(key);
    if (!key.extractable) throw new DOMException('key is not extractable', 'InvalidAccessError');
    if (format === 'raw') return material.slice().buffer;
    if (format === 'jwk') {
      const hash = key.algorithm.hash.name;
      return {
        kty: 'oct',
        k: base64urlEncode(material),
        alg: hash === 'SHA-1' ? 'HS1' : 'HS' + hash.slice(4),
        key_ops: key.usages.slice(),
        ext: true,
      };
    }
    throw new DOMException(`Unsupported key format: ${String(format)}`, 'NotSupportedError');
  }

  async sign(algorithm, key, data) {
    return toArrayBuffer(await mac(algorithm, key, data, 'sign'));
  }

  async verify(algorithm, key, signature, data) {
    const expected = bufferSource(signature, 'signature');
    return equalBytes(await mac(algorithm, key, data, 'verify'), expected);
  }
}
for (const op of ['encrypt', 'decrypt', 'deriveBits', 'deriveKey', 'wrapKey', 'unwrapKey']) {
  Object.defineProperty(SubtleCrypto.prototype, op, {
    value: {
      async [op]() {
        throw new DOMException(`crypto.subtle.${op} is not supported by Vortex (digest and HMAC are)`, 'NotSupportedError');
      },
    }[op],
    writable: true,
    configurable: true,
    enumerable: true,
  });
}
defineToStringTag(SubtleCrypto, 'SubtleCrypto');

async function mac(algorithm, key, data, usage) {
  const name = canonicalName(algorithm);
  const material = keyInternals.material(key);
  if (name !== key.algorithm.name) throw new DOMException('The key is not of the expected algorithm', 'InvalidAccessError');
  if (!key.usages.includes(usage)) throw new DOMException(`The key does not allow ${usage}`, 'InvalidAccessError');
  return hmac(HASHES[key.algorithm.hash.name].fn, material, bufferSource(data, 'data'));
}

const subtle = new SubtleCrypto(CONSTRUCT);
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

// `random(n)` returns n fresh bytes; generateKey (shared by all runs) uses the host-wide source.
export function makeCrypto(random) {
  return cryptoInternals.make(random);
}

export function setRandomSource(random) {
  randomSourceOf = () => random;
}
