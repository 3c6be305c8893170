// A service binding's RPC call to this module (vortex/services/binding.py): `env.AUTH.verify(t)`
// in the caller makes a run here that calls `verify(t)` on a new instance of the default
// export's class, `new Cls(ctx, env)`, as workerd calls a WorkerEntrypoint's method. The result,
// or the error thrown, is answered as a Response whose body is JSON, {value} or {error}, so it
// crosses as any response does and the caller resolves as soon as it is there; the run itself
// ends once its waitUntil promises have settled.
import { JSON, api, host } from './platform.js';
import { describeThrown } from './logs.js';
import { fail, handlerFailed, settleIfIdle } from './ending.js';
import { newState } from './state.js';
import { afterTopLevel, entryExport, instanceOrFail } from './instances.js';
import { sharedGlobal } from './sharedglobal.js';
import { makeContext } from './context.js';

// Reached through fetch and cron, or the object machinery: never callable by RPC.
const RESERVED = ['constructor', 'fetch', 'scheduled', 'connect', 'queue', 'tail', 'email', 'trace', 'alarm', 'webSocketMessage', 'webSocketClose', 'webSocketError'];

function methodOf(handler, method) {
  if (RESERVED.includes(method) || method.startsWith('__') || method in Object.prototype) return false;
  if (typeof handler !== 'function') return false;
  const prototype = handler.prototype;
  return typeof prototype === 'object' && prototype !== null && typeof prototype[method] === 'function';
}

function answer(state, payload) {
  if (state.done || state.responded) return;
  let text;
  try {
    text = JSON.stringify(payload);
  } catch (err) {
    text = JSON.stringify({ error: { name: 'TypeError', message: 'The result could not be sent back: ' + String(err && err.message) } });
  }
  const bytes = new sharedGlobal.TextEncoder().encode(text);
  const head = JSON.stringify({ status: 200, statusText: '', headers: [['content-type', 'application/json']] });
  host.respond(state.id, head, api.bytesToBinary(bytes), false);
  state.responded = true;
}

function thrown(state, err) {
  const name = err !== null && typeof err === 'object' && typeof err.name === 'string' ? err.name : 'Error';
  const message = err !== null && typeof err === 'object' ? String(err.message) : String(err);
  answer(state, { error: { name, message } });
  // The caller has its answer; the run's waitUntil work goes on, as in workerd.
  if (!state.done) handlerFailed(state, describeThrown(state, err), false);
}

export function runRpc(id, script, limitsJson, filename, envJson, bindingsJson, instanceKey, callJson) {
  const state = newState(id, limitsJson, filename, true);
  const instance = instanceOrFail(state, instanceKey, script, envJson, bindingsJson);
  if (instance === undefined) return;
  afterTopLevel(state, () => serveCall(state, instance, callJson));
}

// The call names the method, its arguments and the entrypoint: null for the default export, or
// a service binding's named one (an export of the module of that name).
function serveCall(state, instance, callJson) {
  const call = JSON.parse(api.hostText(callJson));
  const method = String(call.method);
  const entrypoint = typeof call.entrypoint === 'string' ? call.entrypoint : null;
  if (call.props !== null && typeof call.props === 'object') state.props = call.props;
  let result;
  try {
    const handler = entryExport(instance, entrypoint);
    if (entrypoint !== null && handler === undefined) {
      fail(state, 'entrypoint_not_found', 'RPC: the module has no export named ' + entrypoint + ', the entrypoint its service binding names: export class ' + entrypoint + ' extends WorkerEntrypoint { async ' + method + '(...args) { ... } }');
      return;
    }
    if (!methodOf(handler, method)) {
      const which = entrypoint === null ? 'its default export' : 'its export ' + entrypoint;
      const what = typeof handler === 'function' ? which + ' has no method ' + method + '()' : which + ' is not a class';
      const shape = entrypoint === null ? 'export default class' : 'export class ' + entrypoint;
      fail(state, 'rpc_method_not_found', 'RPC: ' + what + ': ' + shape + ' extends WorkerEntrypoint { async ' + method + '(...args) { ... } }');
      return;
    }
    const object = new handler(makeContext(state), instance.env);
    result = object[method](...call.args);
  } catch (err) {
    thrown(state, err);
    return;
  }
  Promise.resolve(result).then(
    (value) => {
      answer(state, value === undefined ? {} : { value });
      settleIfIdle(state);
    },
    (err) => thrown(state, err),
  );
}
