// Injected by esbuild in place of globals that libraries expect and the host's start compartment
// lacks (or has from pythonmonkey, which must never be picked up): TextEncoder/TextDecoder for
// whatwg-url, and SharedArrayBuffer for webidl-conversions' brand checks. SpiderMonkey here has
// no SharedArrayBuffer, so the stand-in's byteLength getter rejects every value, as the real one
// would reject every non-shared buffer.
export { TextDecoder, TextEncoder } from '@exodus/bytes/encoding.js';

class NoSharedArrayBuffer {
  get byteLength() {
    throw new TypeError('not a SharedArrayBuffer');
  }

  get growable() {
    throw new TypeError('not a SharedArrayBuffer');
  }
}

const SharedArrayBuffer = typeof globalThis.SharedArrayBuffer === 'function' ? globalThis.SharedArrayBuffer : NoSharedArrayBuffer;
export { SharedArrayBuffer };
