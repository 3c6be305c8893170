// The host bridge (host.py's `host` object) as the runtime calls it.
// A Python exception raised under a call to the host becomes a JavaScript Error whose message
// is the Python traceback (file names of the host, source lines) and whose fileName is a path
// of the host. Calls to the host happen in user code's turns (a stream chunk, fetch(), a
// binding), so such an error would reach user code: it is replaced by a plain one here.
import { newEpoch } from './asynccontext.js';

class PlatformError extends Error {}

function guard(call) {
  return function (...args) {
    try {
      return Reflect.apply(call, undefined, args);
    } catch {
      throw new PlatformError('Vortex could not pass this value to the platform');
    }
  };
}

export function guardHost(python) {
  const guarded = {};
  for (const name of Object.keys(python)) guarded[name] = guard(python[name]);
  // A timer's callback is a call from Python into the runtime, as a promise job is: it starts
  // a new async-context epoch, so no frame set before it is current in it (asynccontext.js).
  const setTimer = guarded.setTimer;
  if (setTimer !== undefined) {
    guarded.setTimer = (callback, delay) =>
      setTimer(() => {
        newEpoch();
        callback();
      }, delay);
  }
  return Object.freeze(guarded);
}
