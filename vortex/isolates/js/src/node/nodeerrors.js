// Errors shaped as Node's own (a `code` such as ERR_INVALID_ARG_TYPE beside the usual class),
// because libraries written for Node test `err.code`, not the message.
export function codedError(Kind, code, message) {
  const err = new Kind(message);
  err.code = code;
  return err;
}

// How Node's messages describe a value they refused: "Received type number (1)".
export function received(value) {
  if (value === null || value === undefined) return 'Received ' + value;
  if (typeof value === 'function') return 'Received function ' + (value.name || '<anonymous>');
  if (typeof value === 'object') {
    const ctor = Object.getPrototypeOf(value)?.constructor;
    return 'Received an instance of ' + (typeof ctor === 'function' && ctor.name ? ctor.name : 'Object');
  }
  let shown = typeof value === 'string' ? "'" + value + "'" : String(value);
  if (shown.length > 28) shown = shown.slice(0, 25) + '...';
  return 'Received type ' + typeof value + ' (' + shown + ')';
}

export function invalidArgType(name, expected, value) {
  return codedError(TypeError, 'ERR_INVALID_ARG_TYPE', `The "${name}" argument must be ${expected}. ${received(value)}`);
}

export function outOfRange(name, range, value) {
  return codedError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be ${range}. Received ${String(value)}`);
}
