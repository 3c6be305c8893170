// env.ASSETS (the name is the deploy's): a Fetcher over the version's static assets, answered
// by the server (vortex/assets/binding.py) with the status, headers and bytes of the asset the
// request names, after the same html_handling and not_found_handling as the listener's.
import { callBinding } from './bindings.js';
import { sharedGlobal } from './sharedglobal.js';

// Workers resolve the request's path only: any origin does, and a bare path is taken too.
const ORIGIN = 'http://assets.invalid';
const NO_BODY = [101, 204, 205, 304];

export function makeAssets(live) {
  return harden({
    fetch(input, init) {
      let request;
      try {
        const relative = typeof input === 'string' && input.startsWith('/');
        request = new sharedGlobal.Request(relative ? ORIGIN + input : input, init);
      } catch (error) {
        return Promise.reject(error);
      }
      const args = { url: request.url, method: request.method, if_none_match: request.headers.get('if-none-match') };
      return callBinding(live(), 'assets', 'fetch', args).then((answer) => {
        const { status, headers } = answer.result;
        const bodyless = NO_BODY.includes(status) || request.method === 'HEAD';
        return new sharedGlobal.Response(bodyless ? null : answer.bytes, { status, headers });
      });
    },
  });
}
