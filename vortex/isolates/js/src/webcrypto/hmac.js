// HMAC on @noble/hashes (pure JS: a MAC of a short message costs less here than a call to the
// host), and the SHA digests.
import { hmac } from '@noble/hashes/hmac.js';
import { sha1 } from '@noble/hashes/legacy.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { base64urlDecode, base64urlEncode, checkJwk, checkUsages, dataError, exportedJwk, notSupportedError, operationError, normalizeUsages } from './common.js';
import { exposedAlgorithm, keyInternals } from './key.js';
import { randomBytes } from './random.js';

export const HASHES = {
  'SHA-1': { fn: sha1, blockBits: 512, jwk: 'HS1' },
  'SHA-256': { fn: sha256, blockBits: 512, jwk: 'HS256' },
  'SHA-384': { fn: sha384, blockBits: 1024, jwk: 'HS384' },
  'SHA-512': { fn: sha512, blockBits: 1024, jwk: 'HS512' },
};
const USAGES = ['sign', 'verify'];

export function digest(name, data) {
  return HASHES[name].fn(data);
}

function makeKey(hash, length, material, extractable, usages) {
  const handle = { name: 'HMAC', hash, length, material };
  return keyInternals.create('secret', extractable, exposedAlgorithm({ name: 'HMAC', hash, length }), normalizeUsages(usages), handle);
}

// Constant time for equal lengths, so a signature cannot be guessed byte by byte.
function equalBytes(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i += 1) diff |= a[i] ^ b[i];
  return diff === 0;
}

function mac(key, data) {
  const { hash, material } = keyInternals.handle(key);
  return hmac(HASHES[hash].fn, material, data);
}

export const HMAC = {
  generateKey(params, extractable, usages) {
    checkUsages(usages, USAGES);
    const hash = params.hash.name;
    const length = params.length === undefined ? HASHES[hash].blockBits : params.length;
    if (length === 0) throw operationError('HMAC key length must not be zero');
    const material = randomBytes(Math.ceil(length / 8));
    if (length % 8) material[material.length - 1] &= 0xff << (8 - (length % 8));
    return makeKey(hash, length, material, extractable, usages);
  },
  importKey(format, keyData, params, extractable, usages) {
    checkUsages(usages, USAGES);
    const hash = params.hash.name;
    let material;
    if (format === 'raw') {
      material = keyData;
    } else if (format === 'jwk') {
      if (keyData.kty !== 'oct') throw dataError('The JWK "kty" member must be "oct"');
      if (keyData.k === undefined) throw dataError('The JWK "k" member is missing');
      material = base64urlDecode(keyData.k, 'k');
      if (keyData.alg !== undefined && keyData.alg !== HASHES[hash].jwk) throw dataError('The JWK "alg" member does not match the hash');
      checkJwk(keyData, usages, extractable, 'sig');
    } else {
      throw notSupportedError(`HMAC keys cannot be imported as ${format}`);
    }
    const bits = material.length * 8;
    if (bits === 0) throw dataError('HMAC key data must not be empty');
    let length = bits;
    if (params.length !== undefined) {
      if (params.length > bits || params.length <= bits - 8) throw dataError('Invalid HMAC key length');
      length = params.length;
    }
    return makeKey(hash, length, material, extractable, usages);
  },
  exportKey(format, key) {
    const { hash, material } = keyInternals.handle(key);
    if (format === 'raw') return material.slice();
    if (format === 'jwk') return exportedJwk({ kty: 'oct', k: base64urlEncode(material), alg: HASHES[hash].jwk }, key);
    throw notSupportedError(`HMAC keys cannot be exported as ${format}`);
  },
  sign(params, key, data) {
    return mac(key, data);
  },
  verify(params, key, signature, data) {
    return equalBytes(mac(key, data), signature);
  },
  keyLength(params) {
    if (params.length === undefined) return HASHES[params.hash.name].blockBits;
    if (params.length === 0) throw new TypeError('HMAC key length must not be zero');
    return params.length;
  },
};
