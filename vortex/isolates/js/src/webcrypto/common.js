// What several WebCrypto algorithms share: key usages, JSON Web Keys, base64url.
import { atob, btoa } from '../base64.js';
import { DOMException } from '../domexception.js';
import { bytesToBinary, utf8Encode } from '../util.js';

export const KEY_USAGES = ['encrypt', 'decrypt', 'sign', 'verify', 'deriveKey', 'deriveBits', 'wrapKey', 'unwrapKey'];

export const dataError = (message) => new DOMException(message, 'DataError');
export const syntaxError = (message) => new DOMException(message, 'SyntaxError');
export const operationError = (message) => new DOMException(message, 'OperationError');
export const invalidAccess = (message) => new DOMException(message, 'InvalidAccessError');
export const notSupportedError = (message) => new DOMException(message, 'NotSupportedError');

// WebIDL's sequence<KeyUsage>.
export function toUsages(value) {
  if (typeof value !== 'object' || value === null || typeof value[Symbol.iterator] !== 'function') {
    throw new TypeError('keyUsages is not a sequence');
  }
  const out = [];
  for (const item of value) {
    const usage = String(item);
    if (!KEY_USAGES.includes(usage)) throw new TypeError(`'${usage}' is not a valid KeyUsage`);
    out.push(usage);
  }
  return out;
}

export function checkUsages(usages, allowed) {
  for (const usage of usages) {
    if (!allowed.includes(usage)) throw syntaxError('Cannot create a key using the specified key usages.');
  }
}

// Usages without repeats, in the order the spec lists them.
export function normalizeUsages(usages, allowed = KEY_USAGES) {
  return KEY_USAGES.filter((usage) => usages.includes(usage) && allowed.includes(usage));
}

export function toArrayBuffer(bytes) {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes.buffer;
  return bytes.slice().buffer;
}

export function base64urlEncode(bytes) {
  return btoa(bytesToBinary(bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function base64urlDecode(text, member) {
  const value = String(text);
  if (/[^A-Za-z0-9_-]/.test(value) || value.length % 4 === 1) throw dataError(`The JWK member "${member}" is not base64url`);
  const binary = atob(value.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) out[i] = binary.charCodeAt(i);
  return out;
}

const JWK_STRINGS = ['alg', 'crv', 'd', 'dp', 'dq', 'e', 'k', 'kty', 'n', 'p', 'q', 'qi', 'use', 'x', 'y'];

// WebIDL's JsonWebKey dictionary: the members it knows, converted.
export function toJwk(value) {
  if (typeof value !== 'object' || value === null) throw new TypeError('keyData is not a JsonWebKey');
  const out = {};
  for (const name of [...JWK_STRINGS, 'ext', 'key_ops', 'oth'].sort()) {
    const member = value[name];
    if (member === undefined) continue;
    if (name === 'ext') out.ext = Boolean(member);
    else if (name === 'key_ops') out.key_ops = Array.from(member, String);
    else if (name === 'oth') out.oth = member;
    else out[name] = String(member);
  }
  return out;
}

// The checks every "import a JWK" makes (kty is the algorithm's own business).
export function checkJwk(jwk, usages, extractable, use) {
  if (usages.length > 0 && jwk.use !== undefined && jwk.use !== use) {
    throw dataError(`The JWK "use" member must be "${use}"`);
  }
  if (jwk.key_ops !== undefined) {
    const ops = jwk.key_ops;
    if (new Set(ops).size !== ops.length || ops.some((op) => !KEY_USAGES.includes(op))) {
      throw dataError('The JWK "key_ops" member is invalid');
    }
    if (usages.some((usage) => !ops.includes(usage))) {
      throw dataError('The JWK "key_ops" member does not allow the requested usages');
    }
  }
  if (jwk.ext === false && extractable) throw dataError('The JWK is not extractable');
}

export function exportedJwk(members, key) {
  return { ...members, key_ops: key.usages.slice(), ext: key.extractable };
}

export function jwkBytes(jwk) {
  return utf8Encode(JSON.stringify(jwk));
}
