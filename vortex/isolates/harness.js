// The trusted side of a host process: evaluated once at boot in the start compartment, before and
// after SES `lockdown()`. It builds one Compartment per invocation and hands user code only what
// Vortex grants. User code never sees anything defined here except the hardened endowments, and
// only strings and numbers cross to Python (through `host.emit` and `host.finish`).
(function prepare() {
  'use strict';

  // Captured before lockdown replaces the constructors reachable from prototypes with inert ones:
  // compiling a body with the real one checks syntax without running anything.
  const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
  const hostSetTimeout = globalThis.setTimeout;
  const hostClearTimeout = globalThis.clearTimeout;

  lockdown({
    errorTaming: 'unsafe', // keep `stack`, filtered below before any user sees it
    stackFiltering: 'verbose',
    consoleTaming: 'unsafe',
    overrideTaming: 'moderate',
    evalTaming: 'safe-eval',
  });
  // SES leaves these outside its frozen intrinsics; every compartment shares them, so freeze them.
  harden(Intl);
  const { Date, Math, JSON, Object: ObjectCtor, Array: ArrayCtor, Error: ErrorCtor } = globalThis;

  const WRAP_PREFIX = '(async function () {';
  const CHECK_PREFIX = "'use strict';";
  // The real AsyncFunction constructor puts the body two lines down.
  const CHECK_LINE_OFFSET = 2;

  return function makeRuntime(host) {
    const runs = new Map();

    // ---- console formatting, close to Node's util.inspect -------------------------------
    const MAX_DEPTH = 2;
    const BREAK_LENGTH = 72;

    function quote(s) {
      return "'" + s.replace(/\\/g, '\\\\').replace(/'/g, "\\'").replace(/\n/g, '\\n') + "'";
    }

    function keyText(key) {
      if (typeof key === 'symbol') return '[' + String(key) + ']';
      return /^[A-Za-z_$][\w$]*$/.test(key) ? key : quote(key);
    }

    function fnText(fn) {
      const src = Function.prototype.toString.call(fn);
      const name = fn.name;
      if (/^class\b/.test(src)) return '[class ' + (name || '(anonymous)') + ']';
      return name ? '[Function: ' + name + ']' : '[Function (anonymous)]';
    }

    function errorText(err) {
      const stack = typeof err.stack === 'string' ? userStack(err, 'index.js') : '';
      return stack || String(err.name) + ': ' + String(err.message);
    }

    function joinParts(open, parts, close, indent) {
      if (parts.length === 0) return open + close;
      const single = open + ' ' + parts.join(', ') + ' ' + close;
      if (single.length <= BREAK_LENGTH && !single.includes('\n')) return single;
      const pad = '  '.repeat(indent + 1);
      return open + '\n' + pad + parts.join(',\n' + pad) + '\n' + '  '.repeat(indent) + close;
    }

    function ownEntries(obj, depth, seen, indent) {
      const parts = [];
      for (const key of Reflect.ownKeys(obj)) {
        const desc = Reflect.getOwnPropertyDescriptor(obj, key);
        if (!desc || !desc.enumerable) continue;
        let text;
        if ('value' in desc) text = inspect(desc.value, depth + 1, seen, indent + 1);
        else text = desc.get && desc.set ? '[Getter/Setter]' : desc.get ? '[Getter]' : '[Setter]';
        parts.push(keyText(key) + ': ' + text);
      }
      return parts;
    }

    function inspect(value, depth, seen, indent) {
      switch (typeof value) {
        case 'string':
          return depth === 0 ? value : quote(value);
        case 'number':
          return Object.is(value, -0) ? '-0' : String(value);
        case 'bigint':
          return String(value) + 'n';
        case 'boolean':
        case 'undefined':
          return String(value);
        case 'symbol':
          return String(value);
        case 'function':
          return fnText(value);
        default:
          break;
      }
      if (value === null) return 'null';
      if (seen.includes(value)) return '[Circular *]';
      if (value instanceof ErrorCtor) return errorText(value);
      if (value instanceof Date) {
        return Number.isNaN(value.getTime()) ? 'Invalid Date' : value.toISOString();
      }
      if (value instanceof RegExp) return String(value);
      const isArray = ArrayCtor.isArray(value);
      if (depth > MAX_DEPTH) return isArray ? '[Array]' : '[Object]';
      seen.push(value);
      try {
        if (isArray) {
          const parts = [];
          const shown = Math.min(value.length, 100);
          for (let i = 0; i < shown; i += 1) parts.push(inspect(value[i], depth + 1, seen, indent + 1));
          if (value.length > shown) parts.push('... ' + (value.length - shown) + ' more items');
          return joinParts('[', parts, ']', indent);
        }
        if (value instanceof Map) {
          const parts = [];
          for (const [k, v] of value) {
            parts.push(inspect(k, depth + 1, seen, indent + 1) + ' => ' + inspect(v, depth + 1, seen, indent + 1));
          }
          return 'Map(' + value.size + ') ' + joinParts('{', parts, '}', indent);
        }
        if (value instanceof Set) {
          const parts = [];
          for (const v of value) parts.push(inspect(v, depth + 1, seen, indent + 1));
          return 'Set(' + value.size + ') ' + joinParts('{', parts, '}', indent);
        }
        if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
          const parts = [];
          const shown = Math.min(value.length, 100);
          for (let i = 0; i < shown; i += 1) parts.push(String(value[i]));
          if (value.length > shown) parts.push('... ' + (value.length - shown) + ' more items');
          return value.constructor.name + '(' + value.length + ') ' + joinParts('[', parts, ']', indent);
        }
        if (value instanceof Promise) return 'Promise { <pending> }';
        const proto = ObjectCtor.getPrototypeOf(value);
        const parts = ownEntries(value, depth, seen, indent);
        let prefix = '';
        if (proto === null) prefix = '[Object: null prototype] ';
        else if (proto !== ObjectCtor.prototype) {
          const ctor = proto.constructor;
          const name = typeof ctor === 'function' ? ctor.name : '';
          if (name && name !== 'Object') prefix = name + ' ';
        }
        return prefix + joinParts('{', parts, '}', indent);
      } finally {
        seen.pop();
      }
    }

    function formatArgs(args) {
      let rest = args;
      let head = '';
      if (typeof args[0] === 'string' && args[0].includes('%') && args.length > 1) {
        let i = 1;
        head = args[0].replace(/%([sdifjoOc%])/g, (match, spec) => {
          if (spec === '%') return '%';
          if (i >= args.length) return match;
          const arg = args[i++];
          switch (spec) {
            case 's': return typeof arg === 'string' ? arg : inspect(arg, 1, [], 0);
            case 'd':
            case 'i': return typeof arg === 'bigint' ? arg + 'n' : String(spec === 'i' ? parseInt(arg, 10) : Number(arg));
            case 'f': return String(parseFloat(arg));
            case 'j': try { return JSON.stringify(arg); } catch (e) { return '[Circular]'; }
            case 'c': return '';
            default: return inspect(arg, 1, [], 0);
          }
        });
        rest = args.slice(i);
        return [head, ...rest.map((a) => inspect(a, 0, [], 0))].join(' ');
      }
      return rest.map((a) => inspect(a, 0, [], 0)).join(' ');
    }

    // ---- errors -------------------------------------------------------------------------
    // User frames are the ones evaluated through the compartment's eval: "name@... > eval:L:C".
    const USER_FRAME = /^(.*?)@.*> eval:(\d+):(\d+)$/;

    function userStack(err, filename) {
      let raw;
      try {
        raw = String(err.stack);
      } catch (e) {
        return '';
      }
      const frames = [];
      for (const line of raw.split('\n')) {
        const m = USER_FRAME.exec(line);
        if (!m) continue;
        const lineNo = Number(m[2]);
        const col = lineNo === 1 ? Math.max(1, Number(m[3]) - WRAP_PREFIX.length) : Number(m[3]);
        const fn = m[1].replace(/\/<$/, '').replace(/\*$/, '') || '<anonymous>';
        frames.push('    at ' + fn + ' (' + filename + ':' + lineNo + ':' + col + ')');
      }
      return frames.length ? String(err.name) + ': ' + String(err.message) + '\n' + frames.join('\n') : '';
    }

    function describeThrown(value, filename) {
      if (value instanceof ErrorCtor) {
        let name = 'Error';
        let message = '';
        try { name = String(value.name); } catch (e) { /* odd getter: keep the default */ }
        try { message = String(value.message); } catch (e) { /* likewise */ }
        const stack = userStack(value, filename) || name + ': ' + message;
        return { code: 'function_error', name, message, stack };
      }
      let text;
      try {
        text = inspect(value, 1, [], 0);
      } catch (e) {
        text = '[unprintable value]';
      }
      return { code: 'function_error', name: 'Error', message: 'Uncaught ' + text, stack: 'Uncaught ' + text };
    }

    // ---- one invocation -------------------------------------------------------------------
    class LimitError extends ErrorCtor {}
    harden(LimitError);

    function end(state, outputJson, error) {
      if (state.done) return;
      state.done = true;
      for (const handle of state.timers.values()) hostClearTimeout(handle);
      state.timers.clear();
      runs.delete(state.id);
      host.finish(state.id, outputJson, error === null ? null : JSON.stringify(error));
    }

    function fail(state, code, message) {
      end(state, null, { code, name: 'Error', message, stack: '' });
    }

    function settleIfIdle(state) {
      if (state.done || !state.bodySettled) return;
      if (state.returned || state.timers.size === 0) end(state, state.outputJson, null);
    }

    function guardAlive(state) {
      if (state.done) throw new LimitError('This invocation has already ended');
    }

    function makeConsole(state) {
      const write = (level) => (...args) => {
        guardAlive(state);
        const message = formatArgs(args);
        state.logBytes += message.length;
        state.logLines += 1;
        if (state.logBytes > state.limits.log_bytes || state.logLines > state.limits.log_lines) {
          const text = 'Log volume exceeded its limit (' + state.limits.log_lines + ' lines or ' + state.limits.log_bytes + ' bytes per run)';
          fail(state, 'log_limit_exceeded', text);
          throw new LimitError(text);
        }
        host.emit(state.id, level, message);
      };
      const log = write('log');
      return {
        log,
        info: write('info'),
        warn: write('warn'),
        error: write('error'),
        debug: write('debug'),
        trace: write('debug'),
      };
    }

    function makeTimers(state) {
      function schedule(callback, ms, args, repeat) {
        guardAlive(state);
        if (typeof callback !== 'function') {
          throw new TypeError('The "callback" argument must be of type function');
        }
        if (state.timers.size >= state.limits.timers) {
          const text = 'Too many pending timers (limit ' + state.limits.timers + ' per run)';
          fail(state, 'timer_limit_exceeded', text);
          throw new LimitError(text);
        }
        const delay = Math.min(Math.max(Number(ms) || 0, 0), 2147483647);
        const id = state.nextTimer;
        state.nextTimer += 1;
        const fire = () => {
          if (state.done || !state.timers.has(id)) return;
          if (repeat) state.timers.set(id, hostSetTimeout(fire, Math.max(delay, 1)));
          else state.timers.delete(id);
          try {
            callback(...args);
          } catch (err) {
            if (!state.done) end(state, null, describeThrown(err, state.filename));
            return;
          }
          settleIfIdle(state);
        };
        state.timers.set(id, hostSetTimeout(fire, delay));
        return id;
      }
      function clear(id) {
        const handle = state.timers.get(id);
        if (handle === undefined) return;
        hostClearTimeout(handle);
        state.timers.delete(id);
        settleIfIdle(state);
      }
      return {
        setTimeout: (callback, ms, ...args) => schedule(callback, ms, args, false),
        setInterval: (callback, ms, ...args) => schedule(callback, ms, args, true),
        clearTimeout: clear,
        clearInterval: clear,
      };
    }

    function makeVortex(state) {
      return {
        return(value) {
          guardAlive(state);
          let text;
          try {
            text = JSON.stringify(value === undefined ? null : value);
          } catch (err) {
            const message = 'Vortex.return needs a JSON-serialisable value: ' + String(err && err.message);
            fail(state, 'invalid_return_value', message);
            throw new LimitError(message);
          }
          if (text === undefined) {
            const message = 'Vortex.return needs a JSON-serialisable value, got ' + typeof value;
            fail(state, 'invalid_return_value', message);
            throw new LimitError(message);
          }
          if (text.length > state.limits.output_bytes) {
            const message = 'The return value is larger than ' + state.limits.output_bytes + ' bytes';
            fail(state, 'output_too_large', message);
            throw new LimitError(message);
          }
          state.returned = true;
          state.outputJson = text;
          settleIfIdle(state);
        },
      };
    }

    function run(id, code, limitsJson, filename) {
      const limits = JSON.parse(limitsJson);
      const state = {
        id,
        limits,
        filename,
        done: false,
        bodySettled: false,
        returned: false,
        outputJson: null,
        timers: new Map(),
        nextTimer: 1,
        logBytes: 0,
        logLines: 0,
      };
      runs.set(id, state);
      const globals = {
        console: makeConsole(state),
        ...makeTimers(state),
        Vortex: makeVortex(state),
        Date,
        Math,
        Intl,
      };
      let body;
      try {
        const compartment = new Compartment({ __options__: true, globals: harden(globals) });
        body = compartment.evaluate(WRAP_PREFIX + code + '\n})');
      } catch (err) {
        end(state, null, describeThrown(err, filename));
        return;
      }
      body().then(
        () => {
          state.bodySettled = true;
          settleIfIdle(state);
        },
        (err) => {
          if (!state.done) end(state, null, describeThrown(err, filename));
        },
      );
    }

    function abort(id, code, message) {
      const state = runs.get(id);
      if (state) fail(state, code, message);
    }

    // Returns null, or a JSON text {message, line, column} for the first syntax problem.
    function check(code) {
      try {
        // eslint-disable-next-line no-new
        new AsyncFunction(CHECK_PREFIX + code);
      } catch (err) {
        if (err instanceof SyntaxError) {
          const line = Math.max(1, Number(err.lineNumber) - CHECK_LINE_OFFSET);
          const rawColumn = Number(err.columnNumber) || 1;
          const column = line === 1 ? Math.max(1, rawColumn - CHECK_PREFIX.length) : rawColumn;
          return JSON.stringify({ message: String(err.message), line, column });
        }
        return JSON.stringify({ message: String(err), line: null, column: null });
      }
      try {
        // The body is known to be a well-formed function body, so this only compiles it; it
        // surfaces what SES refuses (HTML-like comments, `import(`), which the engine accepts.
        new Compartment({ __options__: true, globals: {} }).evaluate(WRAP_PREFIX + code + '\n})');
      } catch (err) {
        const message = String(err && err.message);
        // SES names the line in its message ("... rejected at <unknown>:2. (SES_...)").
        const where = /at [^\s]*:(\d+)\. \(SES_/.exec(message);
        return JSON.stringify({ message, line: where ? Number(where[1]) : null, column: null });
      }
      return null;
    }

    return harden({ run, abort, check, active: () => runs.size });
  };
})();
