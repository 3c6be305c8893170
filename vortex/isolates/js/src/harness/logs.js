// Log lines and how a thrown value reads in them; the run's limits on lines and bytes.
import { ErrorCtor, LimitError, api, host } from './platform.js';
import { fail } from './ending.js';
import { elapsed } from './state.js';
import { renderTable } from './table.js';

function inspector(state) {
  if (state.inspector === null) state.inspector = api.makeInspector(state.where);
  return state.inspector;
}

// What SpiderMonkey throws when an allocation fails: the host's data limit (datalimit.py) or
// the machine said no. The run asked for more than its host may hold.
const OUT_OF_MEMORY = 'out of memory';

export function describeThrown(state, value) {
  if (value === OUT_OF_MEMORY) {
    const message = 'Out of memory: the run asked for more memory at once than its host may hold';
    return { code: 'memory_limit_exceeded', name: 'Error', message, stack: '' };
  }
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

// Counters, timers and group depth are the run's, as its log lines are: a warm instance's next
// request starts with none.
function consoleState(state) {
  if (state.console === null) state.console = { counts: new Map(), timers: new Map(), indent: '' };
  return state.console;
}

function emit(state, level, text) {
  const { indent } = consoleState(state);
  writeLog(state, level, indent === '' ? text : indent + text.replace(/\n/g, '\n' + indent));
}

function label(value) {
  return value === undefined ? 'default' : String(value);
}

function duration(state, started) {
  return Number((elapsed(state) - started).toFixed(3)) + 'ms';
}

// The Console Standard's methods, with Node's wording. workerd has them all but logs only
// log/info/warn/error/debug outside devtools; here they write to the run's log, as
// `wrangler dev`'s devtools show them (docs/http-functions.md, "Globals").
export function makeConsole(live) {
  const write = (level) => (...args) => {
    const state = live();
    emit(state, level, inspector(state).formatArgs(args));
  };
  const log = write('log');
  const group = (...data) => {
    const state = live();
    if (data.length > 0) emit(state, 'log', inspector(state).formatArgs(data));
    consoleState(state).indent += '  ';
  };
  return {
    log,
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    debug: write('debug'),
    trace: write('debug'),
    dirxml: log,
    assert(condition, ...data) {
      if (condition) return;
      const state = live();
      if (typeof data[0] === 'string') data[0] = 'Assertion failed: ' + data[0];
      else data.unshift('Assertion failed');
      emit(state, 'error', inspector(state).formatArgs(data));
    },
    count(name) {
      const state = live();
      const { counts } = consoleState(state);
      const key = label(name);
      const count = (counts.get(key) || 0) + 1;
      counts.set(key, count);
      emit(state, 'log', key + ': ' + count);
    },
    countReset(name) {
      const state = live();
      const { counts } = consoleState(state);
      const key = label(name);
      if (counts.has(key)) counts.set(key, 0);
      else emit(state, 'warn', "Count for '" + key + "' does not exist");
    },
    time(name) {
      const state = live();
      const { timers } = consoleState(state);
      const key = label(name);
      if (timers.has(key)) emit(state, 'warn', "Timer '" + key + "' already exists");
      else timers.set(key, elapsed(state));
    },
    timeLog(name, ...data) {
      const state = live();
      const key = label(name);
      const started = consoleState(state).timers.get(key);
      if (started === undefined) {
        emit(state, 'warn', "Timer '" + key + "' does not exist");
        return;
      }
      const extra = data.length > 0 ? ' ' + inspector(state).formatArgs(data) : '';
      emit(state, 'log', key + ': ' + duration(state, started) + extra);
    },
    timeEnd(name) {
      const state = live();
      const { timers } = consoleState(state);
      const key = label(name);
      const started = timers.get(key);
      if (started === undefined) {
        emit(state, 'warn', "Timer '" + key + "' does not exist");
        return;
      }
      timers.delete(key);
      emit(state, 'log', key + ': ' + duration(state, started));
    },
    group,
    groupCollapsed: group,
    groupEnd() {
      const con = consoleState(live());
      con.indent = con.indent.slice(2);
    },
    dir(item) {
      const state = live();
      emit(state, 'log', inspector(state).inspectValue(item));
    },
    table(data, properties) {
      const state = live();
      const shown = inspector(state).inspectValue;
      const table = data !== null && typeof data === 'object' ? renderTable(data, properties, shown) : null;
      emit(state, 'log', table === null ? inspector(state).formatArgs([data]) : table);
    },
    // Devtools' own (a cleared screen, profiles, a mark on the timeline): nothing to log, as in
    // Node without an inspector.
    clear() {},
    profile() {},
    profileEnd() {},
    timeStamp() {},
    [Symbol.toStringTag]: 'console',
  };
}
