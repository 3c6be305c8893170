// whatwg-url's URLSearchParams, iterated in linear time. Its generated iterator (webidl2js)
// copies the whole list at every step (`Array.from` in `next`), as its `forEach` does after
// every callback: a loop over the params of a 60 KB query string spent a run's second of CPU,
// and so did `request.formData()` of a large urlencoded body, which iterates one. Both read the
// live list by index here, as the spec's iterator does (an entry added during the loop is
// reached, one removed before the index is skipped).
import { URLSearchParams } from 'whatwg-url';
import utils from 'whatwg-url/lib/utils.js';

const { implSymbol, iterInternalSymbol } = utils;
const iteratorPrototype = Object.getPrototypeOf(new URLSearchParams().entries());

// The live list of a URLSearchParams, or undefined for any other value.
function listOf(params) {
  const impl = params === null || params === undefined ? undefined : params[implSymbol];
  return impl === undefined ? undefined : impl._list;
}

Object.defineProperty(iteratorPrototype, 'next', {
  value: function next() {
    const internal = this !== null && this !== undefined ? this[iterInternalSymbol] : undefined;
    if (!internal) throw new TypeError('next() called on a value that is not a URLSearchParams iterator object');
    const list = listOf(internal.target);
    const index = internal.index;
    if (index >= list.length) return { value: undefined, done: true };
    internal.index = index + 1;
    const [name, value] = list[index];
    if (internal.kind === 'key') return { value: name, done: false };
    if (internal.kind === 'value') return { value, done: false };
    return { value: [name, value], done: false };
  },
  writable: true,
  enumerable: true,
  configurable: true,
});

const checkedForEach = URLSearchParams.prototype.forEach;

Object.defineProperty(URLSearchParams.prototype, 'forEach', {
  value: function forEach(callback) {
    // whatwg-url's own checks of the receiver and the callback, with an empty list to walk.
    if (listOf(this) === undefined || typeof callback !== 'function') {
      return checkedForEach.apply(this, arguments);
    }
    const thisArg = arguments[1];
    const list = listOf(this);
    for (let i = 0; i < list.length; i += 1) {
      const [name, value] = list[i];
      callback.call(thisArg, value, name, this);
    }
    return undefined;
  },
  writable: true,
  enumerable: true,
  configurable: true,
});

export { URLSearchParams };
