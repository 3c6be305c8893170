// What every part of the runtime shares: the host bridge (host.py's `host` object, guarded), the
// web APIs' internals, the runs of this host by id, the intrinsics as they are after lockdown,
// and the error a limit throws. Set once: `prepare` (index.js) runs once per host, since
// lockdown cannot run twice.
export let host = null;
export let api = null;
export const runs = new Map();
export let Date;
export let Math;
export let JSON;
export let ErrorCtor;
export let LimitError;

export const WRAP_PREFIX = '(async function () {';
export const CHECK_PREFIX = "'use strict';";
// The real AsyncFunction constructor puts the body two lines down.
export const CHECK_LINE_OFFSET = 2;
export const RANDOM_BATCH = 4096;
// Module runs report positions in the built script under this name; the server maps them back
// to the uploaded files through the source map (vortex/modules/sourcemap.py).
export const BUNDLE_NAME = 'vortex-bundle';

export function setInternals(internals) {
  api = internals;
}

// Called right after lockdown: what the runtime's code means by these names from then on.
export function captureIntrinsics() {
  ({ Date, Math, JSON, Error: ErrorCtor } = globalThis);
}

export function bindHost(guarded) {
  host = guarded;
  LimitError = class LimitError extends ErrorCtor {};
  harden(LimitError);
}
