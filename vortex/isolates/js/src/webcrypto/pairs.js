// What RSA, EC and OKP keys share: their material is DER (PKCS #8 or SubjectPublicKeyInfo),
// parsed, checked and made by the host (vortex/isolates/cryptokeys.py).
import { atob } from '../base64.js';
import { checkJwk, checkUsages, dataError, exportedJwk, invalidAccess, normalizeUsages, notSupportedError } from './common.js';
import { hostBytesResult, hostJsonResult } from './host.js';
import { keyInternals } from './key.js';

export function fromBase64(text) {
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) out[i] = binary.charCodeAt(i);
  return out;
}

// `family`: { kty: 'RSA' | 'EC' | 'OKP', curve, publicUsages, privateUsages, use, jwkKty,
// algorithm(described) → the exposed algorithm, handle(described) → extra handle fields,
// checkJwkAlg(jwk) }
function makeKey(family, described, extractable, usages) {
  const type = described.type;
  const allowed = type === 'public' ? family.publicUsages : family.privateUsages;
  const handle = { ...family.handle(described), material: fromBase64(described.der) };
  return keyInternals.create(type, extractable, family.algorithm(described), normalizeUsages(usages, allowed), handle);
}

export function importPair(family, format, keyData, extractable, usages) {
  const params = { kty: family.kty, curve: family.curve, format };
  let data = null;
  let type;
  if (format === 'spki') {
    type = 'public';
    data = keyData;
  } else if (format === 'pkcs8') {
    type = 'private';
    data = keyData;
  } else if (format === 'raw') {
    if (!family.raw) throw notSupportedError(`${family.name} keys cannot be imported as raw`);
    type = 'public';
    data = keyData;
  } else {
    type = keyData.d === undefined ? 'public' : 'private';
  }
  checkUsages(usages, type === 'public' ? family.publicUsages : family.privateUsages);
  if (format === 'jwk') {
    if (keyData.kty !== family.jwkKty) throw dataError(`The JWK "kty" member must be "${family.jwkKty}"`);
    family.checkJwk(keyData);
    checkJwk(keyData, usages, extractable, family.use);
    params.jwk = keyData;
  }
  const described = hostJsonResult('import', params, null, data);
  if (described.type !== type) throw dataError('The key data is not a key of the expected type');
  return makeKey(family, described, extractable, usages);
}

export function exportPair(family, format, key) {
  const { material } = keyInternals.handle(key);
  const isPrivate = key.type === 'private';
  if (format === 'spki' && isPrivate) throw invalidAccess('Only a public key exports as spki');
  if (format === 'pkcs8' && !isPrivate) throw invalidAccess('Only a private key exports as pkcs8');
  if (format === 'raw') {
    if (!family.raw) throw notSupportedError(`${family.name} keys cannot be exported as raw`);
    if (isPrivate) throw invalidAccess('Only a public key exports as raw');
  }
  const params = { kty: family.kty, curve: family.curve, format, private: isPrivate };
  if (format !== 'jwk') return hostBytesResult('export', params, material, null);
  const members = hostJsonResult('export', params, material, null);
  return exportedJwk({ kty: family.jwkKty, ...family.jwkExtra(key), ...members }, key);
}

export function generatePair(family, extractable, usages, params = {}, bins = undefined) {
  checkUsages(usages, [...family.publicUsages, ...family.privateUsages]);
  const pair = hostJsonResult('generate', { kty: family.kty, curve: family.curve, ...params }, null, null, bins);
  const privateKey = makeKey(family, pair.private, extractable, usages);
  const publicKey = makeKey(family, pair.public, true, usages);
  return { publicKey, privateKey };
}
