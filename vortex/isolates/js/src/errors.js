// Errors as a user sees them: a stack of their own frames only, with positions in their file.
// User frames are the ones evaluated through a compartment's evaluate: "name@... > eval:L:C";
// SpiderMonkey marks the first frame reached through an `await` "async*name@...".
const USER_FRAME = /^(.*?)@.*> eval:(\d+):(\d+)$/;
const ASYNC_MARK = 'async*';

// SpiderMonkey's own `stack` getter, taken before SES wrapped it (vortex/isolates/stackhook.py):
// reports read the engine's frames through it, whatever `stack` user code sees or assigns.
let engineStack = null;
export function setEngineStack(read) {
  if (engineStack === null) engineStack = read;
}

// The engine's text, or null for what is no error of the engine's (Object.create of
// Error.prototype, a Proxy).
function engineText(err) {
  try {
    const text = engineStack === null ? String(err.stack) : Reflect.apply(engineStack, err, []);
    return typeof text === 'string' ? text : null;
  } catch {
    return null;
  }
}

// `where` = {filename, firstLineShift, linkerFrom, linkerUntil}: the script wrapper puts text
// before user code on line 1; a module's built script has the linker's own lines up to
// linkerUntil and from linkerFrom (harness/stacks.js).
function userFrames(raw, where) {
  const frames = [];
  for (const line of raw.split('\n')) {
    const m = USER_FRAME.exec(line);
    if (!m) continue;
    const lineNo = Number(m[2]);
    if (where.linkerFrom !== undefined && (lineNo >= where.linkerFrom || lineNo <= where.linkerUntil)) continue;
    const col = lineNo === 1 ? Math.max(1, Number(m[3]) - where.firstLineShift) : Number(m[3]);
    frames.push({ name: m[1], line: lineNo, col });
  }
  return frames;
}

export function userStack(err, where) {
  const raw = engineText(err);
  if (raw === null) return '';
  const frames = [];
  for (const frame of userFrames(raw, where)) {
    const fn = frame.name.replace(/\/<$/, '').replace(/\*$/, '') || '<anonymous>';
    frames.push('    at ' + fn + ' (' + where.filename + ':' + frame.line + ':' + frame.col + ')');
  }
  if (!frames.length) return '';
  return safeString(() => err.name, 'Error') + ': ' + safeString(() => err.message, '(its message could not be read)') + '\n' + frames.join('\n');
}

// The first line of a V8 stack: Error.prototype.toString's text, read from the error as it is.
function v8Header(err) {
  const name = safeString(() => (err.name === undefined ? 'Error' : err.name), 'Error');
  const message = safeString(() => (err.message === undefined ? '' : err.message), '');
  if (name === '') return message;
  return message === '' ? name : name + ': ' + message;
}

// Frames as V8 prints them: "    at fn (file:L:C)", "    at file:L:C" for an anonymous
// function (SpiderMonkey names those after where they were made: "outer/<"), and "async "
// before every frame from the first one an await led to.
function v8Frames(raw, where) {
  let awaited = false;
  const lines = [];
  for (const frame of userFrames(raw, where)) {
    let name = frame.name;
    if (name.startsWith(ASYNC_MARK)) {
      awaited = true;
      name = name.slice(ASYNC_MARK.length);
    }
    const prefix = awaited ? '    at async ' : '    at ';
    const position = where.filename + ':' + frame.line + ':' + frame.col;
    lines.push(name === '' || name.includes('<') ? prefix + position : prefix + name + ' (' + position + ')');
  }
  return lines.join('\n');
}

// `err.stack` as user code reads it, made on its first read and kept (as V8 keeps it), or
// undefined for what is no error of the engine's, as V8 answers for those.
const v8Stacks = new WeakMap();
export function v8Stack(err, where) {
  const known = v8Stacks.get(err);
  if (known !== undefined) return known;
  const raw = engineText(err);
  if (raw === null) return undefined;
  const frames = v8Frames(raw, where);
  const text = v8Header(err) + (frames ? '\n' + frames : '');
  v8Stacks.set(err, text);
  return text;
}

// A user's error can be a Proxy, revoked or with throwing traps, or have getters that throw:
// describing it must never throw in turn, or the run would never be reported.
function safeString(read, fallback) {
  try {
    return String(read());
  } catch {
    return fallback;
  }
}

function isError(value) {
  try {
    return value instanceof Error;
  } catch {
    return false;
  }
}

// {code, name, message, stack} of anything thrown; `inspect` formats non-Error values.
export function describeThrown(value, where, inspect) {
  if (isError(value)) {
    const name = safeString(() => value.name, 'Error');
    const message = safeString(() => value.message, '(its message could not be read)');
    const stack = safeString(() => userStack(value, where), '') || name + ': ' + message;
    return { code: 'function_error', name, message, stack };
  }
  let text;
  try {
    text = inspect(value);
  } catch {
    text = '[unprintable value]';
  }
  return { code: 'function_error', name: 'Error', message: 'Uncaught ' + text, stack: 'Uncaught ' + text };
}
