// createHash and createHmac, synchronous as in Node, on @noble/hashes (audited, the library
// the web APIs' digests use too): OpenSSL is in the host, and a call there per update() would
// cost more than hashing a webhook body here. Hashing runs under the run's CPU limit like any
// code of the function.
import { hmac } from '@noble/hashes/hmac.js';
import { md5, ripemd160, sha1 } from '@noble/hashes/legacy.js';
import { sha224, sha256, sha384, sha512, sha512_224, sha512_256 } from '@noble/hashes/sha2.js';
import { codedError, invalidArgType } from '../nodeerrors.js';
import { bufferOf, dataBytes, encoded, keyBytes } from './bytes.js';
import { KeyObject, invalidKeyType, secretBytes } from './keys.js';

const BY_NAME = {
  md5,
  sha1,
  sha224,
  sha256,
  sha384,
  sha512,
  'sha512-224': sha512_224,
  'sha512-256': sha512_256,
  ripemd160,
};
// The other names OpenSSL, so Node, takes for them (case does not matter there either).
const ALIASES = {
  'sha-1': 'sha1',
  'sha-224': 'sha224',
  'sha-256': 'sha256',
  'sha-384': 'sha384',
  'sha-512': 'sha512',
  'sha-512/224': 'sha512-224',
  'sha-512/256': 'sha512-256',
  'sha512/224': 'sha512-224',
  'sha512/256': 'sha512-256',
  'sha2-224': 'sha224',
  'sha2-256': 'sha256',
  'sha2-384': 'sha384',
  'sha2-512': 'sha512',
  rmd160: 'ripemd160',
  ripemd: 'ripemd160',
  'ripemd-160': 'ripemd160',
  ripemd160withrsa: 'ripemd160',
};
for (const name of Object.keys(BY_NAME)) {
  ALIASES['rsa-' + name] = name;
  ALIASES[name + 'withrsaencryption'] = name;
}
ALIASES['rsa-sha512/224'] = 'sha512-224';
ALIASES['rsa-sha512/256'] = 'sha512-256';

export const HASH_NAMES = Object.freeze([
  'RSA-MD5', 'RSA-RIPEMD160', 'RSA-SHA1', 'RSA-SHA224', 'RSA-SHA256', 'RSA-SHA384', 'RSA-SHA512',
  'RSA-SHA512/224', 'RSA-SHA512/256', 'md5', 'md5WithRSAEncryption', 'ripemd', 'ripemd160',
  'ripemd160WithRSA', 'rmd160', 'sha1', 'sha1WithRSAEncryption', 'sha224', 'sha224WithRSAEncryption',
  'sha256', 'sha256WithRSAEncryption', 'sha384', 'sha384WithRSAEncryption', 'sha512', 'sha512-224',
  'sha512-224WithRSAEncryption', 'sha512-256', 'sha512-256WithRSAEncryption', 'sha512WithRSAEncryption',
]);

export function hasherOf(algorithm) {
  if (typeof algorithm !== 'string') throw invalidArgType('algorithm', 'of type string', algorithm);
  const lower = algorithm.toLowerCase();
  return BY_NAME[ALIASES[lower] || lower] || null;
}

const finalized = () => codedError(Error, 'ERR_CRYPTO_HASH_FINALIZED', 'Digest already called');
const STATE = Symbol('state');

export class Hash {
  #state;
  #done = false;

  constructor(key, state) {
    if (key !== STATE) throw new TypeError('Illegal constructor: use crypto.createHash()');
    this.#state = state;
  }

  update(data, inputEncoding) {
    if (this.#done) throw finalized();
    this.#state.update(dataBytes(data, inputEncoding));
    return this;
  }

  digest(outputEncoding) {
    if (this.#done) throw finalized();
    this.#done = true;
    return encoded(bufferOf(this.#state.digest()), outputEncoding);
  }

  copy() {
    if (this.#done) throw finalized();
    return new Hash(STATE, this.#state.clone());
  }
}

export class Hmac {
  #state;
  #done = false;

  constructor(key, state) {
    if (key !== STATE) throw new TypeError('Illegal constructor: use crypto.createHmac()');
    this.#state = state;
  }

  update(data, inputEncoding) {
    if (this.#done) throw finalized();
    this.#state.update(dataBytes(data, inputEncoding));
    return this;
  }

  // Node gives an empty digest, not an error, when an Hmac's digest is asked again.
  digest(outputEncoding) {
    if (this.#done) return encoded(bufferOf(new Uint8Array(0)), outputEncoding);
    this.#done = true;
    return encoded(bufferOf(this.#state.digest()), outputEncoding);
  }
}

export function createHash(algorithm) {
  const hasher = hasherOf(algorithm);
  if (hasher === null) throw new Error('Digest method not supported');
  return new Hash(STATE, hasher.create());
}

export function createHmac(algorithm, key, options) {
  const hasher = hasherOf(algorithm);
  if (hasher === null) throw codedError(TypeError, 'ERR_CRYPTO_INVALID_DIGEST', 'Invalid digest: ' + algorithm);
  let bytes;
  if (key instanceof KeyObject) {
    if (key.type !== 'secret') throw invalidKeyType(key.type, 'secret');
    bytes = secretBytes(key);
  } else {
    bytes = keyBytes(key, options && options.encoding);
  }
  return new Hmac(STATE, hmac.create(hasher, bytes));
}

// Node 21.7's one-shot crypto.hash(algorithm, data[, outputEncoding = 'hex']).
export function hash(algorithm, data, outputEncoding = 'hex') {
  const hasher = hasherOf(algorithm);
  if (hasher === null) throw new Error('Digest method not supported');
  return encoded(bufferOf(hasher(dataBytes(data))), outputEncoding);
}

export function getHashes() {
  return HASH_NAMES.slice();
}
