// Key agreement (ECDH, X25519, X448): deriveBits of a private key and the other party's public
// key, cut to the length asked for.
import { invalidAccess, operationError } from './common.js';
import { hostBytesResult } from './host.js';
import { keyInternals } from './key.js';

export function agree(params, key, length) {
  const other = params.public;
  if (key.type !== 'private') throw invalidAccess('The base key must be a private key');
  if (other.type !== 'public') throw invalidAccess('The public member must be a public key');
  const mine = keyInternals.handle(key);
  const theirs = keyInternals.handle(other);
  if (theirs.name !== mine.name) throw invalidAccess('The public key is of another algorithm');
  if (theirs.curve !== mine.curve) throw invalidAccess('The public key is on another curve');
  const secret = hostBytesResult('agree', {}, mine.material, theirs.material);
  if (length === null) return secret;
  if (length > secret.length * 8) throw operationError('The length is longer than the shared secret');
  const out = secret.slice(0, Math.ceil(length / 8));
  if (length % 8) out[out.length - 1] &= 0xff << (8 - (length % 8));
  return out;
}
