// Log lines and how a thrown value reads in them; the run's limits on lines and bytes.
import { ErrorCtor, LimitError, api, host } from './platform.js';
import { fail } from './ending.js';

function inspector(state) {
  if (state.inspector === null) state.inspector = api.makeInspector(state.where);
  return state.inspector;
}

export function describeThrown(state, value) {
  return api.describeThrown(value, state.where, inspector(state).inspectValue);
}

export function errorLine(state, error) {
  const described = describeThrown(state, error);
  return error instanceof ErrorCtor ? described.stack : described.message.replace(/^Uncaught /, '');
}

export function writeLog(state, level, message) {
  state.logBytes += message.length;
  state.logLines += 1;
  if (state.logBytes > state.limits.log_bytes || state.logLines > state.limits.log_lines) {
    const text = 'Log volume exceeded its limit (' + state.limits.log_lines + ' lines or ' + state.limits.log_bytes + ' bytes per run)';
    fail(state, 'log_limit_exceeded', text);
    throw new LimitError(text);
  }
  host.emit(state.id, level, message);
}

export function makeConsole(live) {
  const write = (level) => (...args) => {
    const state = live();
    writeLog(state, level, inspector(state).formatArgs(args));
  };
  return {
    log: write('log'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    debug: write('debug'),
    trace: write('debug'),
  };
}
