// A long typed-array sort is stopped at the run's CPU limit, not by killing its host.
//
// `sort()` with no comparator is one native call with no interrupt check inside:
// `new Float32Array(32e6).sort()` (128 MiB, within the default memory limit) took 3.0 s here,
// past the supervisor's backstop (the limit + 2 s), and the host was killed with every run on
// it. Arrays of 32- and 64-bit elements past CHUNKED_FROM are therefore sorted in chunks, each
// one native call, and the chunks merged here, in JavaScript, whose loops take the interrupt.
// 8- and 16-bit ones are counted, not compared, by the engine (64M elements in under 0.1 s),
// and a comparator makes the engine's own sort JavaScript already: both are left to it.
// Installed on %TypedArray%.prototype before lockdown, so every compartment has it.
import { markPlatform } from './boot.js';

const CHUNK = 1 << 20; // elements per native sort: ~20 ms for Float32 here
const CHUNKED_FROM = 2 * CHUNK;

// The kinds sorted in chunks, and how two of their runs are merged.
const MERGES = {
  Int32Array: mergeIntegers,
  Uint32Array: mergeIntegers,
  BigInt64Array: mergeIntegers,
  BigUint64Array: mergeIntegers,
  Float32Array: mergeFloats,
  Float64Array: mergeFloats,
};

export function chunkLongSorts() {
  const TypedArray = Object.getPrototypeOf(Int8Array);
  const proto = TypedArray.prototype;
  const apply = Reflect.apply;
  const nativeSort = proto.sort;
  const nativeToSorted = proto.toSorted;
  const set = proto.set;
  const getter = (name) => Object.getOwnPropertyDescriptor(proto, name).get;
  const lengthOf = getter('length');
  const bufferOf = getter('buffer');
  const byteOffsetOf = getter('byteOffset');
  const kindOf = getter(Symbol.toStringTag);
  // The constructors are the allocation guard's (allocations.js), installed before this.
  const kinds = new Map(Object.entries(MERGES).map(([name, merge]) => [name, { Kind: globalThis[name], merge }]));

  // `array`'s kind ({ Kind, merge }) when its sort is ours to do, else undefined. Reads no
  // property `array` could define: a subclass or a Proxy gets the engine's checks and errors.
  const chunkedKind = (array) => {
    let kind;
    let length;
    try {
      kind = apply(kindOf, array, []);
      length = apply(lengthOf, array, []);
    } catch {
      return undefined;
    }
    return length >= CHUNKED_FROM ? kinds.get(kind) : undefined;
  };

  // Sorts `array` in place: chunks natively, then bottom-up merges between it and a scratch
  // array of the same size. Views are made with the kind's own constructor, so no species or
  // subclass code runs in between.
  const sortInChunks = (array, { Kind, merge }) => {
    const length = apply(lengthOf, array, []);
    const view = new Kind(apply(bufferOf, array, []), apply(byteOffsetOf, array, []), length);
    for (let start = 0; start < length; start += CHUNK) {
      apply(nativeSort, view.subarray(start, Math.min(start + CHUNK, length)), []);
    }
    let from = view;
    let to = new Kind(length);
    for (let width = CHUNK; width < length; width *= 2) {
      for (let low = 0; low < length; low += 2 * width) {
        const middle = Math.min(low + width, length);
        const high = Math.min(low + 2 * width, length);
        if (middle === high) apply(set, to, [from.subarray(low, high), low]);
        else merge(from, to, low, middle, high);
      }
      [from, to] = [to, from];
    }
    if (from !== view) apply(set, view, [from]);
  };

  const methods = {
    sort(comparefn) {
      const kind = comparefn === undefined ? chunkedKind(this) : undefined;
      if (kind === undefined) return apply(nativeSort, this, [comparefn]);
      sortInChunks(this, kind);
      return this;
    },
    toSorted(comparefn) {
      const kind = comparefn === undefined ? chunkedKind(this) : undefined;
      if (kind === undefined) return apply(nativeToSorted, this, [comparefn]);
      const copy = new kind.Kind(apply(lengthOf, this, []));
      apply(set, copy, [this]);
      sortInChunks(copy, kind);
      return copy;
    },
  };
  for (const name of ['sort', 'toSorted']) {
    if (typeof proto[name] !== 'function') continue;
    Object.defineProperty(proto, name, { ...Object.getOwnPropertyDescriptor(proto, name), value: methods[name] });
  }
  markPlatform([methods.sort, methods.toSorted]);
}

function mergeIntegers(from, to, low, middle, high) {
  let i = low;
  let j = middle;
  let k = low;
  while (i < middle && j < high) {
    const x = from[i];
    const y = from[j];
    if (y < x) {
      to[k++] = y;
      j++;
    } else {
      to[k++] = x;
      i++;
    }
  }
  copyRest(from, to, i, middle, j, high, k);
}

// The order of a typed array's sort: numbers ascending, -0 before +0, NaN last.
function mergeFloats(from, to, low, middle, high) {
  let i = low;
  let j = middle;
  let k = low;
  while (i < middle && j < high) {
    const x = from[i];
    const y = from[j];
    let yFirst;
    if (y < x) yFirst = true;
    else if (y > x) yFirst = false;
    else if (y === x) yFirst = y === 0 && 1 / y < 0 && 1 / x > 0;
    else yFirst = x !== x && y === y; // a NaN: numbers before it
    if (yFirst) {
      to[k++] = y;
      j++;
    } else {
      to[k++] = x;
      i++;
    }
  }
  copyRest(from, to, i, middle, j, high, k);
}

// What is left of the two runs once one is used up: one of them, in order.
function copyRest(from, to, i, middle, j, high, k) {
  while (i < middle) to[k++] = from[i++];
  while (j < high) to[k++] = from[j++];
}
