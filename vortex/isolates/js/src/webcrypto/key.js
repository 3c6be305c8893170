// CryptoKey: what user code sees of a key is its type, extractability, algorithm and usages;
// the key material lives in a private field that only the SubtleCrypto operations read
// (through `keyInternals`, which this module keeps to the web APIs bundle), and leaves only
// through exportKey/wrapKey of an extractable key.
import { defineToStringTag } from '../util.js';

const CONSTRUCT = Symbol('construct');
export const keyInternals = {};

export class CryptoKey {
  #type;
  #extractable;
  #algorithm;
  #usages;
  #handle;

  constructor(token, type, extractable, algorithm, usages, handle) {
    if (token !== CONSTRUCT) throw new TypeError('Illegal constructor');
    this.#type = type;
    this.#extractable = extractable;
    this.#algorithm = algorithm;
    this.#usages = Object.freeze(usages.slice());
    this.#handle = Object.freeze({ ...handle });
    // Frozen, so that no own property can shadow what the prototype's getters say.
    Object.freeze(this);
  }

  get type() {
    if (!(#type in this)) throw new TypeError('Illegal invocation');
    return this.#type;
  }

  get extractable() {
    if (!(#type in this)) throw new TypeError('Illegal invocation');
    return this.#extractable;
  }

  get algorithm() {
    if (!(#type in this)) throw new TypeError('Illegal invocation');
    return this.#algorithm;
  }

  get usages() {
    if (!(#type in this)) throw new TypeError('Illegal invocation');
    return this.#usages;
  }

  static {
    keyInternals.is = (value) => typeof value === 'object' && value !== null && #type in value;
    // `handle`: the algorithm as the operations read it (never the object user code sees,
    // which it may change) and the material (raw bytes, or DER of an asymmetric key).
    keyInternals.handle = (key) => key.#handle;
    keyInternals.create = (type, extractable, algorithm, usages, handle) =>
      new CryptoKey(CONSTRUCT, type, extractable, algorithm, usages, handle);
  }
}
defineToStringTag(CryptoKey, 'CryptoKey');
for (const name of ['type', 'extractable', 'algorithm', 'usages']) {
  Object.defineProperty(CryptoKey.prototype, name, { enumerable: true });
}

// The algorithm user code sees: frozen, and the same object at every read.
export function exposedAlgorithm(fields) {
  const out = {};
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    out[name] = name === 'hash' ? Object.freeze({ name: value }) : value;
  }
  return Object.freeze(out);
}
