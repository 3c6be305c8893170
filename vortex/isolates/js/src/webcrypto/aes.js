// AES-CTR, AES-CBC, AES-GCM and AES-KW: keys here, the cipher on the host's OpenSSL.
import { checkJwk, checkUsages, dataError, exportedJwk, base64urlDecode, base64urlEncode, notSupportedError, operationError, normalizeUsages } from './common.js';
import { hostBytesResult } from './host.js';
import { exposedAlgorithm, keyInternals } from './key.js';
import { randomBytes } from './random.js';

const USAGES = {
  'AES-CTR': ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'],
  'AES-CBC': ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'],
  'AES-GCM': ['encrypt', 'decrypt', 'wrapKey', 'unwrapKey'],
  'AES-KW': ['wrapKey', 'unwrapKey'],
};
const TAG_LENGTHS = [32, 64, 96, 104, 112, 120, 128];

function makeKey(name, material, extractable, usages) {
  const length = material.length * 8;
  return keyInternals.create('secret', extractable, exposedAlgorithm({ name, length }), normalizeUsages(usages), { name, length, material });
}

function checkLength(length, error) {
  if (length !== 128 && length !== 192 && length !== 256) throw error('AES key length must be 128, 192 or 256 bits');
}

function cipher(name, params, key, data, encrypt) {
  const { material } = keyInternals.handle(key);
  const mode = name.slice(4);
  if (mode === 'CTR') {
    if (params.counter.length !== 16) throw operationError('AES-CTR counter must be 16 bytes');
    if (params.length === 0 || params.length > 128) throw operationError('AES-CTR length must be 1 to 128 bits');
    return hostBytesResult('aes', { mode, encrypt, length: params.length }, material, data, { counter: params.counter });
  }
  if (mode === 'CBC') {
    if (params.iv.length !== 16) throw operationError('AES-CBC iv must be 16 bytes');
    return hostBytesResult('aes', { mode, encrypt }, material, data, { iv: params.iv });
  }
  if (mode === 'GCM') {
    const tagLength = params.tagLength === undefined ? 128 : params.tagLength;
    if (!TAG_LENGTHS.includes(tagLength)) throw operationError('AES-GCM tagLength is not a valid length');
    const bins = { iv: params.iv };
    if (params.additionalData !== undefined) bins.additionalData = params.additionalData;
    return hostBytesResult('aes', { mode, encrypt, tagLength }, material, data, bins);
  }
  return hostBytesResult('aes', { mode, encrypt }, material, data);
}

function aes(name) {
  const usagesOf = USAGES[name];
  const suffix = name.slice(4);
  const jwkAlg = (length) => `A${length}${suffix}`;
  const algorithm = {
    generateKey(params, extractable, usages) {
      checkUsages(usages, usagesOf);
      checkLength(params.length, operationError);
      return makeKey(name, randomBytes(params.length / 8), extractable, usages);
    },
    importKey(format, keyData, params, extractable, usages) {
      checkUsages(usages, usagesOf);
      let material;
      if (format === 'raw') {
        material = keyData;
      } else if (format === 'jwk') {
        if (keyData.kty !== 'oct') throw dataError('The JWK "kty" member must be "oct"');
        if (keyData.k === undefined) throw dataError('The JWK "k" member is missing');
        material = base64urlDecode(keyData.k, 'k');
        checkLength(material.length * 8, dataError);
        if (keyData.alg !== undefined && keyData.alg !== jwkAlg(material.length * 8)) {
          throw dataError('The JWK "alg" member does not match the key');
        }
        checkJwk(keyData, usages, extractable, 'enc');
      } else {
        throw notSupportedError(`AES keys cannot be imported as ${format}`);
      }
      checkLength(material.length * 8, dataError);
      return makeKey(name, material, extractable, usages);
    },
    exportKey(format, key) {
      const { material, length } = keyInternals.handle(key);
      if (format === 'raw') return material.slice();
      if (format === 'jwk') return exportedJwk({ kty: 'oct', k: base64urlEncode(material), alg: jwkAlg(length) }, key);
      throw notSupportedError(`AES keys cannot be exported as ${format}`);
    },
    keyLength(params) {
      checkLength(params.length, operationError);
      return params.length;
    },
  };
  if (name === 'AES-KW') {
    algorithm.wrapKey = (params, key, data) => cipher(name, params, key, data, true);
    algorithm.unwrapKey = (params, key, data) => cipher(name, params, key, data, false);
  } else {
    algorithm.encrypt = (params, key, data) => cipher(name, params, key, data, true);
    algorithm.decrypt = (params, key, data) => cipher(name, params, key, data, false);
  }
  return algorithm;
}

export const AES = Object.fromEntries(Object.keys(USAGES).map((name) => [name, aes(name)]));
