// `err.stack` as Workers code reads it: V8's format ("    at fn (file:L:C)"), with the run's
// own frames only, made on the first read. SpiderMonkey's getter is wrapped by a hook that
// the host evaluates before SES (vortex/isolates/stackhook.py); its formatter is set here, once
// per host, and lives in the start compartment: no run can reach it, Error.prototype (frozen
// by lockdown) or another run's errors, so no run changes how another's stacks read.
//
// Error.captureStackTrace is not added here: lockdown freezes the `Error` every compartment
// shares, and a run's own `Error` standing in for it would no longer be the constructor of its
// errors (`Error.isPrototypeOf(TypeError)` false: node:assert's throws() tells classes by that).
// The SES the host boots from adds it where it makes that `Error` (../ses/capture-stack-trace.js),
// reading the caller's frames through the getter set here.
import { BUNDLE_NAME, host, runs } from './platform.js';

const STACK_HOOK = 'VortexStackHook'; // stackhook.py's STACK_HOOK_NAME
// Where a stack is read outside any run (the runtime's own code).
const NO_RUN = { filename: '<anonymous>', firstLineShift: 0 };

// The built script of a module ends with the linker's lines (vortex/modules/linker.py's
// _LINKER, which starts with these) and begins with three of its own: frames there are
// Vortex's, not the function's.
const LINKER_START = '\n  const loaded = new Map();\n';
const PRELUDE_LINES = 3;

export function moduleWhere(script) {
  const at = script.lastIndexOf(LINKER_START);
  if (at < 0) return { filename: BUNDLE_NAME, firstLineShift: 0 };
  let line = 1;
  for (let i = script.indexOf('\n'); i !== -1 && i <= at; i = script.indexOf('\n', i + 1)) line += 1;
  return { filename: BUNDLE_NAME, firstLineShift: 0, linkerFrom: line - 1, linkerUntil: PRELUDE_LINES };
}

function whereOfTurn() {
  if (host === null) return NO_RUN;
  let state;
  try {
    state = runs.get(host.current());
  } catch {
    return NO_RUN;
  }
  return state === undefined ? NO_RUN : state.where;
}

// Before lockdown: the formatter goes into the hook, and the engine's getter to the web APIs'
// describeThrown, which reports read. A host booted without the hook keeps SpiderMonkey's text.
export function takeStackHook(internals) {
  const hook = globalThis[STACK_HOOK];
  delete globalThis[STACK_HOOK];
  if (typeof hook !== 'function') return;
  const { v8Stack } = internals;
  internals.setEngineStack(hook((err) => v8Stack(err, whereOfTurn())));
}
