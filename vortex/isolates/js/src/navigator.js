// `navigator`, as Cloudflare Workers give it. Libraries tell the runtime by its userAgent (Hono's
// getRuntimeKey, database drivers choosing a socket API): Vortex runs Workers code, so it answers
// as Workers do. One frozen instance serves every run: nothing in it belongs to a run.
import { defineToStringTag } from './util.js';

const CONSTRUCT = Symbol('construct');

export class Navigator {
  constructor(key) {
    if (key !== CONSTRUCT) throw new TypeError('Illegal constructor');
  }

  get userAgent() {
    return 'Cloudflare-Workers';
  }

  // A run is given one thread, whatever the machine has (as on Workers).
  get hardwareConcurrency() {
    return 1;
  }

  get language() {
    return 'en';
  }

  get languages() {
    return ['en'];
  }

  // Empty, as workerd answers: no operating system to name. Libraries that test it
  // (`navigator.platform.includes('Mac')`) threw on undefined before.
  get platform() {
    return '';
  }
}
defineToStringTag(Navigator, 'Navigator');

export const navigator = new Navigator(CONSTRUCT);
