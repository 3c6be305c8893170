// node:crypto, the part Workers apps use: hashes and HMACs (webhook signatures, ETags), random
// bytes, integers and UUIDs, timingSafeEqual, pbkdf2/hkdf with callbacks, key objects from PEM,
// DER and JWK, RSA/ECDSA/EdDSA signatures (JWTs), and the web API as `webcrypto`/`subtle`. Not
// here: ciphers, key generation, the *Sync key derivations, Diffie-Hellman, X509Certificate
// (the web API's crypto.subtle has most).
// Evaluated per instance of the importing function like the other built-ins; its Buffers are
// that function's node:buffer.
const { Hash, Hmac, createHash, createHmac, getHashes, hash } = require('./crypto/hash.js');
const { getRandomValues, randomBytes, randomFill, randomFillSync, randomInt, randomUUID } = require('./crypto/random.js');
const { timingSafeEqual } = require('./crypto/bytes.js');
const { hkdf, pbkdf2 } = require('./crypto/kdf.js');
const { KeyObject, createPrivateKey, createPublicKey, createSecretKey } = require('./crypto/keys.js');
const { Sign, Verify, constants, createSign, createVerify, sign, verify } = require('./crypto/sign.js');

module.exports = {
  createHash,
  createHmac,
  hash,
  getHashes,
  Hash,
  Hmac,
  randomBytes,
  randomFill,
  randomFillSync,
  randomInt,
  randomUUID,
  getRandomValues,
  timingSafeEqual,
  pbkdf2,
  hkdf,
  KeyObject,
  createSecretKey,
  createPublicKey,
  createPrivateKey,
  createSign,
  createVerify,
  sign,
  verify,
  Sign,
  Verify,
  constants,
  webcrypto: globalThis.crypto,
  subtle: globalThis.crypto.subtle,
};
