// node:assert, ours: the npm `assert` package needs Node's util and process internals. The
// checks and AssertionError (code, actual, expected, operator) are Node's; generated messages
// follow Node's wording but show values whole, without Node's line-by-line diff.
// `assert.strict` (and node:assert/strict) is the strict variant, as in Node.
const { isDeepEqual, isDeepStrictEqual } = require('./deepequal.js');
const { AssertionError, inspect } = require('./assert/error.js');
const { isMatching, matches } = require('./assert/checks.js');
const { codedError, invalidArgType, received } = require('./nodeerrors.js');

// A message that is an Error is thrown as it is, as Node does. Node marks the messages of a
// missing or unwanted exception as not generated, even when they are: `mine` says so.
function report(actual, expected, operator, message, generated, mine = message != null) {
  if (message instanceof Error) throw message;
  const err = new AssertionError({ actual, expected, operator, message: message ?? generated });
  err.generatedMessage = !mine;
  throw err;
}

const bothNaN = (a, b) => Number.isNaN(a) && Number.isNaN(b);

// Each value's lines marked, for the deep-equal failures.
function versus(actual, expected) {
  const mark = (sign, value) => inspect(value).split('\n').map((line) => sign + ' ' + line).join('\n');
  return '+ actual - expected\n\n' + mark('+', actual) + '\n' + mark('-', expected);
}

function innerOk(args) {
  if (args[0]) return;
  if (args.length === 0) report(undefined, true, '==', undefined, 'No value argument passed to `assert.ok()`');
  report(args[0], true, '==', args[1], `${inspect(args[0])} == true`);
}

function assert(...args) {
  innerOk(args);
}

function ok(...args) {
  innerOk(args);
}

function equal(actual, expected, message) {
  if (actual == expected || bothNaN(actual, expected)) return;
  report(actual, expected, '==', message, `${inspect(actual)} == ${inspect(expected)}`);
}

function notEqual(actual, expected, message) {
  if (actual != expected && !bothNaN(actual, expected)) return;
  report(actual, expected, '!=', message, `${inspect(actual)} != ${inspect(expected)}`);
}

function strictEqual(actual, expected, message) {
  if (Object.is(actual, expected)) return;
  const [a, e] = [inspect(actual), inspect(expected)];
  const generated = a === e
    ? `Values have same structure but are not reference-equal:\n\n${a}\n`
    : `Expected values to be strictly equal:\n\n${a} !== ${e}\n`;
  report(actual, expected, 'strictEqual', message, generated);
}

function notStrictEqual(actual, expected, message) {
  if (!Object.is(actual, expected)) return;
  report(actual, expected, 'notStrictEqual', message, `Expected "actual" to be strictly unequal to: ${inspect(expected)}`);
}

function deepEqual(actual, expected, message) {
  if (isDeepEqual(actual, expected)) return;
  report(actual, expected, 'deepEqual', message, `Expected values to be loosely deep-equal:\n\n${inspect(actual)}\n\nshould loosely deep-equal\n\n${inspect(expected)}`);
}

function notDeepEqual(actual, expected, message) {
  if (!isDeepEqual(actual, expected)) return;
  report(actual, expected, 'notDeepEqual', message, `Expected values not to be loosely deep-equal:\n\n${inspect(actual)}\n\nshould not loosely deep-equal\n\n${inspect(expected)}`);
}

function deepStrictEqual(actual, expected, message) {
  if (isDeepStrictEqual(actual, expected)) return;
  report(actual, expected, 'deepStrictEqual', message, 'Expected values to be strictly deep-equal:\n' + versus(actual, expected));
}

function notDeepStrictEqual(actual, expected, message) {
  if (!isDeepStrictEqual(actual, expected)) return;
  report(actual, expected, 'notDeepStrictEqual', message, `Expected "actual" not to be strictly deep-equal to: ${inspect(expected)}`);
}

const NOTHING = Symbol('nothing thrown');

function thrownBy(fn) {
  if (typeof fn !== 'function') throw invalidArgType('fn', 'of type function', fn);
  try {
    fn();
  } catch (err) {
    return err;
  }
  return NOTHING;
}

const isThenable = (value) => value !== null && typeof value === 'object' && typeof value.then === 'function';

// A function's sync throw rejects the returned promise with it, as in Node.
async function rejectionOf(promiseFn) {
  let promise = promiseFn;
  if (typeof promiseFn === 'function') {
    promise = promiseFn();
    if (!isThenable(promise)) {
      throw codedError(TypeError, 'ERR_INVALID_RETURN_VALUE', `Expected instance of Promise to be returned from the "promiseFn" function but got ${received(promise).replace(/^Received /, '')}.`);
    }
  } else if (!isThenable(promiseFn)) {
    throw invalidArgType('promiseFn', 'of type function or an instance of Promise', promiseFn);
  }
  try {
    await promise;
  } catch (err) {
    return err;
  }
  return NOTHING;
}

function expectsError(operator, actual, error, message) {
  if (typeof error === 'string') [message, error] = [error, undefined];
  if (actual === NOTHING) {
    const kind = operator === 'rejects' ? 'rejection' : 'exception';
    const name = error && error.name ? ` (${error.name})` : '';
    report(undefined, error, operator, undefined, `Missing expected ${kind}${name}${message ? ': ' + message : '.'}`, true);
  }
  if (error !== undefined) matches(actual, error, operator, message);
}

function expectsNoError(operator, actual, error, message) {
  if (actual === NOTHING) return;
  if (typeof error === 'string') [message, error] = [error, undefined];
  if (error === undefined || isMatching(actual, error)) {
    const kind = operator === 'doesNotReject' ? 'rejection' : 'exception';
    report(actual, error, operator, undefined, `Got unwanted ${kind}${message ? ': ' + message : '.'}\nActual message: "${actual?.message}"`, true);
  }
  throw actual;
}

function throws(fn, error, message) {
  expectsError('throws', thrownBy(fn), error, message);
}

async function rejects(promiseFn, error, message) {
  expectsError('rejects', await rejectionOf(promiseFn), error, message);
}

function doesNotThrow(fn, error, message) {
  expectsNoError('doesNotThrow', thrownBy(fn), error, message);
}

async function doesNotReject(promiseFn, error, message) {
  expectsNoError('doesNotReject', await rejectionOf(promiseFn), error, message);
}

function checkRegExp(regexp) {
  if (!(regexp instanceof RegExp)) throw invalidArgType('regexp', 'an instance of RegExp', regexp);
}

function match(string, regexp, message) {
  checkRegExp(regexp);
  if (typeof string === 'string' && regexp.test(string)) return;
  const generated = typeof string !== 'string'
    ? `The "string" argument must be of type string. ${received(string)}`
    : `The input did not match the regular expression ${inspect(regexp)}. Input:\n\n${inspect(string)}\n`;
  report(string, regexp, 'match', message, generated);
}

function doesNotMatch(string, regexp, message) {
  checkRegExp(regexp);
  if (typeof string === 'string' && !regexp.test(string)) return;
  const generated = typeof string !== 'string'
    ? `The "string" argument must be of type string. ${received(string)}`
    : `The input was expected to not match the regular expression ${inspect(regexp)}. Input:\n\n${inspect(string)}\n`;
  report(string, regexp, 'doesNotMatch', message, generated);
}

function fail(message) {
  report(undefined, undefined, 'fail', message, 'Failed');
}

function ifError(value) {
  if (value === null || value === undefined) return;
  const said = value && typeof value.message === 'string' ? value.message || value.constructor?.name : inspect(value);
  report(value, null, 'ifError', undefined, 'ifError got unwanted exception: ' + said, true);
}

Object.assign(assert, {
  ok, equal, notEqual, strictEqual, notStrictEqual, deepEqual, notDeepEqual, deepStrictEqual,
  notDeepStrictEqual, throws, rejects, doesNotThrow, doesNotReject, match, doesNotMatch, fail,
  ifError, AssertionError,
});

function strict(...args) {
  innerOk(args);
}
Object.assign(strict, assert, {
  equal: strictEqual,
  notEqual: notStrictEqual,
  deepEqual: deepStrictEqual,
  notDeepEqual: notDeepStrictEqual,
});
strict.strict = strict;
assert.strict = strict;

module.exports = assert;
