// node:crypto's KeyObject, createSecretKey, createPublicKey and createPrivateKey. A secret key's
// bytes are this module's; an asymmetric key is a handle of the host's (webcrypto/nodekeys.js,
// given under a symbol of `Vortex`), which loads PEM and DER with OpenSSL and keeps the DER, so
// a key is parsed and checked once, and signing with it (sign.js) is one synchronous call.
import { Buffer } from 'node:buffer';
import { codedError, invalidArgType } from '../nodeerrors.js';
import { bufferOf, keyBytes, viewOf } from './bytes.js';

const host = globalThis.Vortex !== undefined ? globalThis.Vortex[Symbol.for('vortex.node:crypto.keys')] : undefined;
const CONSTRUCT = Symbol('KeyObject');
const secrets = new WeakMap(); // SecretKeyObject → its bytes
const asymmetric = new WeakMap(); // Public/PrivateKeyObject → the host's description of it
// Node's (OpenSSL's) names of the curves WebCrypto names P-256, P-384 and P-521.
const CURVE_NAMES = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' };
const JWK_OKP = { ed25519: 'Ed25519', ed448: 'Ed448', x25519: 'X25519', x448: 'X448' };

function keysHost() {
  if (host === undefined) throw codedError(Error, 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM', 'Asymmetric keys need the Vortex runtime');
  return host;
}

// What OpenSSL 3, so Node, says of key data it cannot decode.
export function decoderError() {
  const err = codedError(Error, 'ERR_OSSL_UNSUPPORTED', 'error:1E08010C:DECODER routines::unsupported');
  err.library = 'DECODER routines';
  err.reason = 'unsupported';
  return err;
}

export function invalidKeyType(type, expected) {
  return codedError(TypeError, 'ERR_CRYPTO_INVALID_KEY_OBJECT_TYPE', `Invalid key object type ${type}, expected ${expected}.`);
}

function invalidValue(name, value, reason = 'is invalid') {
  return codedError(TypeError, 'ERR_INVALID_ARG_VALUE', `The property '${name}' ${reason}. Received ${String(value)}`);
}

export class KeyObject {
  #type;

  constructor(token, type) {
    if (token !== CONSTRUCT) throw new TypeError('Illegal constructor: use crypto.createSecretKey(), createPublicKey() or createPrivateKey()');
    this.#type = type;
  }

  get type() {
    return this.#type;
  }

  equals(other) {
    if (!(other instanceof KeyObject)) throw invalidArgType('otherKeyObject', 'an instance of KeyObject', other);
    if (other.type !== this.type) return false;
    const mine = this.type === 'secret' ? secrets.get(this) : host.export(asymmetric.get(this).handle, this.type === 'private', 'der', this.type === 'private' ? 'pkcs8' : 'spki');
    const theirs = other.type === 'secret' ? secrets.get(other) : host.export(asymmetric.get(other).handle, other.type === 'private', 'der', other.type === 'private' ? 'pkcs8' : 'spki');
    if (mine.length !== theirs.length) return false;
    let diff = 0;
    for (let i = 0; i < mine.length; i += 1) diff |= mine[i] ^ theirs[i];
    return diff === 0;
  }

  // A CryptoKey's material is the web APIs' own, reached only through crypto.subtle.
  static from() {
    throw codedError(Error, 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM', 'KeyObject.from() is not supported: export the CryptoKey with crypto.subtle.exportKey()');
  }
}

class SecretKeyObject extends KeyObject {
  get symmetricKeySize() {
    return secrets.get(this).length;
  }

  export(options) {
    const bytes = secrets.get(this);
    if (options !== undefined && options !== null && options.format === 'jwk') {
      return { kty: 'oct', k: bufferOf(bytes).toString('base64url') };
    }
    return Buffer.from(bytes);
  }
}

class AsymmetricKeyObject extends KeyObject {
  get asymmetricKeyType() {
    return asymmetric.get(this).kind;
  }

  get asymmetricKeyDetails() {
    const info = asymmetric.get(this);
    if (info.kind === 'rsa') {
      let exponent = 0n;
      for (const byte of info.publicExponent) exponent = (exponent << 8n) | BigInt(byte);
      return { modulusLength: info.modulusLength, publicExponent: exponent };
    }
    if (info.kind === 'ec') return { namedCurve: CURVE_NAMES[info.curve] };
    return {};
  }

  export(options) {
    if (options === null || typeof options !== 'object') throw invalidArgType('options', 'of type object', options);
    const info = asymmetric.get(this);
    const isPrivate = this.type === 'private';
    if (options.format === 'jwk') {
      if (info.kind === 'rsa') return { kty: 'RSA', ...keysHost().jwk(info.handle, isPrivate, 'RSA', '') };
      if (info.kind === 'ec') return { kty: 'EC', crv: info.curve, ...keysHost().jwk(info.handle, isPrivate, 'EC', info.curve) };
      return { kty: 'OKP', crv: JWK_OKP[info.kind], ...keysHost().jwk(info.handle, isPrivate, 'OKP', JWK_OKP[info.kind]) };
    }
    const format = options.format === undefined ? 'pem' : options.format;
    if (format !== 'pem' && format !== 'der') throw invalidValue('options.format', format);
    if (options.cipher !== undefined || options.passphrase !== undefined) {
      throw codedError(Error, 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM', 'Encrypted key export is not supported');
    }
    const allowed = isPrivate ? ['pkcs8', 'pkcs1', 'sec1'] : ['spki', 'pkcs1'];
    if (!allowed.includes(options.type)) throw invalidValue('options.type', options.type);
    let bytes;
    try {
      bytes = keysHost().export(info.handle, isPrivate, format, options.type);
    } catch {
      throw codedError(Error, 'ERR_CRYPTO_INCOMPATIBLE_KEY_OPTIONS', `The selected key encoding ${options.type} can only be used for ${options.type === 'sec1' ? 'EC' : 'RSA'} keys.`);
    }
    return format === 'pem' ? bufferOf(bytes).toString('latin1') : Buffer.from(bytes);
  }
}

class PublicKeyObject extends AsymmetricKeyObject {}
class PrivateKeyObject extends AsymmetricKeyObject {}

function asymmetricKey(Kind, type, info) {
  const key = new Kind(CONSTRUCT, type);
  asymmetric.set(key, info);
  return key;
}

// The bytes of a secret KeyObject (createHmac), or null for anything else.
export function secretBytes(key) {
  return secrets.get(key) || null;
}

// The host's description of an asymmetric KeyObject: { handle, kind, curve, modulusLength }.
export function asymmetricInfo(key) {
  return asymmetric.get(key) || null;
}

export function createSecretKey(key, encoding) {
  const bytes = keyBytes(key, encoding);
  const secret = new SecretKeyObject(CONSTRUCT, 'secret');
  secrets.set(secret, new Uint8Array(bytes));
  return secret;
}

function loadJwk(jwk, isPrivate) {
  if (jwk === null || typeof jwk !== 'object') throw invalidArgType('key.key', 'of type object', jwk);
  let kty;
  let curve = '';
  if (jwk.kty === 'RSA') kty = 'RSA';
  else if (jwk.kty === 'EC' && Object.keys(CURVE_NAMES).includes(jwk.crv)) [kty, curve] = ['EC', jwk.crv];
  else if (jwk.kty === 'OKP' && Object.values(JWK_OKP).includes(jwk.crv)) [kty, curve] = ['OKP', jwk.crv];
  else throw codedError(TypeError, 'ERR_CRYPTO_INVALID_JWK', 'Invalid JWK data');
  if (isPrivate && jwk.d === undefined) throw codedError(TypeError, 'ERR_CRYPTO_INVALID_JWK', 'Invalid JWK private key');
  try {
    return keysHost().loadJwk(kty, curve, jwk, isPrivate);
  } catch {
    throw codedError(TypeError, 'ERR_CRYPTO_INVALID_JWK', 'Invalid JWK data');
  }
}

// Node's createPublicKey/createPrivateKey input: a PEM string or Buffer, or { key, format,
// type, encoding }, with `key` a PEM, DER bytes or a JWK object.
function load(input, isPrivate) {
  let key = input;
  let format = 'pem';
  let type;
  let encoding;
  if (input !== null && typeof input === 'object' && !ArrayBuffer.isView(input) && !(input instanceof ArrayBuffer)) {
    ({ key, type, encoding } = input);
    if (input.format !== undefined) format = input.format;
    if (input.passphrase !== undefined) {
      throw codedError(Error, 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM', 'Encrypted private keys are not supported');
    }
  }
  if (format === 'jwk') return loadJwk(key, isPrivate);
  if (format !== 'pem' && format !== 'der') throw invalidValue('key.format', format);
  let bytes;
  if (typeof key === 'string') bytes = keyBytes(key, format === 'der' ? encoding || 'utf8' : 'utf8');
  else bytes = viewOf(key);
  if (bytes === null) {
    throw invalidArgType('key', 'of type string or an instance of ArrayBuffer, Buffer, TypedArray, DataView, KeyObject, or CryptoKey', key);
  }
  if (format === 'der' && !['pkcs1', 'pkcs8', 'spki', 'sec1'].includes(type)) throw invalidValue('key.type', type);
  try {
    return keysHost().load(format, format === 'der' ? type : null, isPrivate, bytes);
  } catch (err) {
    if (err && err.code === 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM') throw err;
    throw decoderError();
  }
}

export function createPublicKey(key) {
  if (key instanceof KeyObject) {
    if (key.type !== 'private') throw invalidKeyType(key.type, 'private');
    return asymmetricKey(PublicKeyObject, 'public', keysHost().publicOf(asymmetric.get(key).handle));
  }
  return asymmetricKey(PublicKeyObject, 'public', load(key, false));
}

export function createPrivateKey(key) {
  if (key instanceof KeyObject) throw invalidArgType('key', 'of type string or an instance of ArrayBuffer, Buffer, TypedArray, or DataView', key);
  return asymmetricKey(PrivateKeyObject, 'private', load(key, true));
}
