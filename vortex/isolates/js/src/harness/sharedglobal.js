// The object every run's global inherits from (see compartmentFor in endowments.js).
import { markEndowments } from './boot.js';

// What belongs to one run but most runs never touch is made on first use, by a shared getter
// that finds the run whose turn it is (never the receiver's say) and caches the value as an
// own property of that run's global.
const perRun = new Map();
export function definePerRun(name, make) {
  perRun.set(name, make);
}

export let sharedGlobal = null;

// Every run's global inherits the shared globals from this one frozen object instead of
// getting ~40 own properties copied in (measured: that copy was most of what the web APIs
// added to a run). Accessors, not data properties: assigning `globalThis.URL = x` in a run
// must shadow it for that run, as in a browser, not hit the frozen prototype.
export function makeSharedGlobal(shared) {
  sharedGlobal = Object.create(Object.prototype);
  for (const [name, value] of Object.entries(shared)) {
    Object.defineProperty(sharedGlobal, name, {
      get() {
        return value;
      },
      set(replacement) {
        Object.defineProperty(this, name, { value: replacement, writable: true, enumerable: false, configurable: true });
      },
      enumerable: false,
      configurable: false,
    });
  }
  for (const name of ['fetch', 'crypto', 'performance', 'queueMicrotask']) {
    Object.defineProperty(sharedGlobal, name, {
      get() {
        const value = perRun.get(name)();
        markEndowments([value]); // made for this run, before its code holds it
        Object.defineProperty(this, name, { value, writable: true, enumerable: false, configurable: true });
        return value;
      },
      set(replacement) {
        Object.defineProperty(this, name, { value: replacement, writable: true, enumerable: false, configurable: true });
      },
      enumerable: false,
      configurable: false,
    });
  }
  harden(sharedGlobal);
}
