// "Normalize an algorithm" (Web Cryptography API §18.4): find the registered algorithm of an
// operation by name, case-insensitively, and convert the caller's object to that algorithm's
// parameter dictionary as WebIDL does (required members, [EnforceRange] integers,
// BufferSource copies, nested hash algorithms).
import { DOMException } from '../domexception.js';
import { copyBytes, isBufferSource, isUint8Array } from '../util.js';
import { keyInternals } from './key.js';

const SHA = { 'SHA-1': 'Algorithm', 'SHA-256': 'Algorithm', 'SHA-384': 'Algorithm', 'SHA-512': 'Algorithm' };
const RSA_KEYGEN = 'RsaHashedKeyGenParams';
const RSA_IMPORT = 'RsaHashedImportParams';

export const REGISTERED = {
  digest: SHA,
  encrypt: { 'RSA-OAEP': 'RsaOaepParams', 'AES-CTR': 'AesCtrParams', 'AES-CBC': 'AesCbcParams', 'AES-GCM': 'AesGcmParams' },
  sign: {
    'RSASSA-PKCS1-v1_5': 'Algorithm', 'RSA-PSS': 'RsaPssParams', ECDSA: 'EcdsaParams', HMAC: 'Algorithm',
    Ed25519: 'Algorithm', Ed448: 'Ed448Params',
  },
  generateKey: {
    'RSASSA-PKCS1-v1_5': RSA_KEYGEN, 'RSA-PSS': RSA_KEYGEN, 'RSA-OAEP': RSA_KEYGEN,
    ECDSA: 'EcKeyGenParams', ECDH: 'EcKeyGenParams',
    'AES-CTR': 'AesKeyGenParams', 'AES-CBC': 'AesKeyGenParams', 'AES-GCM': 'AesKeyGenParams', 'AES-KW': 'AesKeyGenParams',
    HMAC: 'HmacKeyGenParams', Ed25519: 'Algorithm', X25519: 'Algorithm', Ed448: 'Algorithm', X448: 'Algorithm',
  },
  deriveBits: { ECDH: 'EcdhKeyDeriveParams', X25519: 'EcdhKeyDeriveParams', X448: 'EcdhKeyDeriveParams', HKDF: 'HkdfParams', PBKDF2: 'Pbkdf2Params' },
  importKey: {
    'RSASSA-PKCS1-v1_5': RSA_IMPORT, 'RSA-PSS': RSA_IMPORT, 'RSA-OAEP': RSA_IMPORT,
    ECDSA: 'EcKeyImportParams', ECDH: 'EcKeyImportParams',
    'AES-CTR': 'Algorithm', 'AES-CBC': 'Algorithm', 'AES-GCM': 'Algorithm', 'AES-KW': 'Algorithm',
    HMAC: 'HmacImportParams', HKDF: 'Algorithm', PBKDF2: 'Algorithm',
    Ed25519: 'Algorithm', X25519: 'Algorithm', Ed448: 'Algorithm', X448: 'Algorithm',
  },
  wrapKey: { 'AES-KW': 'Algorithm' },
  'get key length': {
    'AES-CTR': 'AesDerivedKeyParams', 'AES-CBC': 'AesDerivedKeyParams', 'AES-GCM': 'AesDerivedKeyParams', 'AES-KW': 'AesDerivedKeyParams',
    HMAC: 'HmacImportParams', HKDF: 'Algorithm', PBKDF2: 'Algorithm',
  },
};
REGISTERED.decrypt = REGISTERED.encrypt;
REGISTERED.verify = REGISTERED.sign;
REGISTERED.unwrapKey = REGISTERED.wrapKey;

// Members of each dictionary, in the order WebIDL converts them (lexicographic); `!` marks a
// required member.
const DICTIONARIES = {
  Algorithm: {},
  AesCtrParams: { counter: 'bytes!', length: 'octet!' },
  AesCbcParams: { iv: 'bytes!' },
  AesGcmParams: { additionalData: 'bytes', iv: 'bytes!', tagLength: 'octet' },
  AesKeyGenParams: { length: 'ushort!' },
  AesDerivedKeyParams: { length: 'ushort!' },
  HmacImportParams: { hash: 'hash!', length: 'ulong' },
  HmacKeyGenParams: { hash: 'hash!', length: 'ulong' },
  RsaHashedKeyGenParams: { hash: 'hash!', modulusLength: 'ulong!', publicExponent: 'bigint!' },
  RsaHashedImportParams: { hash: 'hash!' },
  RsaPssParams: { saltLength: 'ulong!' },
  RsaOaepParams: { label: 'bytes' },
  EcdsaParams: { hash: 'hash!' },
  EcKeyGenParams: { namedCurve: 'string!' },
  EcKeyImportParams: { namedCurve: 'string!' },
  EcdhKeyDeriveParams: { public: 'key!' },
  HkdfParams: { hash: 'hash!', info: 'bytes!', salt: 'bytes!' },
  Pbkdf2Params: { hash: 'hash!', iterations: 'ulong!', salt: 'bytes!' },
  Ed448Params: { context: 'bytes' },
};

const RANGES = { octet: 0xff, ushort: 0xffff, ulong: 0xffffffff };

export function notSupported(name) {
  return new DOMException(`Unrecognized or unsupported algorithm: ${name}`, 'NotSupportedError');
}

function enforceRange(value, type, member) {
  const number = Number(value);
  if (!Number.isFinite(number)) throw new TypeError(`${member} is not a finite number`);
  const integer = Math.trunc(number);
  if (integer < 0 || integer > RANGES[type]) throw new TypeError(`${member} is outside the range of ${type}`);
  return integer;
}

function convertMember(type, value, member) {
  switch (type) {
    case 'bytes':
      if (!isBufferSource(value)) throw new TypeError(`${member} is not of type (ArrayBuffer or ArrayBufferView)`);
      return copyBytes(value);
    case 'bigint':
      if (!isBufferSource(value) || !isUint8Array(value)) throw new TypeError(`${member} is not a Uint8Array`);
      return copyBytes(value);
    case 'hash':
      return normalizeAlgorithm(value, 'digest');
    case 'string':
      return String(value);
    case 'key':
      if (!keyInternals.is(value)) throw new TypeError(`${member} is not a CryptoKey`);
      return value;
    default:
      return enforceRange(value, type, member);
  }
}

// The caller's AlgorithmIdentifier (a string or an object with a name) as WebIDL converts it.
export function algorithmObject(algorithm) {
  if (typeof algorithm === 'object' && algorithm !== null) return algorithm;
  if (typeof algorithm === 'function') return algorithm;
  return { name: String(algorithm) };
}

export function normalizeAlgorithm(algorithm, op) {
  const object = algorithmObject(algorithm);
  const rawName = object.name;
  if (rawName === undefined) throw new TypeError('Algorithm: member name is required');
  const name = String(rawName);
  const registered = REGISTERED[op];
  const upper = name.toUpperCase();
  const canonical = Object.keys(registered).find((known) => known.toUpperCase() === upper);
  if (canonical === undefined) throw notSupported(name);
  const out = { name: canonical };
  const members = DICTIONARIES[registered[canonical]];
  for (const [member, spec] of Object.entries(members)) {
    const required = spec.endsWith('!');
    const type = required ? spec.slice(0, -1) : spec;
    const value = object[member];
    if (value === undefined) {
      if (required) throw new TypeError(`${registered[canonical]}: member ${member} is required`);
      continue;
    }
    out[member] = convertMember(type, value, member);
  }
  return out;
}
