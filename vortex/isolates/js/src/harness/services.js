// env.AUTH (the deploy's "services"): a service binding, whose fetch runs the function it names
// as a run of its own (vortex/services/binding.py) and resolves to that run's Response. The
// request crosses as its URL, method, headers and body bytes; the answer as status, headers and
// the body's bytes, read whole by the server. Other methods are RPC (rpc.js is the target's side).
import { ErrorCtor } from './platform.js';
import { bindingError, callBinding } from './bindings.js';
import { sharedGlobal } from './sharedglobal.js';

const NO_BODY = [101, 204, 205, 304];
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

export function makeService(live, key, describe) {
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
      const headers = [...request.headers];
      const send = (body) => callBinding(live(), key, 'fetch', { url: request.url, method: request.method, headers }, body);
      const sent =
        request.body === null
          ? send(undefined)
          : request.arrayBuffer().then((buffer) => {
              if (buffer.byteLength > maxBytes) throw tooLarge('the request body');
              return send(new Uint8Array(buffer));
            });
      return sent.then((answer) => {
        const { status, status_text: statusText, headers: answered } = answer.result;
        const bodyless = NO_BODY.includes(status) || request.method === 'HEAD';
        return new sharedGlobal.Response(bodyless ? null : answer.bytes, { status, statusText, headers: answered });
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
