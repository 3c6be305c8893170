// WebAssembly memories held to the run's memory limit, as ArrayBuffers are
// (harness/allocations.js): a memory is one allocation, and a `memory.fill` instruction over it
// one memset, which no interrupt check of the host stops. Made or grown from JavaScript, a memory
// is checked; a module's own memory is checked at compilation, and the module is compiled with
// a maximum of the limit written into it, so that its `memory.grow` instruction fails past it
// (-1, as when the engine has no more to give) rather than take the host's memory.

const PAGE = 65536;
const MEMORY_SECTION = 5;

let checkAllocation = (bytes) => {};
let limitBytes = () => 0;

// Set by the harness once it has guarded the buffers: `check(bytes)` ends the run past its
// limit, `limit()` is the running run's limit in bytes (0: none).
export function setAllocationCheck(check, limit) {
  checkAllocation = check;
  limitBytes = limit;
}

function readLEB(bytes, start) {
  let value = 0;
  let at = start;
  for (let shift = 0; ; shift += 7) {
    if (at >= bytes.length) throw new RangeError('truncated');
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    if (byte < 0x80) return [value, at];
  }
}

function writeLEB(value) {
  const out = [];
  let rest = value;
  do {
    const low = rest & 0x7f;
    rest = Math.floor(rest / 128);
    out.push(rest > 0 ? low | 0x80 : low);
  } while (rest > 0);
  return out;
}

function bytesOf(source) {
  if (source instanceof ArrayBuffer) return new Uint8Array(source);
  if (ArrayBuffer.isView(source)) return new Uint8Array(source.buffer, source.byteOffset, source.byteLength);
  return null;
}

// The module's own memories, read from its memory section: { bytes, at, end, memories:
// [{ flags, initial, maximum }], whole } (at..end: the whole section; whole: the entries fill
// it exactly), or null when it has none or the bytes are not a module (the engine says why).
function memorySection(source) {
  const bytes = bytesOf(source);
  if (bytes === null || bytes.length < 8) return null;
  try {
    for (let at = 8; at < bytes.length; ) {
      const [size, start] = readLEB(bytes, at + 1);
      const end = start + size;
      if (bytes[at] !== MEMORY_SECTION) {
        at = end;
        continue;
      }
      let [count, cursor] = readLEB(bytes, start);
      const memories = [];
      for (; count > 0; count--) {
        const flags = bytes[cursor];
        const [initial, afterInitial] = readLEB(bytes, cursor + 1);
        let maximum = null;
        cursor = afterInitial;
        if (flags & 1) [maximum, cursor] = readLEB(bytes, cursor);
        memories.push({ flags, initial, maximum });
      }
      return { bytes, at, end, memories, whole: cursor === end };
    }
  } catch {
    return null;
  }
  return null;
}

// The bytes the module's own memories take at instantiation (their minimum pages).
export function declaredMemoryBytes(source) {
  const section = memorySection(source);
  return section === null ? 0 : section.memories.reduce((total, m) => total + m.initial * PAGE, 0);
}

// The module's bytes with each of its own 32-bit, unshared memories given a maximum of at most
// `pages`; the same `source` when there is nothing to change or it is not a module's.
export function withMaximumAtMost(source, pages) {
  const section = memorySection(source);
  if (section === null || !section.whole) return source;
  const { bytes, at, end, memories } = section;
  const content = [...writeLEB(memories.length)];
  let changed = false;
  for (const { flags, initial, maximum } of memories) {
    if (flags > 1 || (maximum !== null && maximum <= pages)) {
      // Shared or 64-bit (left to the engine), or capped already: copied as it is.
      content.push(flags, ...writeLEB(initial));
      if (maximum !== null) content.push(...writeLEB(maximum));
    } else {
      content.push(1, ...writeLEB(initial), ...writeLEB(Math.max(initial, pages)));
      changed = true;
    }
  }
  if (!changed) return source;
  const written = [MEMORY_SECTION, ...writeLEB(content.length), ...content];
  const out = new Uint8Array(at + written.length + bytes.length - end);
  out.set(bytes.subarray(0, at));
  out.set(written, at);
  out.set(bytes.subarray(end), at + written.length);
  return out;
}

// The namespace's Memory and Module, checked; `grow` on the engine's Memory prototype too.
export function guardMemories(native, namespace) {
  const { Memory, Module } = native;
  const guardedMemory = new Proxy(Memory, {
    construct(target, args, newTarget) {
      let descriptor = args[0];
      if (typeof descriptor === 'object' && descriptor !== null && !descriptor.shared) {
        const initial = Number(descriptor.initial ?? descriptor.minimum);
        checkAllocation(initial * PAGE);
        // Imported into a module, its memory.grow instruction is held to this maximum.
        const pages = Math.floor(limitBytes() / PAGE);
        const maximum = descriptor.maximum === undefined ? Infinity : Number(descriptor.maximum);
        if (pages > 0 && pages >= initial && !(maximum <= pages)) {
          descriptor = { ...descriptor, initial, maximum: pages };
          delete descriptor.minimum;
        }
      }
      return Reflect.construct(target, [descriptor, ...args.slice(1)], newTarget === guardedMemory ? target : newTarget);
    },
  });
  const guardedModule = new Proxy(Module, {
    construct(target, args, newTarget) {
      checkAllocation(declaredMemoryBytes(args[0]));
      const pages = Math.floor(limitBytes() / PAGE);
      const capped = pages > 0 ? [withMaximumAtMost(args[0], pages), ...args.slice(1)] : args;
      return Reflect.construct(target, capped, newTarget === guardedModule ? target : newTarget);
    },
  });
  const prototype = Memory.prototype;
  const grow = prototype.grow;
  const bufferOf = Object.getOwnPropertyDescriptor(prototype, 'buffer').get;
  Object.defineProperty(prototype, 'grow', {
    value: {
      grow(delta) {
        checkAllocation(Reflect.apply(bufferOf, this, []).byteLength + Number(delta) * PAGE);
        return Reflect.apply(grow, this, [delta]);
      },
    }.grow,
    writable: true,
    enumerable: false,
    configurable: true,
  });
  for (const [name, value] of [['Memory', guardedMemory], ['Module', guardedModule]]) {
    Object.defineProperty(namespace, name, { ...Object.getOwnPropertyDescriptor(native, name), value });
  }
  return { Module: guardedModule };
}
