// WebAssembly for runs: the engine's own (SpiderMonkey compiles and runs the modules; its
// interrupt checks in wasm loops let the host stop a runaway one), in a namespace object of our
// own, so that what the runs share is frozen by the harness with the other web globals (SES
// leaves the engine's WebAssembly outside its intrinsics, mutable).
//
// compile and instantiate compile in the caller's turn. The engine's own compile on helper
// threads and settle their promise from a callback that pythonmonkey runs in no run's context:
// the code after `await WebAssembly.instantiate(...)` then ran as nobody's turn, its CPU
// charged to no run and out of reach of the host's interrupt (a wasm loop there was stopped
// only by the supervisor killing the host). compileStreaming and instantiateStreaming take a
// Response, as in browsers and Workers (the engine's need a streaming hook this embedding
// lacks).
import { responseInternals } from './response.js';
import { guardMemories } from './wasmlimits.js';

const native = globalThis.WebAssembly;

async function wasmBytes(source, method) {
  const response = await source;
  if (!responseInternals.is(response)) {
    throw new TypeError(`WebAssembly.${method}: the argument must be a Response or a promise of one`);
  }
  const type = response.headers.get('content-type');
  if (type === null || type.split(';')[0].trim().toLowerCase() !== 'application/wasm') {
    throw new TypeError(`WebAssembly.${method}: the response's Content-Type must be application/wasm`);
  }
  if (!response.ok) throw new TypeError(`WebAssembly.${method}: the response's status is ${response.status}`);
  return response.arrayBuffer();
}

function makeNamespace() {
  if (typeof native !== 'object' || native === null) return undefined;
  const namespace = {};
  for (const key of Reflect.ownKeys(native)) {
    Object.defineProperty(namespace, key, Object.getOwnPropertyDescriptor(native, key));
  }
  const { Instance } = native;
  const { Module } = guardMemories(native, namespace);
  // Methods, as the engine's are: no [[Construct]], a name and a length.
  const methods = {
    compile(bytes) {
      return new Promise((resolve) => resolve(new Module(bytes)));
    },
    instantiate(source, imports = undefined) {
      return new Promise((resolve) => {
        if (source instanceof Module) {
          resolve(new Instance(source, imports));
        } else {
          const module = new Module(source);
          resolve({ module, instance: new Instance(module, imports) });
        }
      });
    },
    async compileStreaming(source) {
      return new Module(await wasmBytes(source, 'compileStreaming'));
    },
    async instantiateStreaming(source, imports = undefined) {
      const module = new Module(await wasmBytes(source, 'instantiateStreaming'));
      return { module, instance: new Instance(module, imports) };
    },
  };
  for (const name of Object.keys(methods)) {
    Object.defineProperty(namespace, name, { value: methods[name], writable: true, enumerable: false, configurable: true });
  }
  return namespace;
}

export const WebAssembly = makeNamespace();
export const engineModule = typeof native === 'object' && native !== null ? native.Module : undefined;
