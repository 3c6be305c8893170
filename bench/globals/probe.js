// What a Worker sees around it, as JSON: every own name of globalThis with its typeof, and for
// each global that is a class or a namespace, its static members and its prototype's (kind and,
// for functions, length), with the name of the class it extends and its toString tag. Also the
// instances a fetch handler gets (request, request.cf, env, ctx) and a few it makes.
// bench/globals.py serves this on workerd and on Vortex and prints what differs.

function member(holder, key) {
  const d = Object.getOwnPropertyDescriptor(holder, key);
  if (d.get || d.set) return `accessor${d.get ? '' : ' (set only)'}`;
  if (typeof d.value === 'function') return `function/${d.value.length}`;
  return typeof d.value;
}

function members(holder) {
  if (holder === null || holder === undefined) return null;
  // Entries, not assignments: under SES an assignment to a name Object.prototype holds
  // ("constructor", "toString") throws.
  const out = [];
  for (const key of Reflect.ownKeys(holder)) {
    const name = typeof key === 'symbol' ? `[${key.description}]` : key;
    try { out.push([name, member(holder, key)]); } catch (e) { out.push([name, `error ${e.name}`]); }
  }
  return Object.fromEntries(out);
}

function parentName(proto) {
  const parent = proto && Object.getPrototypeOf(proto);
  if (!parent) return null;
  // Read, not described: SES makes the intrinsics' constructor an accessor.
  const ctor = Object.prototype.hasOwnProperty.call(parent, 'constructor') ? parent.constructor : null;
  return typeof ctor === 'function' ? ctor.name : '?';
}

function describe(value) {
  if (typeof value === 'function') {
    const proto = value.prototype;
    return {
      typeof: 'function',
      name: value.name,
      length: value.length,
      tag: Object.prototype.toString.call(value),
      static: members(value),
      prototype: proto && typeof proto === 'object' ? members(proto) : null,
      extends: proto && typeof proto === 'object' ? parentName(proto) : null,
    };
  }
  if (value !== null && typeof value === 'object') {
    const proto = Object.getPrototypeOf(value);
    return {
      typeof: 'object',
      tag: Object.prototype.toString.call(value),
      own: members(value),
      class: proto && proto.constructor ? proto.constructor.name : null,
      classPrototype: proto && proto !== Object.prototype ? members(proto) : null,
    };
  }
  return { typeof: typeof value };
}

function safe(make) {
  try { return describe(make()); } catch (e) { return { error: `${e.name}: ${e.message}` }; }
}

export default {
  async fetch(request, env, ctx) {
    // workerd keeps its web APIs on ServiceWorkerGlobalScope.prototype and Vortex its shared
    // ones on a frozen object the global inherits from: both are globals to code, so the names
    // are the whole chain's, short of Object.prototype.
    const names = new Set();
    for (let o = globalThis; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
      for (const name of Object.getOwnPropertyNames(o)) names.add(name);
    }
    names.delete('constructor');
    const globals = {};
    for (const name of names) {
      let kind;
      try { kind = typeof globalThis[name]; } catch (e) { kind = `error ${e.name}`; }
      Object.defineProperty(globals, name, { value: kind, enumerable: true });
    }
    const details = Object.create(null);
    for (const name of names) {
      if (name === 'globalThis' || name === 'self') continue;
      let value;
      try { value = globalThis[name]; } catch { continue; }
      if (typeof value === 'function' || (value && typeof value === 'object')) {
        Object.defineProperty(details, name, { value: safe(() => value), enumerable: true });
      }
    }
    const body = new Response('x');
    const instances = {
      request: safe(() => request),
      'request.cf': safe(() => request.cf),
      'request.signal': safe(() => request.signal),
      env: safe(() => env),
      ctx: safe(() => ctx),
      response: safe(() => body),
      'response.body': safe(() => body.body),
      headers: safe(() => new Headers()),
      'crypto.subtle': safe(() => crypto.subtle),
      'caches.default': safe(() => caches.default),
      navigator: safe(() => navigator),
      performance: safe(() => performance),
      scheduler: safe(() => scheduler),
      'ReadableStream.getReader()': safe(() => new ReadableStream().getReader()),
      'WritableStream.getWriter()': safe(() => new WritableStream().getWriter()),
      'new TextEncoder()': safe(() => new TextEncoder()),
      'new AbortController().signal': safe(() => new AbortController().signal),
      'new URL()': safe(() => new URL('https://a.example/p?q=1')),
      'new URL().searchParams': safe(() => new URL('https://a.example/p?q=1').searchParams),
      'new FormData()': safe(() => new FormData()),
      'new Blob()': safe(() => new Blob(['x'])),
      'new File()': safe(() => new File(['x'], 'f')),
      'new Event()': safe(() => new Event('x')),
      'WebSocketPair': safe(() => new WebSocketPair()[0]),
      'new HTMLRewriter()': safe(() => new HTMLRewriter()),
    };
    const tags = {};
    for (const [name, make] of Object.entries({
      request: () => request, ctx: () => ctx, env: () => env, cf: () => request.cf,
      headers: () => new Headers(), crypto: () => crypto, subtle: () => crypto.subtle,
      caches: () => caches, cache: () => caches.default, navigator: () => navigator,
      performance: () => performance, scheduler: () => scheduler, global: () => globalThis,
      readable: () => new ReadableStream(), blob: () => new Blob([]),
      formData: () => new FormData(), signal: () => AbortSignal.abort(),
      websocket: () => new WebSocketPair()[0], rewriter: () => new HTMLRewriter(),
      usp: () => new URLSearchParams(), textDecoder: () => new TextDecoder(),
      digest: () => new crypto.DigestStream('SHA-256'),
    })) {
      try { tags[name] = Object.prototype.toString.call(make()); } catch (e) { tags[name] = `error ${e.name}`; }
    }
    return Response.json({ globals, details, instances, tags });
  },
};
