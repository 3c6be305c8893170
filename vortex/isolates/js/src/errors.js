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
  return frames.length ? String(err.name) + ': ' + String(err.message) + '\n' + frames.join('\n') : '';
}

// {code, name, message, stack} of anything thrown; `inspect` formats non-Error values.
export function describeThrown(value, where, inspect) {
  if (value instanceof Error) {
    let name = 'Error';
    let message = '';
    try {
      name = String(value.name);
    } catch {
      /* odd getter: keep the default */
    }
    try {
      message = String(value.message);
    } catch {
      /* likewise */
    }
    const stack = userStack(value, where) || name + ': ' + message;
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
