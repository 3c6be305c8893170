// A classic script: top-level code is the body of an async function.
import { WRAP_PREFIX } from './platform.js';
import { describeThrown, makeConsole } from './logs.js';
import { end, settleIfIdle, settleLater } from './ending.js';
import { boundTo, compartmentFor, makeEnv, makeTimers, makeVortex } from './endowments.js';
import { newState } from './state.js';

export function run(id, code, limitsJson, filename, envJson, bindingsJson) {
  const state = newState(id, limitsJson, filename, false);
  let body;
  try {
    const live = boundTo(state);
    const env = makeEnv(live, envJson, bindingsJson);
    const compartment = compartmentFor({ console: makeConsole(live), ...makeTimers(live), Vortex: makeVortex(live, env) });
    body = compartment.evaluate(WRAP_PREFIX + code + '\n})');
  } catch (err) {
    end(state, null, describeThrown(state, err));
    return;
  }
  body().then(
    () => {
      state.bodySettled = true;
      // Reactions the body queued before it returned still run, unless it gave its value.
      if (state.returned) settleIfIdle(state);
      else settleLater(state);
    },
    (err) => {
      if (!state.done) end(state, null, describeThrown(state, err));
    },
  );
}
