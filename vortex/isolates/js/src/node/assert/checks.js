// What assert.throws and assert.rejects accept as the expected error, checked as Node does: a
// class (instanceof), a RegExp (tested on String(error)), a validation function (must return
// true) or an object whose every property the error must have, deep-strictly.
import { isDeepStrictEqual } from '../deepequal.js';
import { AssertionError, inspect } from './error.js';

const isRegExp = (value) => value instanceof RegExp;

function failure(actual, expected, operator, message, generated) {
  const err = new AssertionError({ actual, expected, operator, message: message ?? generated });
  err.generatedMessage = message == null;
  return err;
}

const isErrorClass = (fn) => fn === Error || Error.isPrototypeOf(fn);

// True when `actual` is what `expected` wants, or an AssertionError thrown that says why not.
export function matches(actual, expected, operator, message) {
  if (typeof expected === 'function') {
    if (expected.prototype !== undefined && actual instanceof expected) return true;
    if (isErrorClass(expected)) {
      const got = actual instanceof Error ? actual.constructor?.name : inspect(actual);
      const said = actual instanceof Error ? `\n\nError message:\n\n${actual.message}` : '';
      throw failure(actual, expected, operator, message, `The error is expected to be an instance of "${expected.name}". Received "${got}"${said}`);
    }
    // Any other function validates: it must return true.
    const result = expected.call({}, actual);
    if (result === true) return true;
    throw failure(actual, expected, operator, message, `The validation function is expected to return "true". Received ${inspect(result)}\n\nCaught error:\n\n${inspect(actual)}`);
  }
  if (isRegExp(expected)) {
    if (expected.test(String(actual))) return true;
    throw failure(actual, expected, operator, message, `The input did not match the regular expression ${inspect(expected)}. Input:\n\n${inspect(String(actual))}\n`);
  }
  if (expected !== null && typeof expected === 'object') {
    const keys = Reflect.ownKeys(expected);
    if (expected instanceof Error) keys.push('name', 'message');
    for (const key of keys) {
      const want = expected[key];
      const got = actual == null ? undefined : actual[key];
      const ok = isRegExp(want) && typeof got === 'string' ? want.test(got) : isDeepStrictEqual(got, want);
      if (!ok) {
        const diff = `+   ${String(key)}: ${inspect(got)}\n-   ${String(key)}: ${inspect(want)}`;
        throw failure(actual, expected, operator, message, `Expected values to be strictly deep-equal:\n+ actual - expected\n\n  Comparison {\n${diff}\n  }`);
      }
    }
    return true;
  }
  throw Object.assign(new TypeError('The "expected" argument must be of type function or an instance of Error, RegExp, or Object'), { code: 'ERR_INVALID_ARG_TYPE' });
}

// For doesNotThrow and doesNotReject: does the error thrown match `expected`? If not, it is
// thrown on as it was, not reported as unwanted.
export function isMatching(actual, expected) {
  if (typeof expected !== 'function') return isRegExp(expected) && expected.test(String(actual));
  if (expected.prototype !== undefined && actual instanceof expected) return true;
  if (isErrorClass(expected)) return false;
  return expected.call({}, actual) === true;
}
