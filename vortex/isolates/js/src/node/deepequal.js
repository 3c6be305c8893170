// util.isDeepStrictEqual, as assert.deepStrictEqual compares: same prototypes, own enumerable
// keys (symbols too), Object.is for primitives, Dates by time, RegExps by source and flags,
// typed arrays by bytes, Maps and Sets by content. Cycles compare equal where they meet again.
// Not `strict` (assert.deepEqual): primitives compare by ==, prototypes are not compared.
const isPrimitive = (value) => value === null || (typeof value !== 'object' && typeof value !== 'function');

function same(a, b, seen, strict) {
  if (Object.is(a, b)) return true;
  if (!strict && isPrimitive(a) && isPrimitive(b)) return a == b;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (strict && Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  const tag = Object.prototype.toString.call(a);
  if (tag !== Object.prototype.toString.call(b)) return false;
  // A pair being compared further up is taken as equal where a cycle meets it again; once its
  // comparison is over it is forgotten, whatever the answer: a pair that failed inside a Set's
  // search for a match must not count as equal the next time it is met.
  let known = seen.get(a);
  if (known !== undefined && known.has(b)) return true;
  if (known === undefined) seen.set(a, (known = new Set()));
  known.add(b);
  try {
    return sameObjects(a, b, seen, strict);
  } finally {
    known.delete(b);
  }
}

function sameObjects(a, b, seen, strict) {
  if (a instanceof Date && a.getTime() !== b.getTime()) return false;
  if (a instanceof RegExp && (a.source !== b.source || a.flags !== b.flags)) return false;
  if (ArrayBuffer.isView(a) || a instanceof ArrayBuffer) {
    const x = ArrayBuffer.isView(a) ? new Uint8Array(a.buffer, a.byteOffset, a.byteLength) : new Uint8Array(a);
    const y = ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b);
    if (x.length !== y.length || x.some((byte, i) => byte !== y[i])) return false;
  }
  if (a instanceof Map) {
    if (a.size !== b.size) return false;
    for (const [key, value] of a) {
      if (!b.has(key) || !same(value, b.get(key), seen, strict)) return false;
    }
  }
  if (a instanceof Set) {
    if (a.size !== b.size) return false;
    for (const value of a) {
      if (b.has(value)) continue;
      if (strict && isPrimitive(value)) return false;
      let found = false;
      for (const other of b) if ((!strict || typeof other === 'object') && same(value, other, seen, strict)) found = true;
      if (!found) return false;
    }
  }
  if ((a instanceof Error) && (a.message !== b.message || a.name !== b.name)) return false;
  const keysA = ownKeys(a);
  const keysB = ownKeys(b);
  if (keysA.length !== keysB.length) return false;
  for (const key of keysA) {
    if (!Object.prototype.propertyIsEnumerable.call(b, key)) return false;
    if (!same(a[key], b[key], seen, strict)) return false;
  }
  return true;
}

function ownKeys(value) {
  const keys = Reflect.ownKeys(value).filter((key) => Object.prototype.propertyIsEnumerable.call(value, key));
  // A typed array's indices were compared as bytes above.
  return ArrayBuffer.isView(value) ? keys.filter((key) => typeof key === 'symbol' || !/^\d+$/.test(key)) : keys;
}

export function isDeepStrictEqual(a, b) {
  return same(a, b, new Map(), true);
}

export function isDeepEqual(a, b) {
  return same(a, b, new Map(), false);
}
