// A buffer larger than the run's memory limit ends the run when it is asked for
// (`memory_limit_exceeded`), rather than kill the host.
//
// The host measures a run's memory between its turns and, during a long one, at the interrupt
// checks of its JavaScript. A native call makes none: `new Uint8Array(1.5 GiB).fill(1)` is one
// allocation (lazily zeroed pages, nothing resident yet) and one memset that touches them all,
// and the host's memory cgroup killed the host, with every run on it, before the run could be
// stopped. The constructors are therefore guarded in the start compartment before lockdown, so
// every compartment, and the prototypes' `constructor`, species and subclasses (`class B extends
// Uint8Array`) reach only the guarded ones; ArrayBuffer's methods that allocate were guarded
// before SES wrapped them (bufferhook.py), and WebAssembly's memories are (wasmlimits.js).
// A buffer within the limit is left to the measures: what a run holds is many allocations.
import { LimitError, host, runs } from './platform.js';
import { fail } from './ending.js';

// Below this, no lookup of the run: smaller buffers are met by the measures between turns.
const CHECKED_FROM = 1 << 20;

const TYPED_ARRAYS = [
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float16Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

const MiB = 1 << 20;
const NO_INVOCATION = -1; // turnclock.py's: a turn of no run
const BUFFER_HOOK = 'VortexBufferHook'; // bufferhook.py's BUFFER_HOOK_NAME

// The running run's memory limit in bytes: 0 for none, or for a turn of no run.
export function runLimitBytes() {
  if (host === null) return 0;
  const state = runs.get(host.current());
  return state === undefined ? 0 : state.limits.memory_mb * MiB;
}

// Called once, before lockdown. Returns the check, for what else allocates on a run's behalf.
export function guardAllocations() {
  const { isView } = ArrayBuffer;
  const byteLengthOf = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength').get;
  const isArrayBuffer = (value) => {
    try {
      Reflect.apply(byteLengthOf, value, []);
      return true;
    } catch {
      return false;
    }
  };

  const check = (bytes) => {
    if (!(bytes >= CHECKED_FROM) || host === null) return; // NaN, negative: the engine's to judge
    const current = host.current();
    if (current === NO_INVOCATION) return; // the host's own work
    const state = runs.get(current);
    // Code of a run that has ended (it caught the error this throws, say): nothing more for it.
    if (state === undefined || state.done) throw new LimitError('This invocation has already ended');
    const limitMb = state.limits.memory_mb;
    if (limitMb > 0 && bytes > limitMb * MiB) {
      const text = `Memory limit of ${limitMb} MiB per run exceeded: one buffer of ${Math.ceil(bytes / MiB)} MiB was asked for`;
      fail(state, 'memory_limit_exceeded', text);
      throw new LimitError(text);
    }
  };

  // The elements a typed array constructor will allocate for these arguments: a length, or
  // an array-like's (an iterable's elements are read by JavaScript, whose checks see them).
  const elementsFor = (first) => {
    if (typeof first === 'number') return first;
    if (typeof first !== 'object' || first === null) return 0;
    if (isView(first) || isArrayBuffer(first) || Array.isArray(first)) return 0;
    if (Symbol.iterator in first) return 0;
    return Number(first.length);
  };

  const guard = (name, bytesOf) => {
    const target = globalThis[name];
    if (typeof target !== 'function') return;
    const guarded = new Proxy(target, {
      construct(constructor, args, newTarget) {
        check(bytesOf(constructor, args));
        return Reflect.construct(constructor, args, newTarget === guarded ? constructor : newTarget);
      },
    });
    Object.defineProperty(target.prototype, 'constructor', {
      value: guarded,
      writable: true,
      enumerable: false,
      configurable: true,
    });
    globalThis[name] = guarded;
  };

  for (const name of TYPED_ARRAYS) {
    guard(name, (constructor, args) => elementsFor(args[0]) * constructor.BYTES_PER_ELEMENT);
  }
  // A resizable one's maxByteLength counts: the engine may allocate it at once.
  guard('ArrayBuffer', (_, args) => {
    const options = args[1];
    const max = typeof options === 'object' && options !== null ? Number(options.maxByteLength) : 0;
    return Math.max(Number(args[0]), max || 0);
  });
  // ArrayBuffer's methods that allocate were guarded before SES wrapped them (bufferhook.py).
  const hook = globalThis[BUFFER_HOOK];
  delete globalThis[BUFFER_HOOK];
  if (typeof hook === 'function') hook(check);
  return check;
}
