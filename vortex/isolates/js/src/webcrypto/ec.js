// ECDSA and ECDH on P-256, P-384 and P-521, on the host's OpenSSL.
import { dataError, invalidAccess, notSupportedError } from './common.js';
import { agree } from './agree.js';
import { hostBytesResult } from './host.js';
import { exposedAlgorithm, keyInternals } from './key.js';
import { exportPair, generatePair, importPair } from './pairs.js';

const CURVES = ['P-256', 'P-384', 'P-521'];
const ECDSA_JWK_ALGS = { 'P-256': 'ES256', 'P-384': 'ES384', 'P-521': 'ES512' };

function family(name, curve) {
  const signing = name === 'ECDSA';
  return {
    name,
    kty: 'EC',
    curve,
    jwkKty: 'EC',
    raw: true,
    use: signing ? 'sig' : 'enc',
    publicUsages: signing ? ['verify'] : [],
    privateUsages: signing ? ['sign'] : ['deriveKey', 'deriveBits'],
    algorithm: () => exposedAlgorithm({ name, namedCurve: curve }),
    handle: () => ({ name, curve }),
    checkJwk(jwk) {
      if (jwk.crv !== curve) throw dataError('The JWK "crv" member does not match the named curve');
      if (signing && jwk.alg !== undefined && jwk.alg !== ECDSA_JWK_ALGS[curve]) {
        throw dataError('The JWK "alg" member does not match the curve');
      }
    },
    jwkExtra: () => ({ crv: curve }),
  };
}

function ec(name) {
  const algorithm = {
    generateKey(params, extractable, usages) {
      if (!CURVES.includes(params.namedCurve)) throw notSupportedError(`Unsupported curve: ${params.namedCurve}`);
      return generatePair(family(name, params.namedCurve), extractable, usages);
    },
    importKey(format, keyData, params, extractable, usages) {
      if (!CURVES.includes(params.namedCurve)) throw notSupportedError(`Unsupported curve: ${params.namedCurve}`);
      return importPair(family(name, params.namedCurve), format, keyData, extractable, usages);
    },
    exportKey(format, key) {
      return exportPair(family(name, keyInternals.handle(key).curve), format, key);
    },
  };
  if (name === 'ECDSA') {
    algorithm.sign = (params, key, data) => {
      if (key.type !== 'private') throw invalidAccess('The operation needs a private key');
      const { curve, material } = keyInternals.handle(key);
      return hostBytesResult('sign', { scheme: 'ECDSA', hash: params.hash.name, curve }, material, data);
    };
    algorithm.verify = (params, key, signature, data) => {
      if (key.type !== 'public') throw invalidAccess('The operation needs a public key');
      const { curve, material } = keyInternals.handle(key);
      const result = hostBytesResult('verify', { scheme: 'ECDSA', hash: params.hash.name, curve }, material, data, { signature });
      return result[0] === 1;
    };
  } else {
    algorithm.deriveBits = agree;
  }
  return algorithm;
}

export const EC = { ECDSA: ec('ECDSA'), ECDH: ec('ECDH') };
