"""The one script a host evaluates before SES: what `err.stack` reads from then on.

SES keeps SpiderMonkey's `Error.prototype.stack` getter as it finds it when ses.js is loaded
and calls it from the accessor that ``lockdown()`` installs and freezes; nothing can be put in
between afterwards. So this getter goes first: until the harness hands it a formatter it reads
the engine's stack, and from then on the V8-style one user code expects
(``js/src/harness/stacks.js``). The harness takes the hook and the engine's own getter, which
Vortex's reports read, and deletes the global before any user code runs.
"""

from __future__ import annotations

STACK_HOOK_NAME = "VortexStackHook"

STACK_HOOK_JS = (
    """(() => {
  const proto = Error.prototype;
  const engine = Object.getOwnPropertyDescriptor(proto, 'stack');
  const read = engine.get;
  const apply = Reflect.apply;
  let format = null;
  Object.defineProperty(proto, 'stack', {
    ...engine,
    get() {
      return format === null ? apply(read, this, []) : format(this);
    },
  });
  globalThis."""
    + STACK_HOOK_NAME
    + """ = (formatter) => {
    if (format === null) format = formatter;
    return read;
  };
})();
"""
)
