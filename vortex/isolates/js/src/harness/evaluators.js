// Code compiled from a string while a run goes on (`eval`, `new Function`) is limited in size.
// Compiling is one native call with no interrupt check in it: `new Function('return ' +
// 'x+'.repeat(2e7) + 'x')`, 40 MB, took 4.8 s here, past the supervisor's backstop (the CPU limit
// + 2 s), and the host was killed with every run on it. 10 MiB, a deployed script's own limit by
// default (VORTEX_MAX_CODE_BYTES), compiles in ~1.2 s at worst here. Workers refuse code from
// strings altogether; Vortex keeps SES's safe evaluators, within this size.
const MAX_SOURCE_CHARS = 10 << 20;

function tooLong(chars) {
  return new RangeError(
    `Code compiled at run time (eval, new Function) is limited to ${MAX_SOURCE_CHARS >> 20} Mi characters; this was ${Math.ceil(chars / 2 ** 20)} Mi`,
  );
}

// Replaces `global`'s eval and Function, before its first evaluation (and before they are made
// constants): the only ways to SES's evaluators of the compartment, since the intrinsic
// constructors that `(function () {}).constructor` and the like reach are inert.
export function guardEvaluators(global) {
  const evaluate = global.eval;
  const construct = global.Function;
  const guardedEval = new Proxy(evaluate, {
    apply(target, thisArg, args) {
      const source = args[0];
      if (typeof source === 'string' && source.length > MAX_SOURCE_CHARS) throw tooLong(source.length);
      return Reflect.apply(target, thisArg, args);
    },
  });
  // Each argument is converted once, here, as the constructor would: what is checked is what
  // is compiled, whatever a toString returns on a second call.
  const sources = (args) => {
    const strings = [];
    let chars = 0;
    for (const arg of args) {
      const text = `${arg}`;
      chars += text.length;
      if (chars > MAX_SOURCE_CHARS) throw tooLong(chars);
      strings.push(text);
    }
    return strings;
  };
  const guardedFunction = new Proxy(construct, {
    apply(target, thisArg, args) {
      return Reflect.apply(target, thisArg, sources(args));
    },
    construct(target, args, newTarget) {
      return Reflect.construct(target, sources(args), newTarget === guardedFunction ? target : newTarget);
    },
  });
  for (const [name, value] of [['eval', guardedEval], ['Function', guardedFunction]]) {
    const descriptor = Object.getOwnPropertyDescriptor(global, name);
    if (descriptor === undefined || !descriptor.configurable) continue;
    Object.defineProperty(global, name, { ...descriptor, value });
  }
}
