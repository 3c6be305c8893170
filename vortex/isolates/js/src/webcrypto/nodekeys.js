// What node:crypto's key objects ask of the host's OpenSSL, synchronously as Node's API is:
// loading a PEM or DER key, exporting it, signing and verifying. The harness gives it to the
// functions' node:crypto (src/node/crypto/keys.js) under a symbol of `Vortex`; user code that
// finds it there can do nothing crypto.subtle could not, only without a promise.
//
// A key is an opaque, frozen handle; its DER stays in this module's WeakMap, so that the host
// only ever signs with DER it has loaded and checked itself (cryptokeys.private_key trusts it).
// Errors are the host's DOMExceptions (a DataError for bad key data); node:crypto words them
// as Node does.
import { hostBytesResult, hostJsonResult } from './host.js';
import { fromBase64 } from './pairs.js';

const materials = new WeakMap();

function handleOf(described) {
  const handle = Object.freeze({});
  materials.set(handle, fromBase64(described.der));
  return {
    handle,
    type: described.type,
    kind: described.kind,
    curve: described.curve,
    modulusLength: described.modulusLength,
    publicExponent: described.publicExponent === undefined ? undefined : fromBase64(described.publicExponent),
  };
}

function materialOf(handle) {
  const material = materials.get(handle);
  if (material === undefined) throw new TypeError('Not a key handle');
  return material;
}

export const nodeKeys = {
  // `format`: 'pem' or 'der'; `type`: for DER, 'pkcs8', 'spki', 'pkcs1' or 'sec1'.
  load(format, type, isPrivate, data) {
    return handleOf(hostJsonResult('node_load', { format, type, private: isPrivate }, null, data));
  },
  // A JWK, through crypto.subtle's import (`kty` 'RSA', 'EC' or 'OKP', `curve` its WebCrypto
  // name); node:crypto has checked it is of the kind asked.
  loadJwk(kty, curve, jwk, isPrivate) {
    const described = hostJsonResult('import', { kty, curve, format: 'jwk', jwk }, null, null);
    if (isPrivate && described.type !== 'private') throw new TypeError('Not a private key');
    const kind = kty === 'RSA' ? 'rsa' : kty === 'EC' ? 'ec' : curve.toLowerCase();
    const key = handleOf({ ...described, kind, curve: kty === 'EC' ? curve : undefined });
    // A private JWK given to createPublicKey: its public half, as Node gives it.
    return isPrivate || described.type === 'public' ? key : nodeKeys.publicOf(key.handle);
  },
  publicOf(handle) {
    return handleOf(hostJsonResult('node_public', {}, materialOf(handle), null));
  },
  export(handle, isPrivate, format, type) {
    return hostBytesResult('node_export', { format, type, private: isPrivate }, materialOf(handle), null);
  },
  jwk(handle, isPrivate, kty, curve) {
    return hostJsonResult('export', { kty, curve, format: 'jwk', private: isPrivate }, materialOf(handle), null);
  },
  // `params`: { scheme: 'PKCS1' | 'PSS' | 'ECDSA' | 'EdDSA', hash, saltLength, curve }, as
  // crypto.subtle's RSA, EC and OKP sign with; an ECDSA signature is IEEE P1363 (r ‖ s).
  sign(handle, params, data) {
    return hostBytesResult('sign', params, materialOf(handle), data);
  },
  verify(handle, params, data, signature) {
    return hostBytesResult('verify', params, materialOf(handle), data, { signature })[0] === 1;
  },
};
