// The trusted side of a host process, bundled by esbuild (`npm run build`) into
// dist/harness.js: evaluated once at boot in the start compartment, after the web APIs bundle
// (`webapi`, see ../webapi.js) and before SES `lockdown()`, which `prepare` calls. It builds one
// Compartment per invocation and hands user code only what Vortex grants. User code never sees
// anything defined here except the hardened endowments, and only strings and numbers cross to
// Python (through the `host` bridge of host.py). runtime.js maps the other modules.
import { allowOverrides, hardenPrototypesReachableFrom, hideHostFiles, markPlatform } from './boot.js';
import { guardAllocations, runLimitBytes } from './allocations.js';
import { chunkLongSorts } from './sorting.js';
import { captureIntrinsics, setInternals } from './platform.js';
import { hardenContexts } from './context.js';
import { makeSharedGlobal } from './sharedglobal.js';
import { makeRuntime } from './runtime.js';
import { takeStackHook } from './stacks.js';

export function prepare(webapi) {
  hideHostFiles();
  takeStackHook(webapi.internals);
  webapi.internals.setAllocationCheck(guardAllocations(), runLimitBytes);
  chunkLongSorts();

  lockdown({
    errorTaming: 'unsafe', // keep `stack`: V8's format of the run's own frames (stacks.js)
    stackFiltering: 'verbose',
    consoleTaming: 'unsafe',
    // Every property of Object.prototype (and of typed arrays' and Map's) becomes an accessor
    // whose setter gives the assigned object an own property: code written before classes
    // assigns `Fn.prototype.constructor`, webpack's and rollup's CommonJS output assigns
    // `exports.hasOwnProperty`, feross/buffer assigns TypedArray methods, and under 'moderate'
    // each threw "is read-only" (the override mistake). Object.prototype itself stays frozen.
    overrideTaming: 'severe',
    evalTaming: 'safe-eval',
    // SES's 'safe' default makes toLocaleString & co. ignore locales and options (a Date's
    // toLocaleTimeString('en-US', { timeZone }) gave toString()'s text). Intl is endowed and
    // says the same about the host (en-US, UTC), so the native methods reveal nothing more,
    // and Workers code formats dates, numbers and currencies with them.
    localeTaming: 'unsafe',
  });
  // SES leaves these outside its frozen intrinsics; every compartment shares them, so freeze them.
  harden(Intl);
  hardenContexts();
  // The web classes are shared by every run: frozen once here, with every prototype that their
  // instances lead to (readers, controllers, iterators, implementation objects).
  // SES leaves the float typed arrays out of new compartments on this SpiderMonkey (it knows
  // no Float16Array); lockdown froze the start compartment's, so they are endowed from there.
  const floatArrays = {};
  for (const name of ['Float16Array', 'Float32Array', 'Float64Array']) {
    if (typeof globalThis[name] === 'function') floatArrays[name] = globalThis[name];
  }
  const samples = webapi.samples();
  allowOverrides([...Object.values(webapi.globals), ...samples]);
  const shared = harden({ ...webapi.globals, ...floatArrays, Intl });
  const singletons = harden(webapi.singletons());
  hardenPrototypesReachableFrom(samples);
  markPlatform([shared, singletons, ...samples]);
  setInternals(webapi.internals);
  makeSharedGlobal(shared);
  captureIntrinsics();
  return makeRuntime;
}
