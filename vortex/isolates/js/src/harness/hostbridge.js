// The host bridge (host.py's `host` object) as the runtime calls it.
// A Python exception raised under a call to the host becomes a JavaScript Error whose message
// is the Python traceback (file names of the host, source lines) and whose fileName is a path
// of the host. Calls to the host happen in user code's turns (a stream chunk, fetch(), a
// binding), so such an error would reach user code: it is replaced by a plain one here.
class PlatformError extends Error {}
export function guardHost(python) {
  const guarded = {};
  for (const name of Object.keys(python)) {
    const call = python[name];
    guarded[name] = function (...args) {
      try {
        return Reflect.apply(call, undefined, args);
      } catch {
        throw new PlatformError('Vortex could not pass this value to the platform');
      }
    };
  }
  return Object.freeze(guarded);
}
