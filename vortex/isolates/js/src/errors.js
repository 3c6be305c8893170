// Errors as a user sees them: a stack of their own frames only, with positions in their file.
// User frames are the ones evaluated through a compartment's evaluate: "name@... > eval:L:C".
const USER_FRAME = /^(.*?)@.*> eval:(\d+):(\d+)$/;

// `where` = {filename, firstLineShift}: the script wrapper puts text before user code on line 1.
export function userStack(err, where) {
  let raw;
  try {
    raw = String(err.stack);
  } catch {
    return '';
  }
  const frames = [];
  for (const line of raw.split('\n')) {
    const m = USER_FRAME.exec(line);
    if (!m) continue;
    const lineNo = Number(m[2]);
    const col = lineNo === 1 ? Math.max(1, Number(m[3]) - where.firstLineShift) : Number(m[3]);
    const fn = m[1].replace(/\/<$/, '').replace(/\*$/, '') || '<anonymous>';
    frames.push('    at ' + fn + ' (' + where.filename + ':' + lineNo + ':' + col + ')');
  }
  if (!frames.length) return '';
  return safeString(() => err.name, 'Error') + ': ' + safeString(() => err.message, '(its message could not be read)') + '\n' + frames.join('\n');
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
