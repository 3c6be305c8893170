// SubtleCrypto: the generic steps of each method (Web Cryptography API §14.3) — WebIDL
// conversions, algorithm normalization, the key's algorithm and usages — before the
// algorithm's own operation (aes.js, hmac.js, rsa.js, ec.js, okp.js, kdf.js).
import { DOMException } from '../domexception.js';
import { copyBytes, isBufferSource, utf8Decode } from '../util.js';
import { AES } from './aes.js';
import { dataError, invalidAccess, jwkBytes, notSupportedError, syntaxError, toArrayBuffer, toJwk, toUsages } from './common.js';
import { EC } from './ec.js';
import { HMAC, digest } from './hmac.js';
import { KDF } from './kdf.js';
import { keyInternals } from './key.js';
import { OKP } from './okp.js';
import { normalizeAlgorithm } from './params.js';
import { RSA } from './rsa.js';
import { defineToStringTag } from '../util.js';

const ALGORITHMS = { ...AES, HMAC, ...RSA, ...EC, ...OKP, ...KDF };
const FORMATS = ['raw', 'spki', 'pkcs8', 'jwk'];
const CONSTRUCT = Symbol('construct');
const subtleInternals = {};

function requireArguments(args, count, method) {
  if (args.length < count) {
    throw new TypeError(`Failed to execute '${method}' on 'SubtleCrypto': ${count} arguments required, but only ${args.length} present.`);
  }
}

function bytes(value, what) {
  if (!isBufferSource(value)) throw new TypeError(`${what} is not of type (ArrayBuffer or ArrayBufferView)`);
  return copyBytes(value);
}

function requireKey(value, what) {
  if (!keyInternals.is(value)) throw new TypeError(`${what} is not of type CryptoKey`);
  return value;
}

function format(value) {
  const text = String(value);
  if (!FORMATS.includes(text)) throw new TypeError(`'${text}' is not a valid KeyFormat`);
  return text;
}

function operation(name, op) {
  const algorithm = ALGORITHMS[name];
  if (!algorithm || typeof algorithm[op] !== 'function') throw notSupportedError(`${name} does not support ${op}`);
  return algorithm;
}

function checkKey(key, normalized, usage) {
  if (keyInternals.handle(key).name !== normalized.name) throw invalidAccess('The key is not of the algorithm requested');
  if (!key.usages.includes(usage)) throw invalidAccess(`The key does not allow ${usage}`);
}

function checkCreated(result) {
  const key = keyInternals.is(result) ? result : result.privateKey;
  if ((key.type === 'secret' || key.type === 'private') && key.usages.length === 0) {
    throw syntaxError('Usages cannot be empty when creating a key.');
  }
  return result;
}

// WebIDL's `optional unsigned long? length = null`.
function optionalLength(value) {
  if (value === undefined || value === null) return null;
  const number = Number(value);
  if (!Number.isFinite(number)) return 0;
  return ((Math.trunc(number) % 2 ** 32) + 2 ** 32) % 2 ** 32;
}

function normalizeWrap(algorithm, op, fallback) {
  try {
    return normalizeAlgorithm(algorithm, op);
  } catch (error) {
    if (!(error instanceof DOMException) || error.name !== 'NotSupportedError') throw error;
    return normalizeAlgorithm(algorithm, fallback);
  }
}

function importAs(fmt, keyData, normalized, extractable, usages) {
  const key = operation(normalized.name, 'importKey').importKey(fmt, keyData, normalized, extractable, usages);
  return checkCreated(key);
}

function exported(key) {
  const value = operation(keyInternals.handle(key).name, 'exportKey').exportKey;
  return value;
}

export class SubtleCrypto {
  constructor(token) {
    if (token !== CONSTRUCT) throw new TypeError('Illegal constructor');
  }

  async digest(algorithm, data) {
    requireArguments(arguments, 2, 'digest');
    const input = bytes(data, 'data');
    const normalized = normalizeAlgorithm(algorithm, 'digest');
    return toArrayBuffer(digest(normalized.name, input));
  }

  // Cloudflare's extension (not in the Web Cryptography API), used by apps comparing HMACs and
  // tokens. Synchronous, as there; every byte is read whatever the first difference.
  timingSafeEqual(a, b) {
    requireArguments(arguments, 2, 'timingSafeEqual');
    const left = bytes(a, 'a');
    const right = bytes(b, 'b');
    if (left.byteLength !== right.byteLength) {
      throw new TypeError('Input buffers must have the same byte length');
    }
    let difference = 0;
    for (let i = 0; i < left.byteLength; i += 1) difference |= left[i] ^ right[i];
    return difference === 0;
  }

  async encrypt(algorithm, key, data) {
    requireArguments(arguments, 3, 'encrypt');
    return cipher('encrypt', algorithm, key, data);
  }

  async decrypt(algorithm, key, data) {
    requireArguments(arguments, 3, 'decrypt');
    return cipher('decrypt', algorithm, key, data);
  }

  async sign(algorithm, key, data) {
    requireArguments(arguments, 3, 'sign');
    requireKey(key, 'key');
    const input = bytes(data, 'data');
    const normalized = normalizeAlgorithm(algorithm, 'sign');
    checkKey(key, normalized, 'sign');
    return toArrayBuffer(operation(normalized.name, 'sign').sign(normalized, key, input));
  }

  async verify(algorithm, key, signature, data) {
    requireArguments(arguments, 4, 'verify');
    requireKey(key, 'key');
    const sig = bytes(signature, 'signature');
    const input = bytes(data, 'data');
    const normalized = normalizeAlgorithm(algorithm, 'verify');
    checkKey(key, normalized, 'verify');
    return operation(normalized.name, 'verify').verify(normalized, key, sig, input);
  }

  async generateKey(algorithm, extractable, keyUsages) {
    requireArguments(arguments, 3, 'generateKey');
    const usages = toUsages(keyUsages);
    const normalized = normalizeAlgorithm(algorithm, 'generateKey');
    return checkCreated(operation(normalized.name, 'generateKey').generateKey(normalized, Boolean(extractable), usages));
  }

  async deriveKey(algorithm, baseKey, derivedKeyType, extractable, keyUsages) {
    requireArguments(arguments, 5, 'deriveKey');
    requireKey(baseKey, 'baseKey');
    const usages = toUsages(keyUsages);
    const normalized = normalizeAlgorithm(algorithm, 'deriveBits');
    const importType = normalizeAlgorithm(derivedKeyType, 'importKey');
    const lengthType = normalizeAlgorithm(derivedKeyType, 'get key length');
    checkKey(baseKey, normalized, 'deriveKey');
    const length = operation(lengthType.name, 'keyLength').keyLength(lengthType);
    const secret = operation(normalized.name, 'deriveBits').deriveBits(normalized, baseKey, length);
    return importAs('raw', secret, importType, Boolean(extractable), usages);
  }

  async deriveBits(algorithm, baseKey, length) {
    requireArguments(arguments, 2, 'deriveBits');
    requireKey(baseKey, 'baseKey');
    const bits = optionalLength(length);
    const normalized = normalizeAlgorithm(algorithm, 'deriveBits');
    checkKey(baseKey, normalized, 'deriveBits');
    return toArrayBuffer(operation(normalized.name, 'deriveBits').deriveBits(normalized, baseKey, bits));
  }

  async importKey(keyFormat, keyData, algorithm, extractable, keyUsages) {
    requireArguments(arguments, 5, 'importKey');
    const fmt = format(keyFormat);
    let data;
    if (fmt === 'jwk') {
      if (isBufferSource(keyData)) throw new TypeError('keyData must be a JsonWebKey for the "jwk" format');
      data = toJwk(keyData);
    } else {
      data = bytes(keyData, 'keyData');
    }
    const usages = toUsages(keyUsages);
    const normalized = normalizeAlgorithm(algorithm, 'importKey');
    return importAs(fmt, data, normalized, Boolean(extractable), usages);
  }

  async exportKey(keyFormat, key) {
    requireArguments(arguments, 2, 'exportKey');
    const fmt = format(keyFormat);
    requireKey(key, 'key');
    const exportKey = exported(key);
    if (!key.extractable) throw invalidAccess('The key is not extractable');
    const out = exportKey(fmt, key);
    return out instanceof Uint8Array ? toArrayBuffer(out) : out;
  }

  async wrapKey(keyFormat, key, wrappingKey, wrapAlgorithm) {
    requireArguments(arguments, 4, 'wrapKey');
    const fmt = format(keyFormat);
    requireKey(key, 'key');
    requireKey(wrappingKey, 'wrappingKey');
    const normalized = normalizeWrap(wrapAlgorithm, 'wrapKey', 'encrypt');
    checkKey(wrappingKey, normalized, 'wrapKey');
    const exportKey = exported(key);
    if (!key.extractable) throw invalidAccess('The key is not extractable');
    const out = exportKey(fmt, key);
    const data = out instanceof Uint8Array ? out : jwkBytes(out);
    const algorithm = ALGORITHMS[normalized.name];
    if (typeof algorithm.wrapKey === 'function') return toArrayBuffer(algorithm.wrapKey(normalized, wrappingKey, data));
    return toArrayBuffer(operation(normalized.name, 'encrypt').encrypt(normalized, wrappingKey, data));
  }

  async unwrapKey(keyFormat, wrappedKey, unwrappingKey, unwrapAlgorithm, unwrappedKeyAlgorithm, extractable, keyUsages) {
    requireArguments(arguments, 7, 'unwrapKey');
    const fmt = format(keyFormat);
    const wrapped = bytes(wrappedKey, 'wrappedKey');
    requireKey(unwrappingKey, 'unwrappingKey');
    const usages = toUsages(keyUsages);
    const normalized = normalizeWrap(unwrapAlgorithm, 'unwrapKey', 'decrypt');
    const importType = normalizeAlgorithm(unwrappedKeyAlgorithm, 'importKey');
    checkKey(unwrappingKey, normalized, 'unwrapKey');
    const algorithm = ALGORITHMS[normalized.name];
    const data = typeof algorithm.unwrapKey === 'function'
      ? algorithm.unwrapKey(normalized, unwrappingKey, wrapped)
      : operation(normalized.name, 'decrypt').decrypt(normalized, unwrappingKey, wrapped);
    let keyData = data;
    if (fmt === 'jwk') {
      let parsed;
      try {
        parsed = JSON.parse(utf8Decode(data));
      } catch {
        throw dataError('The unwrapped key is not JSON');
      }
      keyData = toJwk(parsed);
    }
    return importAs(fmt, keyData, importType, Boolean(extractable), usages);
  }

  static {
    subtleInternals.make = () => new SubtleCrypto(CONSTRUCT);
  }
}
defineToStringTag(SubtleCrypto, 'SubtleCrypto');


function cipher(op, algorithm, key, data) {
  requireKey(key, 'key');
  const input = bytes(data, 'data');
  const normalized = normalizeAlgorithm(algorithm, op);
  checkKey(key, normalized, op);
  return toArrayBuffer(operation(normalized.name, op)[op](normalized, key, input));
}

export const subtle = subtleInternals.make();
