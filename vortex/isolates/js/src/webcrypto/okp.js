// Ed25519, Ed448, X25519 and X448 (RFC 8032, RFC 7748) on the host's OpenSSL.
import { dataError, invalidAccess, notSupportedError } from './common.js';
import { agree } from './agree.js';
import { hostBytesResult } from './host.js';
import { exposedAlgorithm, keyInternals } from './key.js';
import { exportPair, generatePair, importPair } from './pairs.js';

function family(name) {
  const signing = name.startsWith('Ed');
  return {
    name,
    kty: 'OKP',
    curve: name,
    jwkKty: 'OKP',
    raw: true,
    use: signing ? 'sig' : 'enc',
    publicUsages: signing ? ['verify'] : [],
    privateUsages: signing ? ['sign'] : ['deriveKey', 'deriveBits'],
    algorithm: () => exposedAlgorithm({ name }),
    handle: () => ({ name, curve: name }),
    checkJwk(jwk) {
      if (jwk.crv !== name) throw dataError('The JWK "crv" member does not match the algorithm');
      if (signing && jwk.alg !== undefined && jwk.alg !== name && jwk.alg !== 'EdDSA') {
        throw dataError('The JWK "alg" member does not match the algorithm');
      }
    },
    jwkExtra: () => (signing ? { crv: name, alg: name } : { crv: name }),
  };
}

function okp(name) {
  const algorithm = {
    generateKey: (params, extractable, usages) => generatePair(family(name), extractable, usages),
    importKey: (format, keyData, params, extractable, usages) => importPair(family(name), format, keyData, extractable, usages),
    exportKey: (format, key) => exportPair(family(name), format, key),
  };
  if (name.startsWith('Ed')) {
    algorithm.sign = (params, key, data) => {
      if (key.type !== 'private') throw invalidAccess('The operation needs a private key');
      if (params.context !== undefined && params.context.length > 0) throw notSupportedError('Ed448 contexts are not supported');
      return hostBytesResult('sign', { scheme: 'EdDSA' }, keyInternals.handle(key).material, data);
    };
    algorithm.verify = (params, key, signature, data) => {
      if (key.type !== 'public') throw invalidAccess('The operation needs a public key');
      if (params.context !== undefined && params.context.length > 0) throw notSupportedError('Ed448 contexts are not supported');
      const result = hostBytesResult('verify', { scheme: 'EdDSA' }, keyInternals.handle(key).material, data, { signature });
      return result[0] === 1;
    };
  } else {
    algorithm.deriveBits = agree;
  }
  return algorithm;
}

export const OKP = Object.fromEntries(['Ed25519', 'Ed448', 'X25519', 'X448'].map((name) => [name, okp(name)]));
