// env.AUTH (the deploy's "services"): a service binding, whose fetch runs the function it names
// as a run of its own (vortex/services/binding.py) and resolves to that run's Response. The
// request goes as the run's fetch() sends one (its URL, method, headers and body bytes), to the
// function rather than the network, and the answer comes back as a fetch()'s does: its head,
// then its body streamed as the caller reads it. Other methods are RPC (rpc.js is the target's
// side).
import { ErrorCtor } from './platform.js';
import { bindingError, callBinding } from './bindings.js';
import { sharedGlobal } from './sharedglobal.js';
// Looked up by code that checks for a thenable or a JSON shape: not methods of the service.
const NOT_METHODS = ['then', 'toJSON', 'asymmetricMatch'];
const ERRORS = { TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError };

// The target's error, as workerd rethrows it in the caller: its name and message.
function remoteError({ name, message }) {
  const Ctor = Object.prototype.hasOwnProperty.call(ERRORS, name) ? ERRORS[name] : ErrorCtor;
  const error = new Ctor(String(message));
  if (Ctor === ErrorCtor && name !== 'Error') {
    Object.defineProperty(error, 'name', { value: String(name), writable: true, configurable: true });
  }
  return error;
}

// `fetcherOf(state)`: the run's fetch machinery (endowments.js), which the binding's fetch goes
// through with its key.
export function makeService(live, key, describe, fetcherOf) {
  const label = 'env.' + describe.name;
  const maxBytes = Number(describe.max_bytes) || Infinity;
  const tooLarge = (what) => bindingError('service_request_too_large', label + ': ' + what + ' is larger than ' + maxBytes + ' bytes');
  const target = harden({
    fetch(input, init) {
      let request;
      try {
        request = new sharedGlobal.Request(input, init);
      } catch (error) {
        return Promise.reject(error);
      }
      // Read first, so that the limit is said as the binding's (a frame past the pipe's own
      // limit would cost the caller's host).
      const read = request.body === null ? Promise.resolve(null) : request.arrayBuffer();
      return read.then((buffer) => {
        if (buffer !== null && buffer.byteLength > maxBytes) throw tooLarge('the request body');
        const sent = { method: request.method, headers: request.headers, body: buffer, redirect: 'manual', signal: request.signal };
        return fetcherOf(live()).fetchService(key, request.url, sent);
      });
    },
  });
  // Any other property is an RPC method, as on Workers' stubs: env.AUTH.verify(token) calls
  // verify(token) on the target's WorkerEntrypoint class; arguments and result cross as JSON.
  return new Proxy(target, {
    get(object, property, receiver) {
      if (typeof property !== 'string' || property in object || NOT_METHODS.includes(property)) {
        return Reflect.get(object, property, receiver);
      }
      return (...args) => {
        let text;
        try {
          text = JSON.stringify(args);
        } catch (error) {
          return Promise.reject(error);
        }
        // A UTF-16 unit is at least a byte of UTF-8: longer than the limit is over it for sure.
        if (text.length > maxBytes) return Promise.reject(tooLarge('the arguments of ' + property + '()'));
        return callBinding(live(), key, 'rpc', { method: property, args }).then((answer) => {
          const result = answer.result;
          if (result.error === undefined) return result.value;
          throw remoteError(result.error);
        });
      };
    },
  });
}
