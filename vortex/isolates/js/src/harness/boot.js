// What the runtime does to the start compartment around SES `lockdown()` (see index.js): the
// intrinsics captured while they are still the engine's, a toString that names no file of the
// host, and, once lockdown has run, the hardening of every prototype the web classes lead to.

// Captured before lockdown replaces the constructors reachable from prototypes with inert ones:
// compiling a body with the real one checks syntax without running anything.
export const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
export const ErrorPrototype = Error.prototype;
export const FunctionPrototype = Function.prototype;

// pythonmonkey loads core-js from its site-packages folder, so an error thrown inside a
// core-js polyfill (`Function.prototype.toString.call(1)`) named files of the host in its
// stack and fileName. Stacks show user frames only (stacks.js), and toString checks its
// receiver here, before core-js's, so that error is made in this file.
export function hideHostFiles() {
  const polyfilled = FunctionPrototype.toString;
  Object.defineProperty(FunctionPrototype, 'toString', {
    value: {
      toString() {
        if (typeof this !== 'function') {
          throw new TypeError("Function.prototype.toString requires that 'this' be a Function");
        }
        return Reflect.apply(polyfilled, this, []);
      },
    }.toString,
    writable: true,
    enumerable: false,
    configurable: true,
  });
}

export function hardenPrototypesReachableFrom(roots) {
  const seen = new Set();
  const queue = [...roots];
  while (queue.length) {
    const obj = queue.pop();
    if ((typeof obj !== 'object' && typeof obj !== 'function') || obj === null || seen.has(obj)) continue;
    seen.add(obj);
    const proto = Object.getPrototypeOf(obj);
    if (proto !== null) {
      harden(proto);
      queue.push(proto);
    }
    for (const key of Reflect.ownKeys(obj)) {
      const desc = Reflect.getOwnPropertyDescriptor(obj, key);
      if (desc && 'value' in desc) queue.push(desc.value);
    }
  }
}
