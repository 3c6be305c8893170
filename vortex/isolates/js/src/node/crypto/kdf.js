// pbkdf2 and hkdf with Node's callbacks, over crypto.subtle (OpenSSL in the host, as the web
// API does it): only the asynchronous forms, since subtle is asynchronous; pbkdf2Sync and
// hkdfSync are not offered.
import { codedError, invalidArgType, outOfRange } from '../nodeerrors.js';
import { bufferOf, keyBytes } from './bytes.js';
import { hasherOf } from './hash.js';

const web = globalThis.crypto;
const SUBTLE_NAMES = { sha1: 'SHA-1', sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };

// The web name of a digest crypto.subtle derives with; the others (md5...) Node has, we not.
function subtleDigest(digest) {
  if (typeof digest !== 'string') throw invalidArgType('digest', 'of type string', digest);
  const hasher = hasherOf(digest);
  const name = hasher && Object.keys(SUBTLE_NAMES).find((key) => hasherOf(key) === hasher);
  if (!name) throw codedError(TypeError, 'ERR_CRYPTO_INVALID_DIGEST', 'Invalid digest: ' + digest);
  return SUBTLE_NAMES[name];
}

function checkInteger(value, name, min, max) {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value) || value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
}

function checkCallback(callback) {
  if (typeof callback !== 'function') throw invalidArgType('callback', 'of type function', callback);
}

// Called back outside the promise, so an exception in the callback is the function's own,
// not an unhandled rejection.
function settle(promise, callback, wrap) {
  promise.then(
    (bits) => queueMicrotask(() => callback(null, wrap(bits))),
    (err) => queueMicrotask(() => callback(err)),
  );
}

async function derive(algorithm, secret, params, bits) {
  if (bits === 0) return new ArrayBuffer(0);
  const key = await web.subtle.importKey('raw', secret, algorithm, false, ['deriveBits']);
  return web.subtle.deriveBits({ name: algorithm, ...params }, key, bits);
}

export function pbkdf2(password, salt, iterations, keylen, digest, callback) {
  const secret = keyBytes(password, undefined, 'password');
  const saltBytes = keyBytes(salt, undefined, 'salt');
  checkInteger(iterations, 'iterations', 1, 2 ** 31 - 1);
  checkInteger(keylen, 'keylen', 0, 2 ** 31 - 1);
  const hash = subtleDigest(digest);
  checkCallback(callback);
  const bits = derive('PBKDF2', secret.slice(), { hash, salt: saltBytes.slice(), iterations }, keylen * 8);
  settle(bits, callback, (result) => bufferOf(new Uint8Array(result)));
}

// Node's hkdf gives an ArrayBuffer, not a Buffer.
export function hkdf(digest, ikm, salt, info, keylen, callback) {
  const hash = subtleDigest(digest);
  const secret = keyBytes(ikm, undefined, 'ikm');
  const saltBytes = keyBytes(salt, undefined, 'salt');
  const infoBytes = keyBytes(info, undefined, 'info');
  if (infoBytes.length > 1024) throw outOfRange('info.byteLength', '<= 1024', infoBytes.length);
  checkInteger(keylen, 'keylen', 0, 2 ** 31 - 1);
  checkCallback(callback);
  const bits = derive('HKDF', secret.slice(), { hash, salt: saltBytes.slice(), info: infoBytes.slice() }, keylen * 8);
  settle(bits, callback, (result) => result);
}
