// createSign/createVerify and the one-shot sign/verify of node:crypto, for RSA (PKCS #1 v1.5 and
// PSS), ECDSA (DER or IEEE P1363 signatures) and EdDSA, on the host's OpenSSL through the keys
// of keys.js: synchronous, as in Node. The data is gathered here and signed in one call.
import { codedError, invalidArgType } from '../nodeerrors.js';
import { bufferOf, dataBytes, encoded } from './bytes.js';
import { KeyObject, asymmetricInfo, createPrivateKey, createPublicKey, invalidKeyType } from './keys.js';

const host = globalThis.Vortex !== undefined ? globalThis.Vortex[Symbol.for('vortex.node:crypto.keys')] : undefined;
export const constants = Object.freeze({
  RSA_PKCS1_PADDING: 1,
  RSA_NO_PADDING: 3,
  RSA_PKCS1_OAEP_PADDING: 4,
  RSA_PKCS1_PSS_PADDING: 6,
  RSA_PSS_SALTLEN_DIGEST: -1,
  RSA_PSS_SALTLEN_MAX_SIGN: -2,
  RSA_PSS_SALTLEN_AUTO: -2,
  POINT_CONVERSION_COMPRESSED: 2,
  POINT_CONVERSION_UNCOMPRESSED: 4,
  POINT_CONVERSION_HYBRID: 6,
});
const HASHES = { sha1: 'SHA-1', sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };
const HASH_BYTES = { 'SHA-1': 20, 'SHA-256': 32, 'SHA-384': 48, 'SHA-512': 64 };
const CURVE_BYTES = { 'P-256': 32, 'P-384': 48, 'P-521': 66 };

// 'RSA-SHA256', 'sha256', 'SHA-256', 'ecdsa-with-SHA256', 'sha256WithRSAEncryption'...
function hashOf(algorithm) {
  if (typeof algorithm !== 'string') throw invalidArgType('algorithm', 'of type string', algorithm);
  const name = algorithm
    .toLowerCase()
    .replace(/^(rsa-|ecdsa-with-)/, '')
    .replace(/withrsaencryption$/, '')
    .replace(/^sha-/, 'sha');
  const hash = HASHES[name];
  if (hash === undefined) throw codedError(TypeError, 'ERR_CRYPTO_INVALID_DIGEST', 'Invalid digest: ' + algorithm);
  return hash;
}

function failed(what) {
  return codedError(Error, 'ERR_CRYPTO_OPERATION_FAILED', what + ' failed');
}

// The key and options of sign()/verify(): a KeyObject, a PEM, or { key, padding, saltLength,
// dsaEncoding, ...createPrivateKey's options }.
function keyAndOptions(input, isPrivate) {
  let options = {};
  let key = input;
  if (input !== null && typeof input === 'object' && !(input instanceof KeyObject) && !ArrayBuffer.isView(input) && !(input instanceof ArrayBuffer)) {
    options = input;
    key = input.key instanceof KeyObject ? input.key : input;
  }
  if (key instanceof KeyObject) {
    if (isPrivate && key.type !== 'private') throw invalidKeyType(key.type, 'private');
    if (!isPrivate && key.type === 'secret') throw invalidKeyType(key.type, 'private or public');
    if (!isPrivate && key.type === 'private') key = createPublicKey(key);
  } else {
    key = isPrivate ? createPrivateKey(key) : createPublicKey(key);
  }
  return { info: asymmetricInfo(key), options };
}

function paramsFor(info, hash, options, signing) {
  if (info.kind === 'rsa') {
    const padding = options.padding === undefined ? constants.RSA_PKCS1_PADDING : options.padding;
    if (padding === constants.RSA_PKCS1_PADDING) return { scheme: 'PKCS1', hash: hash || 'SHA-256' };
    if (padding !== constants.RSA_PKCS1_PSS_PADDING) throw codedError(Error, 'ERR_OSSL_RSA_UNKNOWN_PADDING_TYPE', 'error:1C8000A5:Provider routines::illegal or unsupported padding mode');
    const used = hash || 'SHA-256';
    let saltLength = options.saltLength === undefined ? constants.RSA_PSS_SALTLEN_AUTO : options.saltLength;
    if (!Number.isInteger(saltLength) || saltLength < -2) throw invalidArgType('options.saltLength', 'of type number', saltLength);
    if (saltLength === constants.RSA_PSS_SALTLEN_DIGEST) saltLength = HASH_BYTES[used];
    else if (saltLength === -2) saltLength = signing ? 'max' : 'auto';
    return { scheme: 'PSS', hash: used, saltLength };
  }
  if (info.kind === 'ec') return { scheme: 'ECDSA', hash: hash || 'SHA-256', curve: info.curve };
  if (info.kind === 'ed25519' || info.kind === 'ed448') {
    if (hash !== null) throw codedError(Error, 'ERR_OSSL_INVALID_DIGEST', 'error:1C8000AE:Provider routines::invalid digest');
    return { scheme: 'EdDSA' };
  }
  throw codedError(TypeError, 'ERR_CRYPTO_INVALID_KEY_OBJECT_TYPE', `Invalid key object type ${info.kind} for signing`);
}

function derLength(n) {
  return n < 128 ? [n] : [0x81, n];
}

function derInteger(bytes) {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start += 1;
  const body = bytes[start] & 0x80 ? [0, ...bytes.subarray(start)] : [...bytes.subarray(start)];
  return [0x02, ...derLength(body.length), ...body];
}

// ECDSA's r ‖ s as the DER SEQUENCE of two INTEGERs that Node gives by default.
function toDer(p1363) {
  const half = p1363.length / 2;
  const body = [...derInteger(p1363.subarray(0, half)), ...derInteger(p1363.subarray(half))];
  return new Uint8Array([0x30, ...derLength(body.length), ...body]);
}

// Back from DER, or null for anything that is not a well-formed signature of this size.
function fromDer(der, size) {
  let at = 0;
  const length = () => {
    let n = der[at++];
    if (n === 0x81) n = der[at++];
    else if (n > 0x80) return -1;
    return n;
  };
  if (der[at++] !== 0x30 || length() !== der.length - at) return null;
  const out = new Uint8Array(size * 2);
  for (const offset of [0, size]) {
    if (der[at++] !== 0x02) return null;
    const n = length();
    if (n <= 0 || at + n > der.length) return null;
    let value = der.subarray(at, at + n);
    at += n;
    while (value.length > 1 && value[0] === 0) value = value.subarray(1);
    if (value.length > size) return null;
    out.set(value, offset + size - value.length);
  }
  return at === der.length ? out : null;
}

function signWith(hash, data, input) {
  const { info, options } = keyAndOptions(input, true);
  const params = paramsFor(info, hash, options, true);
  let signature;
  try {
    signature = host.sign(info.handle, params, data);
  } catch {
    throw failed('Signing');
  }
  if (params.scheme === 'ECDSA' && options.dsaEncoding !== 'ieee-p1363') signature = toDer(signature);
  return bufferOf(signature);
}

function verifyWith(hash, data, input, signature) {
  const { info, options } = keyAndOptions(input, false);
  const params = paramsFor(info, hash, options, false);
  let bytes = signature;
  if (params.scheme === 'ECDSA' && options.dsaEncoding !== 'ieee-p1363') {
    bytes = fromDer(signature, CURVE_BYTES[info.curve]);
    if (bytes === null) return false;
  }
  try {
    return host.verify(info.handle, params, data, bytes);
  } catch {
    throw failed('Verification');
  }
}

function concat(chunks) {
  let length = 0;
  for (const chunk of chunks) length += chunk.length;
  const out = new Uint8Array(length);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

const CONSTRUCT = Symbol('Sign');

export class Sign {
  #hash;
  #chunks = [];

  constructor(token, hash) {
    if (token !== CONSTRUCT) throw new TypeError('Illegal constructor: use crypto.createSign()');
    this.#hash = hash;
  }

  update(data, inputEncoding) {
    this.#chunks.push(new Uint8Array(dataBytes(data, inputEncoding)));
    return this;
  }

  sign(privateKey, outputEncoding) {
    return encoded(signWith(this.#hash, concat(this.#chunks), privateKey), outputEncoding);
  }
}

export class Verify {
  #hash;
  #chunks = [];

  constructor(token, hash) {
    if (token !== CONSTRUCT) throw new TypeError('Illegal constructor: use crypto.createVerify()');
    this.#hash = hash;
  }

  update(data, inputEncoding) {
    this.#chunks.push(new Uint8Array(dataBytes(data, inputEncoding)));
    return this;
  }

  verify(publicKey, signature, signatureEncoding) {
    const bytes = dataBytes(signature, signatureEncoding, 'signature');
    return verifyWith(this.#hash, concat(this.#chunks), publicKey, bytes);
  }
}

export function createSign(algorithm) {
  return new Sign(CONSTRUCT, hashOf(algorithm));
}

export function createVerify(algorithm) {
  return new Verify(CONSTRUCT, hashOf(algorithm));
}

// Node's one-shot crypto.sign(algorithm, data, key[, callback]): `algorithm` null for EdDSA
// (and SHA-256 for the others).
export function sign(algorithm, data, key, callback) {
  const hash = algorithm === null || algorithm === undefined ? null : hashOf(algorithm);
  const run = () => signWith(hash, dataBytes(data), key);
  if (typeof callback !== 'function') return run();
  let result;
  try {
    result = run();
  } catch (err) {
    queueMicrotask(() => callback(err));
    return undefined;
  }
  queueMicrotask(() => callback(null, result));
  return undefined;
}

export function verify(algorithm, data, key, signature, callback) {
  const hash = algorithm === null || algorithm === undefined ? null : hashOf(algorithm);
  const run = () => verifyWith(hash, dataBytes(data), key, dataBytes(signature, undefined, 'signature'));
  if (typeof callback !== 'function') return run();
  let result;
  try {
    result = run();
  } catch (err) {
    queueMicrotask(() => callback(err));
    return undefined;
  }
  queueMicrotask(() => callback(null, result));
  return undefined;
}
