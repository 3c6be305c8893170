// RSASSA-PKCS1-v1_5, RSA-PSS and RSA-OAEP on the host's OpenSSL.
import { dataError, invalidAccess } from './common.js';
import { hostBytesResult } from './host.js';
import { exposedAlgorithm, keyInternals } from './key.js';
import { exportPair, fromBase64, generatePair, importPair } from './pairs.js';

const JWK_ALGS = {
  'RSASSA-PKCS1-v1_5': { 'SHA-1': 'RS1', 'SHA-256': 'RS256', 'SHA-384': 'RS384', 'SHA-512': 'RS512' },
  'RSA-PSS': { 'SHA-1': 'PS1', 'SHA-256': 'PS256', 'SHA-384': 'PS384', 'SHA-512': 'PS512' },
  'RSA-OAEP': { 'SHA-1': 'RSA-OAEP', 'SHA-256': 'RSA-OAEP-256', 'SHA-384': 'RSA-OAEP-384', 'SHA-512': 'RSA-OAEP-512' },
};

function family(name, hash) {
  const encrypting = name === 'RSA-OAEP';
  return {
    name,
    kty: 'RSA',
    curve: '',
    jwkKty: 'RSA',
    raw: false,
    use: encrypting ? 'enc' : 'sig',
    publicUsages: encrypting ? ['encrypt', 'wrapKey'] : ['verify'],
    privateUsages: encrypting ? ['decrypt', 'unwrapKey'] : ['sign'],
    algorithm: (d) => exposedAlgorithm({ name, modulusLength: d.modulusLength, publicExponent: fromBase64(d.publicExponent), hash }),
    handle: (d) => ({ name, hash, modulusLength: d.modulusLength }),
    checkJwk(jwk) {
      if (jwk.alg !== undefined && jwk.alg !== JWK_ALGS[name][hash]) throw dataError('The JWK "alg" member does not match the hash');
    },
    jwkExtra: () => ({ alg: JWK_ALGS[name][hash] }),
  };
}

function requireType(key, type) {
  if (key.type !== type) throw invalidAccess(`The operation needs a ${type} key`);
}

function rsa(name) {
  const algorithm = {
    generateKey(params, extractable, usages) {
      const bins = { publicExponent: params.publicExponent };
      return generatePair(family(name, params.hash.name), extractable, usages, { modulusLength: params.modulusLength }, bins);
    },
    importKey(format, keyData, params, extractable, usages) {
      return importPair(family(name, params.hash.name), format, keyData, extractable, usages);
    },
    exportKey(format, key) {
      return exportPair(family(name, keyInternals.handle(key).hash), format, key);
    },
  };
  if (name === 'RSA-OAEP') {
    const oaep = (params, key, data, encrypt) => {
      requireType(key, encrypt ? 'public' : 'private');
      const { hash, material } = keyInternals.handle(key);
      const bins = params.label === undefined ? undefined : { label: params.label };
      return hostBytesResult('oaep', { hash, encrypt }, material, data, bins);
    };
    algorithm.encrypt = (params, key, data) => oaep(params, key, data, true);
    algorithm.decrypt = (params, key, data) => oaep(params, key, data, false);
  } else {
    const scheme = name === 'RSA-PSS' ? 'PSS' : 'PKCS1';
    algorithm.sign = (params, key, data) => {
      requireType(key, 'private');
      const { hash, material } = keyInternals.handle(key);
      return hostBytesResult('sign', { scheme, hash, saltLength: params.saltLength }, material, data);
    };
    algorithm.verify = (params, key, signature, data) => {
      requireType(key, 'public');
      const { hash, material } = keyInternals.handle(key);
      const result = hostBytesResult('verify', { scheme, hash, saltLength: params.saltLength }, material, data, { signature });
      return result[0] === 1;
    };
  }
  return algorithm;
}

export const RSA = Object.fromEntries(Object.keys(JWK_ALGS).map((name) => [name, rsa(name)]));
