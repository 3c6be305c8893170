"""The script a host evaluates before SES for ArrayBuffer's methods that allocate.

SES (its immutable-ArrayBuffer shim) wraps ``ArrayBuffer.prototype.transfer``,
``transferToFixedLength`` and ``resize`` when ses.js is loaded, calling the methods it finds
then, and makes its wrappers non-writable and non-configurable: the harness cannot guard them
afterwards (js/src/harness/allocations.js guards the constructors). So these go first, and call
the check the harness hands the hook; until then they check nothing. The harness deletes the
global before any user code runs.
"""

from __future__ import annotations

BUFFER_HOOK_NAME = "VortexBufferHook"

BUFFER_HOOK_JS = (
    """(() => {
  const proto = ArrayBuffer.prototype;
  const apply = Reflect.apply;
  let check = null;
  for (const name of ['transfer', 'transferToFixedLength', 'resize']) {
    const original = proto[name];
    if (typeof original !== 'function') continue;
    const guarded = {
      [name](...args) {
        if (check !== null && args.length > 0) check(Number(args[0]));
        return apply(original, this, args);
      },
    }[name];
    Object.defineProperty(guarded, 'length', { value: original.length });
    const descriptor = Object.getOwnPropertyDescriptor(proto, name);
    Object.defineProperty(proto, name, { ...descriptor, value: guarded });
  }
  globalThis."""
    + BUFFER_HOOK_NAME
    + """ = (checker) => {
    if (check === null) check = checker;
  };
})();
"""
)
