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
//
// The platform's functions (fetch, the web classes and their methods, console's, the timers)
// print as the engine's own do, `function fetch() { [native code] }`, as they do on workerd:
// libraries test for it (@sentry/core's `isNativeFunction`, lodash's `isNative`), and the
// runtime's source is none of a function's business.
const platformFunctions = new WeakSet();
const walked = new WeakSet();

export function hideHostFiles() {
  const polyfilled = FunctionPrototype.toString;
  Object.defineProperty(FunctionPrototype, 'toString', {
    value: {
      toString() {
        if (typeof this !== 'function') {
          throw new TypeError("Function.prototype.toString requires that 'this' be a Function");
        }
        if (platformFunctions.has(this)) {
          const name = Reflect.getOwnPropertyDescriptor(this, 'name');
          return 'function ' + (name && typeof name.value === 'string' ? name.value : '') + '() {\n    [native code]\n}';
        }
        return Reflect.apply(polyfilled, this, []);
      },
    }.toString,
    writable: true,
    enumerable: false,
    configurable: true,
  });
}

// Every function reachable from `roots` (their properties, accessors and prototypes) is the
// platform's. Called before any user code exists: at boot for the shared globals, and for a
// compartment's endowments before it evaluates anything. What was walked is not walked again.
export function markPlatform(roots) {
  const queue = [...roots];
  while (queue.length) {
    const value = queue.pop();
    if ((typeof value !== 'object' && typeof value !== 'function') || value === null || walked.has(value)) continue;
    walked.add(value);
    if (typeof value === 'function') platformFunctions.add(value);
    for (const key of Reflect.ownKeys(value)) {
      const desc = Reflect.getOwnPropertyDescriptor(value, key);
      if (desc === undefined) continue;
      if ('value' in desc) queue.push(desc.value);
      else queue.push(desc.get, desc.set);
    }
    queue.push(Object.getPrototypeOf(value));
  }
}

// The same for what one compartment or run is given (its console, timers, fetch, env...): the
// functions among `values` and among their members, two levels down. Made afresh for each
// script run, so cheaper than the walk: functions' own properties and prototypes (the
// platform's, walked at boot) are not looked into.
export function markEndowments(values, depth = 2) {
  for (const value of values) {
    if (typeof value === 'function') {
      platformFunctions.add(value);
    } else if (depth > 0 && typeof value === 'object' && value !== null && !walked.has(value)) {
      const members = [];
      for (const key of Reflect.ownKeys(value)) {
        const desc = Reflect.getOwnPropertyDescriptor(value, key);
        if (desc === undefined) continue;
        if ('value' in desc) members.push(desc.value);
        else members.push(desc.get, desc.set);
      }
      markEndowments(members, depth - 1);
    }
  }
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

// Workers code assigns over the methods of the web objects it holds: the AI SDK gives a stream
// of its own an iterator (`stream[Symbol.asyncIterator] = function () {...}`), which threw
// "Symbol.asyncIterator is read-only" because the prototype it shadows is frozen (the "override
// mistake" of strict code). SES lifts it for the intrinsics it knows (overrideTaming), not for
// these classes. So each writable data property of a web prototype becomes an accessor, as SES
// makes its own: reading gives the value; assigning through an instance gives the instance an
// own property, as on an unfrozen prototype; assigning to the prototype, or through a frozen
// instance (every one runs share), throws as before. Called after lockdown, before the
// prototypes are hardened; each value is hardened here, as no walk of harden reaches it now.
export function allowOverrides(roots) {
  const seen = new Set();
  const queue = [...roots];
  const prototype = (proto) => {
    if (typeof proto !== 'object' || proto === null || seen.has(proto)) return;
    // A frozen one is SES's: an intrinsic, whose overrides lockdown already chose.
    if (!Object.isFrozen(proto)) overridable(proto);
    queue.push(proto);
  };
  while (queue.length) {
    const obj = queue.pop();
    if ((typeof obj !== 'object' && typeof obj !== 'function') || obj === null || seen.has(obj)) continue;
    seen.add(obj);
    if (typeof obj === 'function') prototype(obj.prototype);
    prototype(Object.getPrototypeOf(obj));
  }
}

function overridable(proto) {
  for (const key of Reflect.ownKeys(proto)) {
    const desc = Reflect.getOwnPropertyDescriptor(proto, key);
    if (!('value' in desc) || !desc.writable || !desc.configurable || key === 'constructor') continue;
    const value = harden(desc.value);
    markPlatform([value]); // read through the accessor, which the walk does not call
    const name = typeof key === 'symbol' ? `[${key.description}]` : key;
    const { get, set } = Reflect.getOwnPropertyDescriptor(
      {
        get [key]() {
          return value;
        },
        set [key](assigned) {
          if (this === proto) throw new TypeError(`Cannot assign to read only property '${name}'`);
          if (Object.hasOwn(this, key)) {
            this[key] = assigned;
          } else {
            Object.defineProperty(this, key, { value: assigned, writable: true, enumerable: true, configurable: true });
          }
        },
      },
      key,
    );
    Object.defineProperty(proto, key, { get, set, enumerable: desc.enumerable, configurable: true });
  }
}
