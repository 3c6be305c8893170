// Random bytes from the operating system, drawn in batches, and each compartment's Math.random.
import { Math, RANDOM_BATCH, api, host } from './platform.js';

let randomPool = new Uint8Array(0);
let randomOffset = 0;
export function osRandom(n) {
  if (randomOffset + n > randomPool.length) {
    randomPool = api.hostBytes(host.random(Math.max(RANDOM_BATCH, n)));
    randomOffset = 0;
  }
  const out = randomPool.slice(randomOffset, randomOffset + n);
  randomPool.fill(0, randomOffset, randomOffset + n);
  randomOffset += n;
  return out;
}

// Math.random of the engine is one stream per host, which every run on it draws from: a run
// that sees enough values of it (about 130) can compute the values runs after it get. Each
// compartment gets a Math of its own whose random() is a generator seeded from the operating
// system on first use; the other Math functions are the frozen intrinsics, inherited.
function makeRandom() {
  let a = 0;
  let b = 0;
  let c = 0;
  let d = 0;
  let seeded = false;
  function next() {
    // xoshiro128**: 32-bit words, so no BigInt and no float state.
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result;
  }
  return function random() {
    if (!seeded) {
      const seed = new Uint32Array(osRandom(16).buffer);
      [a, b, c, d] = seed;
      if ((a | b | c | d) === 0) a = 1;
      seeded = true;
    }
    // 53 random bits, as the engine's own: 27 high bits of one word and 26 of the next.
    return ((next() >>> 5) * 67108864 + (next() >>> 6)) / 9007199254740992;
  };
}
function rotl(x, k) {
  return (x << k) | (x >>> (32 - k));
}
let mathWithoutRandom = null;
// Once Math is the one captured after lockdown (platform.js).
export function prepareMath() {
  mathWithoutRandom = Object.create(Object.prototype, (() => {
    const descriptors = Object.getOwnPropertyDescriptors(Math);
    delete descriptors.random;
    return descriptors;
  })());
  harden(mathWithoutRandom);
}
export function mathForRun() {
  return harden(Object.create(mathWithoutRandom, { random: { value: makeRandom() } }));
}
