// AssertionError as Node's: `actual`, `expected`, `operator`, `generatedMessage` and
// code 'ERR_ASSERTION', which test runners and libraries read.
import { makeInspector } from '../../inspect.js';

const inspector = makeInspector({ filename: 'worker', firstLineShift: 0 });
export const inspect = (value) => inspector.inspectValue(value);

export class AssertionError extends Error {
  constructor(options) {
    if (options === null || typeof options !== 'object') {
      throw Object.assign(new TypeError('The "options" argument must be of type object'), { code: 'ERR_INVALID_ARG_TYPE' });
    }
    const { message, actual, expected, operator } = options;
    super(message != null ? String(message) : `${inspect(actual)} ${operator} ${inspect(expected)}`);
    this.generatedMessage = message == null;
    this.code = 'ERR_ASSERTION';
    this.actual = actual;
    this.expected = expected;
    this.operator = operator;
  }

  get name() {
    return 'AssertionError';
  }

  toString() {
    return `${this.name} [${this.code}]: ${this.message}`;
  }
}
