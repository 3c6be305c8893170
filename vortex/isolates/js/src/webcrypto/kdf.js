// HKDF and PBKDF2 on the host's OpenSSL: keys that only derive, never leave.
import { checkUsages, normalizeUsages, notSupportedError, operationError, syntaxError } from './common.js';
import { hostBytesResult } from './host.js';
import { exposedAlgorithm, keyInternals } from './key.js';

function kdf(name, derive) {
  return {
    importKey(format, keyData, params, extractable, usages) {
      if (format !== 'raw') throw notSupportedError(`${name} keys can only be imported as raw`);
      checkUsages(usages, ['deriveKey', 'deriveBits']);
      if (extractable) throw syntaxError(`${name} keys cannot be extractable`);
      return keyInternals.create('secret', false, exposedAlgorithm({ name }), normalizeUsages(usages), { name, material: keyData });
    },
    deriveBits(params, key, length) {
      if (length === null) throw operationError(`${name} needs a length`);
      if (length % 8 !== 0) throw operationError(`${name} derives whole bytes: the length must be a multiple of 8`);
      return derive(params, keyInternals.handle(key).material, length);
    },
    keyLength: () => null,
  };
}

export const KDF = {
  HKDF: kdf('HKDF', (params, material, length) =>
    hostBytesResult('hkdf', { hash: params.hash.name, length }, material, null, { salt: params.salt, info: params.info })),
  PBKDF2: kdf('PBKDF2', (params, material, length) => {
    if (params.iterations === 0) throw operationError('PBKDF2 needs at least one iteration');
    return hostBytesResult('pbkdf2', { hash: params.hash.name, length, iterations: params.iterations }, material, null, { salt: params.salt });
  }),
};
